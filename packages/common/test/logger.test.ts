import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  LogLevel,
  logLevelNames,
  REDACTED,
} from "@crossauth/common";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FIXED = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));

/** Formats a record at a fixed time and parses the line back. */
function formatted(output: unknown, level: LogLevel = LogLevel.Info): Record<string, unknown> {
  return JSON.parse(CrossauthLogger.format(level, output, FIXED));
}

describe("CrossauthLogger levels", () => {
  let errorSpy: MockInstance<(...args: unknown[]) => void>;
  let logSpy: MockInstance<(...args: unknown[]) => void>;

  beforeEach(() => {
    errorSpy = vi.spyOn(console, "error").mockImplementation(() => {});
    logSpy = vi.spyOn(console, "log").mockImplementation(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("at Warn writes error and warn to console.error, and not info or debug", () => {
    const logger = new CrossauthLogger(LogLevel.Warn);
    logger.error({ msg: "an error" });
    logger.warn({ msg: "a warning" });
    logger.info({ msg: "some info" });
    logger.debug({ msg: "some debug" });
    expect(errorSpy).toHaveBeenCalledTimes(2);
    expect(logSpy).not.toHaveBeenCalled();
    const lines = errorSpy.mock.calls.map(([line]) => JSON.parse(line as string));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["ERROR", "an error"],
      ["WARN", "a warning"],
    ]);
  });

  it("at Debug writes info and debug to console.log", () => {
    const logger = new CrossauthLogger(LogLevel.Debug);
    logger.info({ msg: "some info" });
    logger.debug({ msg: "some debug" });
    expect(errorSpy).not.toHaveBeenCalled();
    expect(logSpy).toHaveBeenCalledTimes(2);
    expect(logSpy.mock.calls.map(([line]) => JSON.parse(line as string).level)).toEqual(["INFO", "DEBUG"]);
  });

  it("at None writes nothing", () => {
    const logger = new CrossauthLogger(LogLevel.None);
    logger.error({ msg: "x" });
    logger.warn({ msg: "x" });
    logger.info({ msg: "x" });
    logger.debug({ msg: "x" });
    expect(errorSpy).not.toHaveBeenCalled();
    expect(logSpy).not.toHaveBeenCalled();
  });

  it("setLevel changes what is written", () => {
    const logger = new CrossauthLogger(LogLevel.Error);
    logger.info({ msg: "hidden" });
    logger.setLevel(LogLevel.Info);
    logger.info({ msg: "shown" });
    expect(logSpy).toHaveBeenCalledTimes(1);
    expect(JSON.parse(logSpy.mock.calls[0]![0] as string).msg).toBe("shown");
  });

  it("writes one single-line JSON object with level name, ISO time, msg and the fields", () => {
    const logger = new CrossauthLogger(LogLevel.Error);
    const before = Date.now();
    logger.error({ msg: "line one\nline two", user: "bob", count: 3, list: [1, "a"] });
    const after = Date.now();
    expect(errorSpy).toHaveBeenCalledTimes(1);
    const line = errorSpy.mock.calls[0]![0] as string;
    expect(line).not.toContain("\n");
    const record = JSON.parse(line);
    expect(Object.keys(record)).toEqual(["level", "time", "msg", "user", "count", "list"]);
    expect(record.level).toBe("ERROR");
    expect(record.time).toMatch(ISO_TIME);
    const time = Date.parse(record.time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
    expect(record.msg).toBe("line one\nline two");
    expect(record.user).toBe("bob");
    expect(record.count).toBe(3);
    expect(record.list).toEqual([1, "a"]);
  });

  it("logs a plain string as msg", () => {
    new CrossauthLogger(LogLevel.Error).error("just text");
    const record = JSON.parse(errorSpy.mock.calls[0]![0] as string);
    expect(record.level).toBe("ERROR");
    expect(record.msg).toBe("just text");
  });
});

describe("CROSSAUTH_LOG_LEVEL", () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.CROSSAUTH_LOG_LEVEL;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CROSSAUTH_LOG_LEVEL;
    else process.env.CROSSAUTH_LOG_LEVEL = saved;
  });

  it.each([
    ["DEBUG", LogLevel.Debug],
    ["info", LogLevel.Info],
    ["Warn", LogLevel.Warn],
    ["2", LogLevel.Warn],
    ["0", LogLevel.None],
    ["NONE", LogLevel.None],
    ["junk", LogLevel.Error],
    ["7", LogLevel.Error],
    ["", LogLevel.Error],
  ])("%j gives level %i", (value, level) => {
    process.env.CROSSAUTH_LOG_LEVEL = value;
    expect(new CrossauthLogger().level).toBe(level);
  });

  it("defaults to Error when unset", () => {
    delete process.env.CROSSAUTH_LOG_LEVEL;
    expect(new CrossauthLogger().level).toBe(LogLevel.Error);
  });

  it("is read at construction", () => {
    process.env.CROSSAUTH_LOG_LEVEL = "DEBUG";
    const logger = new CrossauthLogger();
    process.env.CROSSAUTH_LOG_LEVEL = "WARN";
    expect(logger.level).toBe(LogLevel.Debug);
    expect(new CrossauthLogger().level).toBe(LogLevel.Warn);
  });

  it("is overridden by an explicit level", () => {
    process.env.CROSSAUTH_LOG_LEVEL = "DEBUG";
    expect(new CrossauthLogger(LogLevel.Warn).level).toBe(LogLevel.Warn);
  });

  it("level names are indexed by level number", () => {
    expect([...logLevelNames]).toEqual(["NONE", "ERROR", "WARN", "INFO", "DEBUG"]);
    expect(CrossauthLogger.levelName).toBe(logLevelNames);
  });
});

