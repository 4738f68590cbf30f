/**
 * `CrossauthLogger`: a dependency-free JSON logger, replaceable by any logger with the same four
 * methods (pino, for instance) through {@link CrossauthLogger.setLogger}.
 * @module
 */
import { CrossauthError } from "./crossauth-error.js";

/** The console, present in browsers and Node alike (declared here: this package uses no DOM or Node types). */
declare const console: { log(line: string): void; error(line: string): void };

/** What Crossauth needs of a logger. Pino, Winston and the console all fit. */
export interface CrossauthLoggerInterface {
  error(output: unknown): void;
  warn(output: unknown): void;
  info(output: unknown): void;
  debug(output: unknown): void;
}

/** Log levels; a logger reports messages at its level and below. */
export const LogLevel = Object.freeze({ None: 0, Error: 1, Warn: 2, Info: 3, Debug: 4 } as const);
/** A log level number. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Names of the levels, indexed by level number. */
export const logLevelNames = Object.freeze(["NONE", "ERROR", "WARN", "INFO", "DEBUG"] as const);

/**
 * Field names whose values are never logged. Matching is on the lower-cased name with `_` and `-`
 * removed, so `client_secret`, `clientSecret` and `CLIENT-SECRET` are all caught.
 */
const secretFieldNames = new Set([
  "password",
  "oldpassword",
  "newpassword",
  "repeatpassword",
  "secret",
  "clientsecret",
  "token",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "otp",
  "totpsecret",
  "sessionid",
  "sessioncookie",
  "sessionkey",
  "csrftoken",
  "csrfcookie",
  "apikey",
  "authorization",
  "cookie",
  "code",
  "codeverifier",
  "devicecode",
  "usercode",
  "mfatoken",
  "privatekey",
]);

/** Replacement for a value that must not be logged. */
export const REDACTED = "[REDACTED]";

function isSecretField(name: string): boolean {
  return secretFieldNames.has(name.toLowerCase().replace(/[_-]/g, ""));
}

/** Null, undefined and booleans reveal nothing; a numeric `code` is an error code, not an OAuth code. */
function isRedactable(key: string, value: unknown): boolean {
  if (value === undefined || value === null || typeof value === "boolean") return false;
  return !(typeof value === "number" && key.toLowerCase() === "code");
}

function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof CrossauthError) {
    return {
      message: err.message,
      code: err.code,
      codeName: err.codeName,
      httpStatus: err.httpStatus,
      stack: err.stack,
    };
  }
  if (err instanceof Error) return { message: err.message, name: err.name, stack: err.stack };
  return { message: String(err) };
}

/**
 * Copies a log record, replacing values of secret-named fields by `"[REDACTED]"` (at any depth) and
 * turning errors in `err` into plain objects.
 */
function sanitize(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return describeError(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (isSecretField(key) && isRedactable(key, v)) out[key] = REDACTED;
    else if (key === "err" && (v instanceof Error || typeof v !== "object" || v === null))
      out[key] = describeError(v);
    else out[key] = sanitize(v, depth + 1);
  }
  return out;
}

function levelFromEnv(): LogLevel | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const raw = env?.CROSSAUTH_LOG_LEVEL?.trim().toUpperCase();
  if (!raw) return undefined;
  const byName = logLevelNames.indexOf(raw as (typeof logLevelNames)[number]);
  if (byName >= 0) return byName as LogLevel;
  if (/^[0-4]$/.test(raw)) return Number(raw) as LogLevel;
  return undefined;
}

/**
 * The default logger: one JSON line per message on the console (`console.error` for errors and
 * warnings, `console.log` otherwise), with `level`, `time` and the record's fields. Secret-named
 * fields are redacted.
 *
 * Crossauth code logs through `CrossauthLogger.logger.info(j({msg: "...", ...}))`.
 */
