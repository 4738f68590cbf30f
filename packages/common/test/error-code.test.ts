import {
  CrossauthError,
  ErrorCode,
  type ErrorCodeName,
  errorCodeHttpStatus,
  errorCodeName,
  isErrorCode,
  parseErrorCode,
} from "@crossauth/common";
import { describe, expect, it } from "vitest";

/** The error code table of http-contract.md, copied literally: number, name, HTTP status. */
const table: [number, ErrorCodeName, number][] = [
  [1, "UserNotExist", 401],
  [2, "PasswordInvalid", 401],
  [3, "EmailNotExist", 401],
  [4, "UsernameOrPasswordInvalid", 401],
  [5, "InvalidClientId", 401],
  [6, "ClientExists", 500],
  [7, "InvalidClientSecret", 401],
  [8, "InvalidClientIdOrSecret", 401],
  [9, "InvalidRedirectUri", 401],
  [10, "InvalidOAuthFlow", 500],
  [11, "UserNotActive", 403],
  [12, "EmailNotVerified", 403],
  [13, "TwoFactorIncomplete", 403],
  [14, "Unauthorized", 401],
  [15, "UnauthorizedClient", 401],
  [16, "InvalidScope", 403],
  [17, "InsufficientScope", 403],
  [18, "InsufficientPriviledges", 401],
  [19, "Forbidden", 403],
  [20, "InvalidKey", 401],
  [21, "InvalidCsrf", 401],
  [22, "InvalidSession", 401],
  [23, "Expired", 401],
  [24, "Connection", 500],
  [25, "InvalidHash", 500],
  [26, "UnsupportedAlgorithm", 500],
  [27, "KeyExists", 500],
  [28, "PasswordChangeNeeded", 403],
  [29, "PasswordResetNeeded", 403],
  [30, "Factor2ResetNeeded", 403],
  [31, "Configuration", 500],
  [32, "InvalidEmail", 400],
  [33, "InvalidPhoneNumber", 400],
  [34, "InvalidUsername", 400],
  [35, "PasswordMatch", 401],
  [36, "InvalidToken", 401],
  [37, "MfaRequired", 401],
  [38, "PasswordFormat", 401],
  [39, "DataFormat", 500],
  [40, "FetchError", 500],
  [41, "UserExists", 400],
  [42, "FormEntry", 400],
  [43, "BadRequest", 400],
  [44, "AuthorizationPending", 200],
  [45, "SlowDown", 200],
  [46, "ExpiredToken", 401],
  [47, "ConstraintViolation", 500],
  [48, "NotImplemented", 500],
  [49, "ValueError", 500],
  [50, "UnknownError", 500],
];

describe("ErrorCode table", () => {
  it("has exactly the 50 codes of the contract, numbered 1 to 50", () => {
    expect(table).toHaveLength(50);
    expect(table.map(([n]) => n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(Object.keys(ErrorCode).sort()).toEqual(table.map(([, name]) => name).sort());
    expect(Object.values(ErrorCode).sort((a, b) => a - b)).toEqual(table.map(([n]) => n));
  });

  describe.each(table)("%i %s → HTTP %i", (num, name, status) => {
    it("ErrorCode[name] is the number", () => {
      expect(ErrorCode[name]).toBe(num);
    });
    it("errorCodeName(number) is the name", () => {
      expect(errorCodeName(num as ErrorCode)).toBe(name);
    });
    it("errorCodeHttpStatus gives the contract status", () => {
      expect(errorCodeHttpStatus(num as ErrorCode)).toBe(status);
    });
    it("a CrossauthError with the code carries the same status and name", () => {
      const e = new CrossauthError(num as ErrorCode);
      expect(e.code).toBe(num);
      expect(e.httpStatus).toBe(status);
      expect(e.codeName).toBe(name);
    });
    it("parseErrorCode accepts the name, the number and the numeric string", () => {
      expect(parseErrorCode(name)).toBe(num);
      expect(parseErrorCode(num)).toBe(num);
      expect(parseErrorCode(String(num))).toBe(num);
      expect(isErrorCode(num)).toBe(true);
    });
  });
});

describe("ErrorCode object", () => {
  it("is frozen", () => {
    expect(Object.isFrozen(ErrorCode)).toBe(true);
  });

  it("cannot be changed", () => {
    const mutable = ErrorCode as unknown as Record<string, number>;
    expect(() => {
      mutable.InvalidKey = 99;
    }).toThrow(TypeError);
    expect(() => {
      mutable.NewCode = 51;
    }).toThrow(TypeError);
    expect(ErrorCode.InvalidKey).toBe(20);
    expect(Object.hasOwn(ErrorCode, "NewCode")).toBe(false);
  });
});

describe("parseErrorCode", () => {
  it.each([
    ["unknown name", "NoSuchCode"],
    ["lower-case name", "invalidkey"],
    ["zero", 0],
    ["number above the range", 51],
    ["negative number", -1],
    ["fraction", 20.5],
    ["numeric string out of range", "51"],
    ["numeric string with sign", "+20"],
    ["numeric string with spaces", " 20"],
    ["numeric string with fraction", "20.0"],
    ["empty string", ""],
    ["inherited property name", "toString"],
    ["prototype property name", "__proto__"],
    ["NaN", Number.NaN],
    ["null", null],
    ["undefined", undefined],
    ["boolean", true],
    ["object", { errorCode: 20 }],
    ["array", [20]],
  ])("returns undefined for %s", (_label, value) => {
    expect(parseErrorCode(value)).toBeUndefined();
  });

  it("isErrorCode rejects non-codes", () => {
    expect(isErrorCode(0)).toBe(false);
    expect(isErrorCode(51)).toBe(false);
    expect(isErrorCode("20")).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });

  it("a CrossauthError built from an invalid number becomes UnknownError", () => {
    const e = new CrossauthError(999 as ErrorCode, "x");
    expect(e.code).toBe(50);
    expect(e.codeName).toBe("UnknownError");
    expect(e.httpStatus).toBe(500);
  });
});