describe("redaction", () => {
  it("REDACTED is [REDACTED]", () => {
    expect(REDACTED).toBe("[REDACTED]");
  });

  it("redacts secret-named fields at any depth and keeps the rest", () => {
    const record = formatted({
      msg: "login",
      username: "bob",
      password: "pw1",
      client_secret: "cs1",
      clientSecret: "cs2",
      csrfToken: "csrf1",
      totpsecret: "totp1",
      otp: "123456",
      token: "tok1",
      user: { id: 7, password: "pw2", profile: { name: "Bob", client_secret: "cs3" } },
      sessions: [{ token: "tok2", created: 5 }],
      active: true,
      missing: null,
    });
    expect(record).toEqual({
      level: "INFO",
      time: "2024-01-02T03:04:05.678Z",
      msg: "login",
      username: "bob",
      password: REDACTED,
      client_secret: REDACTED,
      clientSecret: REDACTED,
      csrfToken: REDACTED,
      totpsecret: REDACTED,
      otp: REDACTED,
      token: REDACTED,
      user: { id: 7, password: REDACTED, profile: { name: "Bob", client_secret: REDACTED } },
      sessions: [{ token: REDACTED, created: 5 }],
      active: true,
      missing: null,
    });
  });

  it("never writes the secret values", () => {
    const line = CrossauthLogger.format(
      LogLevel.Error,
      { password: "hunter2", nested: { deeper: { CLIENT_SECRET: "s3cr3t" } }, "csrf-token": "c5rf" },
      FIXED,
    );
    expect(line).not.toContain("hunter2");
    expect(line).not.toContain("s3cr3t");
    expect(line).not.toContain("c5rf");
    expect(line.split(REDACTED)).toHaveLength(4);
  });

  it("keeps booleans and null in secret-named fields (they reveal nothing)", () => {
    expect(formatted({ password: false, token: null, otp: true })).toMatchObject({
      password: false,
      token: null,
      otp: true,
    });
  });

  it("redacts a secret field given as a number or an object", () => {
    expect(formatted({ otp: 123456, password: { a: 1 } })).toMatchObject({
      otp: REDACTED,
      password: REDACTED,
    });
  });

  it("redacts fields of a record given as a JSON string", () => {
    const record = formatted(JSON.stringify({ msg: "m", password: "pw" }));
    expect(record.msg).toBe("m");
    expect(record.password).toBe(REDACTED);
  });

  it("j() redacts too", () => {
    expect(j({ msg: "m", user: { password: "pw" }, ok: true })).toEqual({
      msg: "m",
      user: { password: REDACTED },
      ok: true,
    });
  });
});

describe("err field", () => {
  it("a CrossauthError becomes {message, code, codeName, httpStatus, stack}", () => {
    const error = new CrossauthError(ErrorCode.InvalidKey, "Signature is invalid");
    const record = formatted({ msg: "failed", err: error }, LogLevel.Error);
    expect(record.err).toEqual({
      message: "Signature is invalid",
      code: 20,
      codeName: "InvalidKey",
      httpStatus: 401,
      stack: error.stack,
    });
    expect(Object.keys(record.err as object).sort()).toEqual([
      "code",
      "codeName",
      "httpStatus",
      "message",
      "stack",
    ]);
  });

  it("a plain Error becomes {message, name, stack}", () => {
    const error = new RangeError("out of range");
    expect(formatted({ err: error }).err).toEqual({
      message: "out of range",
      name: "RangeError",
      stack: error.stack,
    });
  });

  it("j() converts err the same way", () => {
    const error = new CrossauthError(ErrorCode.Expired);
    const record = j({ msg: "m", err: error }) as Record<string, unknown>;
    expect(record.err).toEqual({
      message: "Token has expired",
      code: 23,
      codeName: "Expired",
      httpStatus: 401,
      stack: error.stack,
    });
  });
});

