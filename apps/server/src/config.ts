/**
 * The reference server's configuration: `PORT`, `HOST`, `NODE_ENV`, `DATABASE_URL` and the
 * `CROSSAUTH_*` variables (a `.env` file is loaded by the entry points). Settings the server gives a
 * default of its own are read here; every other backend option is read by the component it belongs
 * to from its own `CROSSAUTH_*` variable.
 * @module
 */
import { resolve } from "node:path";
import { type EmailTransportKind, ParamType, setParameter } from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** Everything the server and the command-line tool need to know. */
export interface ServerConfig {
  /** `NODE_ENV` is `production`: secure cookies and a required secret. */
  production: boolean;
  /** Port to listen on (`PORT`, default 3000). */
  port: number;
  /** Address to listen on (`HOST`; default `localhost` in development, `0.0.0.0` in production). */
  host: string;
  /** Directory of the default SQLite file and of the generated development secret
   * (`CROSSAUTH_DATA_DIR`, default `./data`), absolute. */
  dataDir: string;
  /** Database URL (`DATABASE_URL`, default `sqlite://<dataDir>/crossauth.db`). */
  databaseUrl: string;
  /** `CROSSAUTH_SECRET`, when set (see `loadSecret` for the development fallback). */
  secret: string | undefined;
  /** Base URL of links in emails (`CROSSAUTH_SITE_URL`, default `http://localhost:<port>`). */
  siteUrl: string;
  /** Site name in page titles and authenticator apps (`CROSSAUTH_SITE_NAME`, default `Crossauth`). */
  siteName: string;
  /** `console` when no SMTP host is set, else `smtp` (`CROSSAUTH_EMAIL_TRANSPORT` overrides). In
   * production the console is used only when asked for explicitly. */
  emailTransport: EmailTransportKind;
  /** Sender of emails (`CROSSAUTH_EMAIL_FROM`; with the console transport default `Crossauth <noreply@localhost>`). */
  emailFrom: string | undefined;
  /** Second factors users may choose (`CROSSAUTH_ALLOWED_FACTOR2`, default `["totp","email"]`). */
  allowedFactor2: string[];
  /** Fields users edit themselves (`CROSSAUTH_USER_EDITABLE_FIELDS`, default `["email"]`). */
  userEditableFields: string[];
  /** `Secure` attribute of the session cookie (`CROSSAUTH_SESSION_COOKIE_SECURE`, default: production). */
  sessionCookieSecure: boolean;
  /** `Secure` attribute of the CSRF cookie (`CROSSAUTH_CSRF_COOKIE_SECURE`, default: production). */
  csrfCookieSecure: boolean;
  /** PBKDF2 iterations of new password hashes, when set (`CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS`, an alias of
   * `CROSSAUTH_PBKDF2_ITERATIONS` which the password authenticator reads itself; default 600000). */
  passwordPbkdf2Iterations: number | undefined;
  /** Threads hashing passwords at once, when set (`CROSSAUTH_PASSWORD_HASH_THREADS`, 1 to 64; default one
   * per core). They run at the lowest CPU priority, see `Pbkdf2Pool`. */
  passwordHashThreads: number | undefined;
  /** Seconds between purges of expired keys (`CROSSAUTH_PURGE_INTERVAL`, default 3600; 0 = never). */
  purgeInterval: number;
  /** Level of the request log (`CROSSAUTH_SERVER_LOG_LEVEL`, a pino level; default `info`). */
  serverLogLevel: string;
}

/** Default port. */
export const DEFAULT_PORT = 3000;
/** Default seconds between purges of expired keys. */
export const DEFAULT_PURGE_INTERVAL = 3600;
/** Longest purge interval in seconds (timers hold at most 2^31-1 ms). */
export const MAX_PURGE_INTERVAL = 2_147_483;
/** Most password-hashing threads `CROSSAUTH_PASSWORD_HASH_THREADS` may ask for. */
export const MAX_PASSWORD_HASH_THREADS = 64;
/** Sender of emails printed to the console when `CROSSAUTH_EMAIL_FROM` is not set. */
export const CONSOLE_EMAIL_FROM = "Crossauth <noreply@localhost>";

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** The settings read here: name, type, variable without the `CROSSAUTH_` prefix. */
const SETTINGS: readonly (readonly [string, ParamType, string])[] = [
  ["dataDir", ParamType.String, "DATA_DIR"],
  ["secret", ParamType.String, "SECRET"],
  ["siteUrl", ParamType.String, "SITE_URL"],
  ["siteName", ParamType.String, "SITE_NAME"],
  ["emailTransport", ParamType.String, "EMAIL_TRANSPORT"],
  ["emailFrom", ParamType.String, "EMAIL_FROM"],
  ["allowedFactor2", ParamType.JsonArray, "ALLOWED_FACTOR2"],
  ["userEditableFields", ParamType.JsonArray, "USER_EDITABLE_FIELDS"],
  ["sessionCookieSecure", ParamType.Boolean, "SESSION_COOKIE_SECURE"],
  ["csrfCookieSecure", ParamType.Boolean, "CSRF_COOKIE_SECURE"],
  ["passwordPbkdf2Iterations", ParamType.Integer, "PASSWORD_PBKDF2_ITERATIONS"],
  ["passwordHashThreads", ParamType.Integer, "PASSWORD_HASH_THREADS"],
  ["purgeInterval", ParamType.Integer, "PURGE_INTERVAL"],
  ["serverLogLevel", ParamType.String, "SERVER_LOG_LEVEL"],
];

