/** readServerConfig: defaults, variables, and clear errors for bad values. */
import { join } from "node:path";
import { CrossauthError } from "@crossauth/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readServerConfig } from "../src/config.js";
import { EnvFixture } from "./env-fixture.js";

let env: EnvFixture;
beforeEach(() => {
  env = new EnvFixture();
  env.set({ CROSSAUTH_DATA_DIR: undefined, CROSSAUTH_PBKDF2_ITERATIONS: undefined });
});
afterEach(() => env.restore());

function configError(): string {
  try {
    readServerConfig("/srv/app");
  } catch (e) {
    expect(e).toBeInstanceOf(CrossauthError);
    expect((e as CrossauthError).codeName).toBe("Configuration");
    return (e as CrossauthError).message;
  }
  throw new Error("expected a configuration error");
}

describe("readServerConfig", () => {
  it("has development defaults: port 3000, ./data, SQLite, console email, no Secure cookies", () => {
    expect(readServerConfig("/srv/app")).toEqual({
      production: false,
      port: 3000,
      host: "localhost",
      dataDir: "/srv/app/data",
      databaseUrl: "sqlite:///srv/app/data/crossauth.db",
      secret: undefined,
      siteUrl: "http://localhost:3000",
      siteName: "Crossauth",
      emailTransport: "console",
      emailFrom: "Crossauth <noreply@localhost>",
      allowedFactor2: ["totp", "email"],
      userEditableFields: ["email"],
      sessionCookieSecure: false,
      csrfCookieSecure: false,
      passwordPbkdf2Iterations: undefined,
      passwordHashThreads: undefined,
      purgeInterval: 3600,
      serverLogLevel: "info",
    });
  });

  it("reads every variable", () => {
    env.set({
      NODE_ENV: "production",
      PORT: "8080",
      HOST: "127.0.0.1",
      CROSSAUTH_DATA_DIR: "var/lib",
      DATABASE_URL: "postgres://user:pw@db/crossauth",
      CROSSAUTH_SECRET: "s3cret-value",
      CROSSAUTH_SITE_URL: "https://auth.example.com/",
      CROSSAUTH_SITE_NAME: "Example",
      CROSSAUTH_SMTP_HOST: "mail.example.com",
      CROSSAUTH_EMAIL_FROM: "Example <noreply@example.com>",
      CROSSAUTH_ALLOWED_FACTOR2: '["totp"]',
      CROSSAUTH_USER_EDITABLE_FIELDS: '["email","phone"]',
      CROSSAUTH_SESSION_COOKIE_SECURE: "false",
      CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS: "700000",
      CROSSAUTH_PASSWORD_HASH_THREADS: "3",
      CROSSAUTH_PURGE_INTERVAL: "0",
      CROSSAUTH_SERVER_LOG_LEVEL: "warn",
    });
    expect(readServerConfig("/srv/app")).toEqual({
      production: true,
      port: 8080,
      host: "127.0.0.1",
      dataDir: "/srv/app/var/lib",
      databaseUrl: "postgres://user:pw@db/crossauth",
      secret: "s3cret-value",
      siteUrl: "https://auth.example.com",
      siteName: "Example",
      emailTransport: "smtp",
      emailFrom: "Example <noreply@example.com>",
      allowedFactor2: ["totp"],
      userEditableFields: ["email", "phone"],
      sessionCookieSecure: false,
      csrfCookieSecure: true,
      passwordPbkdf2Iterations: 700000,
      passwordHashThreads: 3,
      purgeInterval: 0,
      serverLogLevel: "warn",
    });
  });

  it("listens on all interfaces in production unless HOST says otherwise", () => {
    env.set({ NODE_ENV: "production", CROSSAUTH_SMTP_HOST: "mail", CROSSAUTH_EMAIL_FROM: "a@example.com" });
    expect(readServerConfig().host).toBe("0.0.0.0");
  });

  it("derives the site URL from PORT, and keeps an absolute data directory", () => {
    env.set({ PORT: "4000", CROSSAUTH_DATA_DIR: "/var/crossauth" });
    const config = readServerConfig("/srv/app");
    expect(config.siteUrl).toBe("http://localhost:4000");
    expect(config.databaseUrl).toBe(`sqlite://${join("/var/crossauth", "crossauth.db")}`);
  });

  it("CROSSAUTH_EMAIL_TRANSPORT=console prints emails even with an SMTP host, and in production", () => {
    env.set({ CROSSAUTH_SMTP_HOST: "mail", CROSSAUTH_EMAIL_TRANSPORT: "console", NODE_ENV: "production" });
    expect(readServerConfig()).toMatchObject({
      emailTransport: "console",
      emailFrom: "Crossauth <noreply@localhost>",
    });
  });

  it.each([
    [{ PORT: "http" }, "PORT must be an integer from 0 to 65535"],
    [{ PORT: "70000" }, "PORT must be an integer from 0 to 65535"],
    [{ CROSSAUTH_ALLOWED_FACTOR2: "totp" }, "CROSSAUTH_ALLOWED_FACTOR2 is not valid JSON"],
    [
      { CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS: "many" },
      "CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS must be an integer",
    ],
    [{ CROSSAUTH_PURGE_INTERVAL: "-1" }, "CROSSAUTH_PURGE_INTERVAL must be from 0 to 2147483 seconds"],
    [{ CROSSAUTH_PURGE_INTERVAL: "9999999" }, "CROSSAUTH_PURGE_INTERVAL must be from 0 to 2147483 seconds"],
    [{ CROSSAUTH_PASSWORD_HASH_THREADS: "0" }, "CROSSAUTH_PASSWORD_HASH_THREADS must be from 1 to 64"],
    [{ CROSSAUTH_PASSWORD_HASH_THREADS: "65" }, "CROSSAUTH_PASSWORD_HASH_THREADS must be from 1 to 64"],
    [{ CROSSAUTH_PASSWORD_HASH_THREADS: "1.5" }, "CROSSAUTH_PASSWORD_HASH_THREADS must be an integer"],
    [{ CROSSAUTH_EMAIL_TRANSPORT: "pigeon" }, "CROSSAUTH_EMAIL_TRANSPORT must be smtp or console"],
    [{ CROSSAUTH_SMTP_HOST: "mail" }, "CROSSAUTH_EMAIL_FROM is required to send email over SMTP"],
    [{ CROSSAUTH_SECRET: "" }, "CROSSAUTH_SECRET is set but empty"],
    [
      { CROSSAUTH_SERVER_LOG_LEVEL: "loud" },
      "CROSSAUTH_SERVER_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent",
    ],
    [
      { NODE_ENV: "production" },
      "No SMTP server in production: set CROSSAUTH_SMTP_HOST and CROSSAUTH_EMAIL_FROM " +
        "(or CROSSAUTH_EMAIL_TRANSPORT=console to print emails, with their links, to the console)",
    ],
  ])("refuses %o", (vars, message) => {
    env.set(vars);
    expect(configError()).toBe(message);
  });
});
