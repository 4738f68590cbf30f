/** The reference server with `fastify.inject` over a temporary SQLite file. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { defaultPbkdf2Pool, Pbkdf2Pool, setDefaultPbkdf2Pool } from "@crossauth/backend";
import { CrossauthError, UserState } from "@crossauth/common";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readServerConfig } from "../src/config.js";
import { createServer } from "../src/server.js";
import { EnvFixture } from "./env-fixture.js";
import {
  createUser,
  login,
  PASSWORD,
  postJson,
  type ServerFixture,
  setCookies,
  startServer,
} from "./server-fixture.js";

const SECRET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const PRODUCTION = {
  NODE_ENV: "production",
  CROSSAUTH_SECRET: SECRET,
  CROSSAUTH_SMTP_HOST: "127.0.0.1",
  CROSSAUTH_EMAIL_FROM: "Crossauth <noreply@example.com>",
};

let server: ServerFixture | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.useRealTimers();
});

async function start(vars: Record<string, string> = {}, options = {}): Promise<ServerFixture> {
  server = await startServer(vars, options);
  return server;
}

describe("home page", () => {
  it("shows an anonymous visitor links to log in, sign up and reset a password", async () => {
    const { app } = await start();
    const response = await app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(response.headers["x-frame-options"]).toBe("DENY");
    const html = response.body;
    expect(html).toContain("<title>Welcome · Crossauth</title>");
    expect(html).toContain("You are not logged in.");
    expect(html).toContain('<a href="/login">Log in</a>');
    expect(html).toContain('<a href="/signup">Create an account</a>');
    expect(html).toContain('<a href="/requestpasswordreset">Forgot your password?</a>');
    expect(html).not.toContain('action="/logout"');
    expect(html).not.toContain("You are logged in as");
  });

  it("shows a logged-in user their name, account links and a logout form with a CSRF token", async () => {
    const { app } = await start();
    await createUser(app, "alice");
    const { response: loginResponse, cookies } = await login(app, "alice");
    expect(loginResponse.statusCode).toBe(200);
    const response = await app.inject({ method: "GET", url: "/", headers: { cookie: cookies } });
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(html).toContain("You are logged in as <strong data-username>alice</strong>.");
    for (const link of [
      '<a href="/updateuser">Your details</a>',
      '<a href="/changepassword">Change password</a>',
      '<a href="/changefactor2">Two-factor authentication</a>',
      '<a href="/deleteuser">Delete account</a>',
      '<a href="/selectclient">OAuth clients</a>',
    ]) {
      expect(html).toContain(link);
    }
    expect(html).toContain('<form method="post" action="/logout">');
    expect(html).toMatch(/<input type="hidden" name="csrfToken" value="[A-Za-z0-9_.-]+">/);
    expect(html).not.toContain('<a href="/login">');
  });

  it("serves OAuth client management: a user creates a confidential client and sees it listed", async () => {
    const { app } = await start();
    await createUser(app, "carol");
    const { cookies } = await login(app, "carol");
    const created = await postJson(
      app,
      "/api/createclient",
      {
        client_name: "Carol's app",
        confidential: true,
        redirect_uris: "https://app.example.com/cb",
        authorizationCode: true,
      },
      cookies,
    );
    expect(created.json()).toMatchObject({ ok: true });
    expect(created.statusCode).toBe(200);
    const { client } = created.json() as {
      client: { client_id: string; client_secret: string; client_name: string };
    };
    expect(client.client_name).toBe("Carol's app");
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { clientManager } = app.crossauthServices;
    const stored = await clientManager.clientStorage.getClientById(client.client_id);
    expect(stored.client_secret).toMatch(/^pbkdf2:sha256:32:40000:0:/);
    expect(await clientManager.validateClientSecret(stored, client.client_secret)).toBe(true);
    const list = await app.inject({ method: "GET", url: "/selectclient", headers: { cookie: cookies } });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain("Carol&#39;s app");
  });

  it("links to the OAuth clients only while client management is served", async () => {
    const { app } = await start({ CROSSAUTH_ENABLE_OAUTH_CLIENT_MANAGEMENT: "false" });
    await createUser(app, "alice");
    const { cookies } = await login(app, "alice");
    const html = (await app.inject({ method: "GET", url: "/", headers: { cookie: cookies } })).body;
    expect(html).toContain('<a href="/deleteuser">Delete account</a>');
    expect(html).not.toContain("selectclient");
    expect(
      (await app.inject({ method: "GET", url: "/selectclient", headers: { cookie: cookies } })).statusCode,
    ).toBe(404);
  });

  it("links admins, and only admins, to the user administration", async () => {
    const { app } = await start();
    await createUser(app, "alice");
    const root = await createUser(app, "root");
    await app.crossauthServices.userStorage.updateUser({ id: root.id, admin: true });
    const adminHome = (
      await app.inject({ method: "GET", url: "/", headers: { cookie: (await login(app, "root")).cookies } })
    ).body;
    expect(adminHome).toContain('<a href="/admin/selectuser">Administration</a>');
    const userHome = (
      await app.inject({ method: "GET", url: "/", headers: { cookie: (await login(app, "alice")).cookies } })
    ).body;
    expect(userHome).not.toContain("/admin/");
  });

  it("escapes the username", async () => {
    const { app } = await start();
    await createUser(app, "<b>eve</b>", "eve@example.com");
    const { cookies } = await login(app, "<b>eve</b>");
    const html = (await app.inject({ method: "GET", url: "/", headers: { cookie: cookies } })).body;
    expect(html).toContain("<strong data-username>&lt;b&gt;eve&lt;/b&gt;</strong>");
    expect(html).not.toContain("<b>eve</b>");
  });

  it("hides the 2FA and password-reset links when those features are off", async () => {
    const { app } = await start({
      CROSSAUTH_ALLOWED_FACTOR2: "[]",
      CROSSAUTH_ENABLE_PASSWORD_RESET: "false",
    });
    expect((await app.inject({ method: "GET", url: "/" })).body).not.toContain("/requestpasswordreset");
    await createUser(app, "alice");
    const { cookies } = await login(app, "alice");
    const html = (await app.inject({ method: "GET", url: "/", headers: { cookie: cookies } })).body;
    expect(html).toContain('<a href="/changepassword">');
    expect(html).not.toContain("/changefactor2");
  });
});

describe("health", () => {
  it("answers ok with the database up, 503 when it is down", async () => {
    const { app } = await start();
    const up = await app.inject({ method: "GET", url: "/health" });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ ok: true, database: "up" });
    expect(setCookies(up)).toEqual([]);
    await app.crossauthServices.db.destroy();
    const down = await app.inject({ method: "GET", url: "/health" });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ ok: false, database: "down" });
    expect(server?.logs.some((l) => l.msg === "Health check: database query failed")).toBe(true);
  });
});

describe("cookies in development and production", () => {
  it("development: session and CSRF cookies without Secure, so http://localhost works", async () => {
    const { app } = await start();
    const csrfCookies = setCookies(await app.inject({ method: "GET", url: "/api/getcsrftoken" }));
    expect(csrfCookies).toHaveLength(1);
    expect(csrfCookies[0]).toMatch(/^CSRFTOKEN=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    await createUser(app, "alice");
    const { response } = await login(app, "alice");
    const session = setCookies(response).find((c) => c.startsWith("SESSIONID="));
    expect(session).toBeDefined();
    expect(session).toContain("HttpOnly");
    expect(session).not.toContain("Secure");
  });

  it("production: both cookies are Secure", async () => {
    const { app } = await start(PRODUCTION);
    const csrfCookies = setCookies(await app.inject({ method: "GET", url: "/api/getcsrftoken" }));
    expect(csrfCookies[0]).toMatch(/^CSRFTOKEN=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    await createUser(app, "alice");
    const { response } = await login(app, "alice");
    expect(response.statusCode).toBe(200);
    const session = setCookies(response).find((c) => c.startsWith("SESSIONID="));
    expect(session).toContain("; Secure");
  });

  it("CROSSAUTH_SESSION_COOKIE_SECURE overrides the development default", async () => {
    const { app } = await start({ CROSSAUTH_SESSION_COOKIE_SECURE: "true" });
    await createUser(app, "alice");
    const { response } = await login(app, "alice");
    expect(setCookies(response).find((c) => c.startsWith("SESSIONID="))).toContain("; Secure");
    expect(setCookies(response).find((c) => c.startsWith("CSRFTOKEN="))).not.toContain("Secure");
  });
});

describe("secret", () => {
  it("development: generates a secret once (mode 0600), warns, and reuses it after a restart", async () => {
    const env = new EnvFixture();
    const file = join(env.dataDir, "secret");
    let first: ServerFixture | undefined = await startServer({}, {}, env);
    try {
      const secret = readFileSync(file, "utf8").trim();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.logs).toContainEqual(
        expect.objectContaining({
          level: 40,
          msg: `CROSSAUTH_SECRET is not set: generated a new secret in ${file} (development only; set CROSSAUTH_SECRET in production)`,
        }),
      );
      await createUser(first.app, "alice");
      const { cookies } = await login(first.app, "alice");
      await first.app.close();
      first = undefined;
      server = await startServer({}, {}, env);
      expect(readFileSync(file, "utf8").trim()).toBe(secret);
      expect(server.logs.map((l) => l.msg)).toContain(
        `CROSSAUTH_SECRET is not set: using the secret generated in ${file} (development only; set CROSSAUTH_SECRET in production)`,
      );
      const home = await server.app.inject({ method: "GET", url: "/", headers: { cookie: cookies } });
      expect(home.body).toContain("<strong data-username>alice</strong>");
    } finally {
      await first?.app.close();
    }
  });

  it("uses CROSSAUTH_SECRET when set and writes no file", async () => {
    const { env, logs } = await start({ CROSSAUTH_SECRET: SECRET });
    expect(existsSync(join(env.dataDir, "secret"))).toBe(false);
    expect(logs.filter((l) => l.level === 40)).toEqual([]);
  });

  it("production without CROSSAUTH_SECRET refuses to start and creates nothing", async () => {
    const env = new EnvFixture({ ...PRODUCTION, CROSSAUTH_SECRET: "" });
    env.set({ CROSSAUTH_SECRET: undefined });
    try {
      const config = readServerConfig();
      const error = await createServer(config, { logStream: { write: () => undefined } }).catch((e) => e);
      expect(error).toBeInstanceOf(CrossauthError);
      expect((error as CrossauthError).codeName).toBe("Configuration");
      expect((error as CrossauthError).message).toBe(
        "CROSSAUTH_SECRET must be set in production (NODE_ENV=production). " +
          "Generate one with `npm run crossauth -- secret` and keep it out of version control.",
      );
      expect(existsSync(join(env.dataDir, "secret"))).toBe(false);
      expect(existsSync(join(env.dataDir, "crossauth.db"))).toBe(false);
    } finally {
      env.restore();
    }
  });
});

describe("email printed to the console", () => {
  it("prints the verification email of a signup; its link activates the account", async () => {
    const { app, printed } = await start();
    const response = await postJson(app, "/api/signup", {
      username: "newbie",
      password: PASSWORD,
      repeat_password: PASSWORD,
      user_email: "newbie@example.com",
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ok: true, emailVerificationNeeded: true });
    const email = printed.join("");
    expect(email).toContain("----- email (console transport: not sent) -----\n");
    expect(email).toContain(
      "From: Crossauth <noreply@localhost>\nTo: newbie@example.com\nSubject: Please verify your email\n",
    );
    const link = /http:\/\/localhost:3000(\/verifyemail\/[A-Za-z0-9_-]+)/.exec(email);
    expect(link).not.toBeNull();
    const { userStorage } = app.crossauthServices;
    const before = await userStorage.getUserByUsername("newbie", { skipEmailVerifiedCheck: true });
    expect(before.user.state).toBe(UserState.awaitingEmailVerification);
    const verified = await app.inject({ method: "GET", url: `/api${link?.[1]}` });
    expect(verified.statusCode).toBe(200);
    expect((await userStorage.getUserByUsername("newbie")).user.state).toBe(UserState.active);
  });

  it("uses CROSSAUTH_SITE_URL and PORT in links", async () => {
    const { app, printed } = await start({ PORT: "4000" });
    await createUser(app, "alice");
    const reset = await postJson(app, "/api/requestpasswordreset", { email: "alice@example.com" });
    expect(reset.json()).toEqual({ ok: true });
    await app.crossauthServices.sessionManager.whenIdle();
    expect(printed.join("")).toMatch(
      /To: alice@example.com\nSubject: Password reset\n[\s\S]*http:\/\/localhost:4000\/resetpassword\//,
    );
    await server?.close();
    const second = await start({ CROSSAUTH_SITE_URL: "https://auth.example.com/" });
    await createUser(second.app, "bob");
    await postJson(second.app, "/api/requestpasswordreset", { email: "bob@example.com" });
    await second.app.crossauthServices.sessionManager.whenIdle();
    expect(second.printed.join("")).toContain("https://auth.example.com/resetpassword/");
  });
});

describe("password hashing threads", () => {
  it("CROSSAUTH_PASSWORD_HASH_THREADS sizes the process's hashing pool, and logins work with it", async () => {
    const before = defaultPbkdf2Pool();
    const twoThreads = new Pbkdf2Pool({ concurrency: 2 });
    setDefaultPbkdf2Pool(twoThreads);
    try {
      const { app } = await start({ CROSSAUTH_PASSWORD_HASH_THREADS: "1" });
      expect(defaultPbkdf2Pool()).not.toBe(twoThreads);
      expect(defaultPbkdf2Pool().concurrency).toBe(1);
      await createUser(app, "alice");
      const logins = await Promise.all([login(app, "alice"), login(app, "alice")]);
      expect(logins.map((l) => l.response.statusCode)).toEqual([200, 200]);
      expect(defaultPbkdf2Pool().threads).toHaveLength(1);
    } finally {
      setDefaultPbkdf2Pool(before);
    }
  });
});

describe("purging expired keys", () => {
  it("purgeExpiredKeys deletes keys that expired by the server's clock and keeps the others", async () => {
    let now = new Date("2030-01-01T00:00:00Z");
    const { app, logs } = await start({}, { now: () => now });
    const { keyStorage } = app.crossauthServices;
    await keyStorage.saveKey(null, "s:old", now, new Date("2030-01-01T01:00:00Z"));
    await keyStorage.saveKey(null, "s:new", now, new Date("2030-01-02T00:00:00Z"));
    await keyStorage.saveKey(null, "s:forever", now, null);
    expect(await app.purgeExpiredKeys()).toBe(0);
    now = new Date("2030-01-01T02:00:00Z");
    expect(await app.purgeExpiredKeys()).toBe(1);
    await expect(keyStorage.getKey("s:old")).rejects.toMatchObject({ codeName: "InvalidKey" });
    expect((await keyStorage.getKey("s:new")).value).toBe("s:new");
    expect((await keyStorage.getKey("s:forever")).value).toBe("s:forever");
    expect(logs).toContainEqual(expect.objectContaining({ msg: "Purged expired keys", deleted: 1 }));
  });

  it("runs every CROSSAUTH_PURGE_INTERVAL seconds, and not at all with 0", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { app } = await start({ CROSSAUTH_PURGE_INTERVAL: "60" });
    const { keyStorage } = app.crossauthServices;
    const purge = vi.spyOn(keyStorage, "deleteExpired");
    await keyStorage.saveKey(null, "s:expired", new Date(0), new Date(1000));
    await vi.advanceTimersByTimeAsync(59_000);
    expect(purge).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(purge).toHaveBeenCalledTimes(1);
    expect(await purge.mock.results[0]?.value).toBe(1);
    await expect(keyStorage.getKey("s:expired")).rejects.toMatchObject({ codeName: "InvalidKey" });
    await server?.close();
    const off = await start({ CROSSAUTH_PURGE_INTERVAL: "0" });
    const never = vi.spyOn(off.app.crossauthServices.keyStorage, "deleteExpired");
    await vi.advanceTimersByTimeAsync(10 * 3600_000);
    expect(never).not.toHaveBeenCalled();
  });
});

describe("request logs", () => {
  it("log each request as JSON without cookies, authorization headers or email-link tokens", async () => {
    const { app, logs } = await start();
    await app.inject({
      method: "GET",
      url: "/verifyemail/SeCrEtToKeN123?next=%2F&token=QuErYtOkEn",
      headers: { cookie: "SESSIONID=CoOkIeVaLuE", authorization: "ApiKey AuThVaLuE" },
    });
    const incoming = logs.find((l) => l.msg === "incoming request") as { req: Record<string, unknown> };
    expect(incoming.req).toMatchObject({
      method: "GET",
      url: "/verifyemail/[REDACTED]?next=%2F&token=[REDACTED]",
    });
    expect(logs.some((l) => l.msg === "request completed")).toBe(true);
    const text = JSON.stringify(logs);
    for (const secret of ["SeCrEtToKeN123", "QuErYtOkEn", "CoOkIeVaLuE", "AuThVaLuE"]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("shutdown", () => {
  it("close waits for background email work, then closes the database", async () => {
    const fixture = await start();
    const { app, printed } = fixture;
    await createUser(app, "alice");
    await postJson(app, "/api/requestpasswordreset", { email: "alice@example.com" });
    const { userStorage } = app.crossauthServices;
    await app.close();
    expect(printed.join("")).toContain("Subject: Password reset");
    await expect(userStorage.getUsers()).rejects.toBeDefined();
  });
});