function configError(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.Configuration, message);
}

/** A variable without the `CROSSAUTH_` prefix, as an integer in a range. */
function plainInteger(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === "") return fallback;
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw configError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * Reads the configuration from the environment (`process.env`; load `.env` first with `loadDotEnv`).
 * @param cwd - directory relative paths are resolved against; default the working directory
 * @returns the configuration; nothing is created on disk
 * @throws CrossauthError `Configuration` naming the variable that is malformed
 */
export function readServerConfig(cwd: string = process.cwd()): ServerConfig {
  const production = process.env.NODE_ENV === "production";
  const port = plainInteger("PORT", DEFAULT_PORT, 0, 65535);
  const host = process.env.HOST?.trim() || (production ? "0.0.0.0" : "localhost");
  const c: Record<string, unknown> = {
    dataDir: "./data",
    siteUrl: `http://localhost:${port}`,
    siteName: "Crossauth",
    emailTransport: process.env.CROSSAUTH_SMTP_HOST ? "smtp" : "console",
    allowedFactor2: ["totp", "email"],
    userEditableFields: ["email"],
    sessionCookieSecure: production,
    csrfCookieSecure: production,
    purgeInterval: DEFAULT_PURGE_INTERVAL,
    serverLogLevel: "info",
  };
  for (const [name, type, variable] of SETTINGS) setParameter(name, type, c, {}, variable);
  if (c.emailTransport !== "smtp" && c.emailTransport !== "console") {
    throw configError("CROSSAUTH_EMAIL_TRANSPORT must be smtp or console");
  }
  if (c.emailTransport === "console" && production && !process.env.CROSSAUTH_EMAIL_TRANSPORT) {
    throw configError(
      "No SMTP server in production: set CROSSAUTH_SMTP_HOST and CROSSAUTH_EMAIL_FROM " +
        "(or CROSSAUTH_EMAIL_TRANSPORT=console to print emails, with their links, to the console)",
    );
  }
  if (c.emailTransport === "smtp" && !c.emailFrom) {
    throw configError("CROSSAUTH_EMAIL_FROM is required to send email over SMTP");
  }
  if ((c.purgeInterval as number) < 0 || (c.purgeInterval as number) > MAX_PURGE_INTERVAL) {
    throw configError(`CROSSAUTH_PURGE_INTERVAL must be from 0 to ${MAX_PURGE_INTERVAL} seconds`);
  }
  const threads = c.passwordHashThreads as number | undefined;
  if (threads !== undefined && (threads < 1 || threads > MAX_PASSWORD_HASH_THREADS)) {
    throw configError(`CROSSAUTH_PASSWORD_HASH_THREADS must be from 1 to ${MAX_PASSWORD_HASH_THREADS}`);
  }
  if (!LOG_LEVELS.has(c.serverLogLevel as string)) {
    throw configError(`CROSSAUTH_SERVER_LOG_LEVEL must be one of ${[...LOG_LEVELS].join(", ")}`);
  }
  if (c.secret === "") throw configError("CROSSAUTH_SECRET is set but empty");
  const dataDir = resolve(cwd, c.dataDir as string);
  const databaseUrl = process.env.DATABASE_URL?.trim() || `sqlite://${resolve(dataDir, "crossauth.db")}`;
  return {
    production,
    port,
    host,
    dataDir,
    databaseUrl,
    secret: c.secret as string | undefined,
    siteUrl: (c.siteUrl as string).replace(/\/+$/, ""),
    siteName: c.siteName as string,
    emailTransport: c.emailTransport,
    emailFrom:
      (c.emailFrom as string | undefined) ??
      (c.emailTransport === "console" ? CONSOLE_EMAIL_FROM : undefined),
    allowedFactor2: c.allowedFactor2 as string[],
    userEditableFields: c.userEditableFields as string[],
    sessionCookieSecure: c.sessionCookieSecure as boolean,
    csrfCookieSecure: c.csrfCookieSecure as boolean,
    passwordPbkdf2Iterations: c.passwordPbkdf2Iterations as number | undefined,
    passwordHashThreads: threads,
    purgeInterval: c.purgeInterval as number,
    serverLogLevel: c.serverLogLevel as string,
  };
}
