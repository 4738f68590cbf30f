/**
 * Driver errors of the three SQL drivers become CrossauthErrors with the right codes, and their
 * messages never carry stored values.
 */
import { dbErrorKind, toCrossauthError } from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";

const driverError = (code: string, message = "x", extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, ...extra });

describe("toCrossauthError", () => {
  it.each([
    ["SQLITE_CONSTRAINT_UNIQUE", "unique"],
    ["SQLITE_CONSTRAINT_PRIMARYKEY", "unique"],
    ["23505", "unique"],
    ["ER_DUP_ENTRY", "unique"],
    ["SQLITE_CONSTRAINT_FOREIGNKEY", "foreignKey"],
    ["23503", "foreignKey"],
    ["ER_NO_REFERENCED_ROW_2", "foreignKey"],
    ["22001", "tooLong"],
    ["ER_DATA_TOO_LONG", "tooLong"],
    ["22P02", "badValue"],
    ["40P01", "conflict"],
    ["ER_LOCK_DEADLOCK", "conflict"],
    ["SQLITE_BUSY", "conflict"],
    ["ECONNREFUSED", "connection"],
    ["08006", "connection"],
    ["28P01", "connection"],
    ["ER_ACCESS_DENIED_ERROR", "connection"],
    ["PROTOCOL_CONNECTION_LOST", "connection"],
  ])("classifies %s as %s", (code, kind) => {
    expect(dbErrorKind(driverError(code))).toBe(kind);
  });

  it("classifies SQLite's message-only errors", () => {
    expect(dbErrorKind(driverError("SQLITE_ERROR", "table User has no column named shoe"))).toBe(
      "unknownColumn",
    );
    expect(dbErrorKind(driverError("SQLITE_ERROR", "no such table: Key"))).toBe("unknownTable");
    expect(dbErrorKind(new Error("timeout exceeded when trying to connect"))).toBe("connection");
  });

  it("reports unique violations with the code asked for, without the duplicate value", () => {
    const e = toCrossauthError(driverError("ER_DUP_ENTRY", "Duplicate entry 's:secret' for key 'value'"), {
      code: ErrorCode.KeyExists,
    });
    expect(e.code).toBe(ErrorCode.KeyExists);
    expect(e.message).not.toContain("secret");
    expect(toCrossauthError(driverError("23505")).code).toBe(ErrorCode.ConstraintViolation);
  });

  it("names the column of a too-long or missing value", () => {
    const tooLong = toCrossauthError(
      driverError("ER_DATA_TOO_LONG", "Data too long for column 'username' at row 1"),
    );
    expect(tooLong.code).toBe(ErrorCode.ConstraintViolation);
    expect(tooLong.message).toContain("username");
    const missing = toCrossauthError(
      driverError("SQLITE_CONSTRAINT_NOTNULL", "NOT NULL constraint failed: Key.created"),
    );
    expect(missing.message).toContain("created");
    expect(toCrossauthError(driverError("23502", "x", { column: "value" })).message).toContain("value");
  });

  it("maps the other kinds and passes CrossauthErrors through", () => {
    expect(toCrossauthError(driverError("ECONNREFUSED")).code).toBe(ErrorCode.Connection);
    expect(toCrossauthError(driverError("42703")).code).toBe(ErrorCode.BadRequest);
    expect(toCrossauthError(driverError("ER_NO_SUCH_TABLE")).code).toBe(ErrorCode.Configuration);
    expect(toCrossauthError(driverError("ER_LOCK_DEADLOCK")).code).toBe(ErrorCode.Connection);
    expect(toCrossauthError(new Error("something odd")).code).toBe(ErrorCode.UnknownError);
    const own = new CrossauthError(ErrorCode.InvalidKey);
    expect(toCrossauthError(own)).toBe(own);
  });
});