export class CrossauthLogger implements CrossauthLoggerInterface {
  /** Level names, indexed by level number. */
  static readonly levelName = logLevelNames;
  /** Alias of {@link LogLevel.None}. */
  static readonly None = LogLevel.None;
  /** Alias of {@link LogLevel.Error}. */
  static readonly Error = LogLevel.Error;
  /** Alias of {@link LogLevel.Warn}. */
  static readonly Warn = LogLevel.Warn;
  /** Alias of {@link LogLevel.Info}. */
  static readonly Info = LogLevel.Info;
  /** Alias of {@link LogLevel.Debug}. */
  static readonly Debug = LogLevel.Debug;

  private static instance: CrossauthLoggerInterface = new CrossauthLogger();
  private static acceptsJson = true;

  /** The level this logger reports down to. */
  level: LogLevel;

  /**
   * @param level - level to report down to; default `CROSSAUTH_LOG_LEVEL` (a name such as `DEBUG`,
   *   or 0–4), else `Error`
   */
  constructor(level?: LogLevel) {
    this.level = level ?? levelFromEnv() ?? LogLevel.Error;
  }

  /** The logger Crossauth currently logs to. */
  static get logger(): CrossauthLoggerInterface {
    return CrossauthLogger.instance;
  }

  /** Whether the current logger takes objects (true) or strings (false). */
  static get loggerAcceptsJson(): boolean {
    return CrossauthLogger.acceptsJson;
  }

  /**
   * Replaces the logger Crossauth logs to.
   * @param logger - e.g. a pino instance
   * @param acceptsJson - true when the logger takes objects (pino does); false to pass JSON strings
   */
  static setLogger(logger: CrossauthLoggerInterface, acceptsJson: boolean): void {
    CrossauthLogger.instance = logger;
    CrossauthLogger.acceptsJson = acceptsJson;
  }

  /**
   * Sets the level to report down to.
   * @param level - a {@link LogLevel}
   */
  setLevel(level: LogLevel): void {
    this.level = level;
  }

  /** Logs at `Error` level. */
  error(output: unknown): void {
    this.write(LogLevel.Error, output);
  }
  /** Logs at `Warn` level. */
  warn(output: unknown): void {
    this.write(LogLevel.Warn, output);
  }
  /** Logs at `Info` level. */
  info(output: unknown): void {
    this.write(LogLevel.Info, output);
  }
  /** Logs at `Debug` level. */
  debug(output: unknown): void {
    this.write(LogLevel.Debug, output);
  }

  private write(level: LogLevel, output: unknown): void {
    if (level > this.level) return;
    const line = CrossauthLogger.format(level, output);
    if (level <= LogLevel.Warn) console.error(line);
    else console.log(line);
  }

  /**
   * The JSON line written for a message.
   * @param level - message level
   * @param output - an object (fields merged into the line), a JSON string of one, or any other text (`msg`)
   */
  static format(level: LogLevel, output: unknown, now: Date = new Date()): string {
    let fields: unknown = output;
    if (typeof output === "string") {
      try {
        fields = JSON.parse(output);
      } catch {
        fields = { msg: output };
      }
    }
    if (fields === null || typeof fields !== "object" || Array.isArray(fields))
      fields = { msg: String(output) };
    // `level` and `time` are the logger's own: a record cannot forge them.
    const { level: _level, time: _time, ...rest } = sanitize(fields) as Record<string, unknown>;
    return JSON.stringify({ level: logLevelNames[level], time: now.toISOString(), ...rest });
  }
}

/**
 * Prepares a log record for the current logger: secret-named fields redacted, errors in `err` made
 * plain; returned as an object when the logger accepts JSON, else as a JSON string.
 * @param arg - the record (`{msg, ...}`) or a plain message
 */
export function j(arg: Record<string, unknown> | string): Record<string, unknown> | string {
  const record = typeof arg === "string" ? { msg: arg } : (sanitize(arg) as Record<string, unknown>);
  return CrossauthLogger.loggerAcceptsJson ? record : JSON.stringify(record);
}