describe("CrossauthLogger.format", () => {
  it("gives exact output for a fixed time", () => {
    expect(
      CrossauthLogger.format(LogLevel.Info, { msg: "hello", user: "bob", password: "pw", n: 1 }, FIXED),
    ).toBe(
      '{"level":"INFO","time":"2024-01-02T03:04:05.678Z","msg":"hello","user":"bob","password":"[REDACTED]","n":1}',
    );
  });

  it("puts plain text in msg", () => {
    expect(CrossauthLogger.format(LogLevel.Error, "plain text", FIXED)).toBe(
      '{"level":"ERROR","time":"2024-01-02T03:04:05.678Z","msg":"plain text"}',
    );
  });

  it("merges the fields of a JSON string", () => {
    expect(CrossauthLogger.format(LogLevel.Debug, '{"msg":"from json","a":[1]}', FIXED)).toBe(
      '{"level":"DEBUG","time":"2024-01-02T03:04:05.678Z","msg":"from json","a":[1]}',
    );
  });

  it("logs non-object JSON text and other values as msg", () => {
    expect(CrossauthLogger.format(LogLevel.Info, { msg: "m", level: "DEBUG", time: "forged" }, FIXED)).toBe(
      '{"level":"INFO","time":"2024-01-02T03:04:05.678Z","msg":"m"}',
    );
    expect(CrossauthLogger.format(LogLevel.Warn, "42", FIXED)).toBe(
      '{"level":"WARN","time":"2024-01-02T03:04:05.678Z","msg":"42"}',
    );
    expect(CrossauthLogger.format(LogLevel.Warn, 17, FIXED)).toBe(
      '{"level":"WARN","time":"2024-01-02T03:04:05.678Z","msg":"17"}',
    );
  });
});

describe("errors through j() and the default logger", () => {
  it("keeps the error's details when a record prepared by j() is logged", () => {
    const record = j({ msg: "failed", err: new CrossauthError(ErrorCode.InvalidKey, "bad key") });
    const line = JSON.parse(CrossauthLogger.format(LogLevel.Error, record, FIXED));
    expect(line.err).toMatchObject({ message: "bad key", code: 20, codeName: "InvalidKey", httpStatus: 401 });
  });
});

describe("CrossauthLogger.setLogger and j()", () => {
  afterEach(() => {
    CrossauthLogger.setLogger(new CrossauthLogger(), true);
  });

  it("the default logger is a CrossauthLogger that accepts JSON", () => {
    expect(CrossauthLogger.logger).toBeInstanceOf(CrossauthLogger);
    expect(CrossauthLogger.loggerAcceptsJson).toBe(true);
  });

  it("j() returns an object when the logger accepts JSON", () => {
    expect(j({ msg: "hello", user: "bob" })).toEqual({ msg: "hello", user: "bob" });
    expect(j("just a message")).toEqual({ msg: "just a message" });
  });

  it("j() returns a JSON string after setLogger(x, false)", () => {
    const lines: unknown[] = [];
    const collect = (o: unknown) => lines.push(o);
    const custom = { error: collect, warn: collect, info: collect, debug: collect };
    CrossauthLogger.setLogger(custom, false);
    expect(CrossauthLogger.logger).toBe(custom);
    expect(CrossauthLogger.loggerAcceptsJson).toBe(false);
    expect(j({ msg: "hello", password: "pw" })).toBe('{"msg":"hello","password":"[REDACTED]"}');
    expect(j("plain")).toBe('{"msg":"plain"}');
    CrossauthLogger.logger.warn(j({ msg: "to custom" }));
    expect(lines).toEqual(['{"msg":"to custom"}']);
  });

  it("logs through pino with secrets redacted", () => {
    const chunks: string[] = [];
    // pino writes each line synchronously to a destination with a write(chunk) method
    const destination = { write: (chunk: string) => void chunks.push(chunk) };
    const logger = pino({ level: "debug" }, destination);
    CrossauthLogger.setLogger(logger, true);
    CrossauthLogger.logger.info(j({ msg: "hello", user: "bob", password: "pw" }));
    CrossauthLogger.logger.debug(j({ msg: "nested", data: { client_secret: "cs" } }));

    const lines = chunks.join("").trim().split("\n");
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first.level).toBe(30);
    expect(first.msg).toBe("hello");
    expect(first.user).toBe("bob");
    expect(first.password).toBe("[REDACTED]");
    expect(lines[0]).not.toContain('"pw"');
    const second = JSON.parse(lines[1]!);
    expect(second.level).toBe(20);
    expect(second.data).toEqual({ client_secret: "[REDACTED]" });
  });
});
