import { CrossauthError, ErrorCode, httpStatusName } from "@crossauth/common";
import { describe, expect, it } from "vitest";

describe("CrossauthError constructor", () => {
  it("takes a single message", () => {
    const e = new CrossauthError(ErrorCode.InvalidKey, "The key is bad");
    expect(e.message).toBe("The key is bad");
    expect(e.messages).toEqual(["The key is bad"]);
    expect(e.code).toBe(20);
    expect(e.codeName).toBe("InvalidKey");
    expect(e.httpStatus).toBe(401);
    expect(e.name).toBe("CrossauthError");
  });

  it("takes several messages, joined by '. ' in message and kept in messages", () => {
    const e = new CrossauthError(ErrorCode.PasswordFormat, ["Too short", "Needs a digit", "Needs a capital"]);
    expect(e.message).toBe("Too short. Needs a digit. Needs a capital");
    expect(e.messages).toEqual(["Too short", "Needs a digit", "Needs a capital"]);
  });

  it("copies the message array", () => {
    const messages = ["a", "b"];
    const e = new CrossauthError(ErrorCode.FormEntry, messages);
    messages.push("c");
    expect(e.messages).toEqual(["a", "b"]);
  });

  it("uses a non-empty default message when none is given", () => {
    const e = new CrossauthError(ErrorCode.UserNotExist);
    expect(e.message).toBe("User does not exist");
    expect(e.messages).toEqual(["User does not exist"]);
  });

  it("uses the default message for an empty array", () => {
    const e = new CrossauthError(ErrorCode.InvalidKey, []);
    expect(e.message).toBe("Key is invalid");
    expect(e.messages).toEqual(["Key is invalid"]);
  });

  it("has a non-empty default message for every code", () => {
    for (const code of Object.values(ErrorCode)) {
      const e = new CrossauthError(code);
      expect(e.message.length, `code ${code}`).toBeGreaterThan(0);
      expect(e.messages).toEqual([e.message]);
    }
  });

  it("is an Error and a CrossauthError with a stack", () => {
    const e = new CrossauthError(ErrorCode.Forbidden);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(CrossauthError);
    expect(typeof e.stack).toBe("string");
  });
});

/** The two-way pairs of http-contract.md: OAuth error string ↔ error code. */
const oauthPairs: [string, ErrorCode][] = [
  ["invalid_request", ErrorCode.BadRequest],
  ["unauthorized_client", ErrorCode.UnauthorizedClient],
  ["access_denied", ErrorCode.Unauthorized],
  ["invalid_scope", ErrorCode.InvalidScope],
  ["temporarily_unavailable", ErrorCode.Connection],
  ["invalid_token", ErrorCode.InvalidToken],
  ["expired_token", ErrorCode.ExpiredToken],
  ["insufficient_scope", ErrorCode.InsufficientScope],
  ["mfa_required", ErrorCode.MfaRequired],
  ["authorization_pending", ErrorCode.AuthorizationPending],
  ["slow_down", ErrorCode.SlowDown],
  ["server_error", ErrorCode.UnknownError],
];

describe("OAuth error mapping", () => {
  it.each(oauthPairs)("%s ↔ code %i", (oauth, code) => {
    expect(new CrossauthError(code).oauthErrorCode).toBe(oauth);
    const e = CrossauthError.fromOAuthError(oauth);
    expect(e.code).toBe(code);
  });

  it("unsupported_response_type → BadRequest (one way)", () => {
    expect(CrossauthError.fromOAuthError("unsupported_response_type").code).toBe(ErrorCode.BadRequest);
    expect(new CrossauthError(ErrorCode.BadRequest).oauthErrorCode).toBe("invalid_request");
  });

  it("Expired → expired_token (one way)", () => {
    expect(new CrossauthError(ErrorCode.Expired).oauthErrorCode).toBe("expired_token");
    expect(CrossauthError.fromOAuthError("expired_token").code).toBe(ErrorCode.ExpiredToken);
  });

  it("UserNotExist, an unmapped code, → server_error", () => {
    expect(new CrossauthError(ErrorCode.UserNotExist).oauthErrorCode).toBe("server_error");
  });

  it("every code not in the table → server_error", () => {
    const mapped = new Set<number>([...oauthPairs.map(([, c]) => c), ErrorCode.Expired]);
    const unmapped = Object.values(ErrorCode).filter((c) => !mapped.has(c));
    expect(unmapped).toHaveLength(50 - 13);
    for (const code of unmapped) {
      expect(new CrossauthError(code).oauthErrorCode, `code ${code}`).toBe("server_error");
    }
  });

  it("an unknown OAuth string → UnknownError", () => {
    expect(CrossauthError.fromOAuthError("no_such_error").code).toBe(ErrorCode.UnknownError);
    expect(CrossauthError.fromOAuthError("").code).toBe(ErrorCode.UnknownError);
    expect(CrossauthError.fromOAuthError("INVALID_REQUEST").code).toBe(ErrorCode.UnknownError);
  });

  it("the description becomes the message", () => {
    const e = CrossauthError.fromOAuthError("invalid_scope", "Scope 'admin' is not allowed");
    expect(e.code).toBe(ErrorCode.InvalidScope);
    expect(e.message).toBe("Scope 'admin' is not allowed");
    expect(e.messages).toEqual(["Scope 'admin' is not allowed"]);
  });

  it("without a description (or null) the default message is used", () => {
    expect(CrossauthError.fromOAuthError("invalid_scope").message).toBe("Invalid scope");
    expect(CrossauthError.fromOAuthError("invalid_scope", null).message).toBe("Invalid scope");
  });
});

describe("CrossauthError.asCrossauthError", () => {
  it("returns a CrossauthError as the same instance", () => {
    const e = new CrossauthError(ErrorCode.InvalidCsrf, "bad");
    expect(CrossauthError.asCrossauthError(e)).toBe(e);
    expect(CrossauthError.asCrossauthError(e, "other")).toBe(e);
  });

  it("converts {errorCode: number, errorMessage}", () => {
    const e = CrossauthError.asCrossauthError({ errorCode: 20, errorMessage: "x" });
    expect(e).toBeInstanceOf(CrossauthError);
    expect(e.code).toBe(ErrorCode.InvalidKey);
    expect(e.message).toBe("x");
    expect(e.messages).toEqual(["x"]);
  });

  it("converts {errorCode: name, errorMessages}", () => {
    const e = CrossauthError.asCrossauthError({ errorCode: "InvalidKey", errorMessages: ["a", "b"] });
    expect(e.code).toBe(ErrorCode.InvalidKey);
    expect(e.message).toBe("a. b");
    expect(e.messages).toEqual(["a", "b"]);
  });

  it("converts the JSON error shape back to the same error", () => {
    const original = new CrossauthError(ErrorCode.PasswordFormat, ["one", "two"]);
    const e = CrossauthError.asCrossauthError(JSON.parse(JSON.stringify(original)));
    expect(e.toJSON()).toEqual(original.toJSON());
  });

  it("converts a plain Error to UnknownError, keeping its message and the cause", () => {
    const original = new TypeError("something broke");
    const e = CrossauthError.asCrossauthError(original);
    expect(e.code).toBe(ErrorCode.UnknownError);
    expect(e.message).toBe("something broke");
    expect(e.cause).toBe(original);
  });

  it("uses the default message for an Error without one", () => {
    const e = CrossauthError.asCrossauthError(new Error(""), "fallback");
    expect(e.code).toBe(ErrorCode.UnknownError);
    expect(e.message).toBe("fallback");
  });

  it("converts a string to UnknownError with that message", () => {
    const e = CrossauthError.asCrossauthError("text thrown");
    expect(e.code).toBe(ErrorCode.UnknownError);
    expect(e.message).toBe("text thrown");
  });

  it("converts undefined to UnknownError with the default message", () => {
    const e = CrossauthError.asCrossauthError(undefined, "Couldn't do it");
    expect(e.code).toBe(ErrorCode.UnknownError);
    expect(e.message).toBe("Couldn't do it");
    expect(CrossauthError.asCrossauthError(undefined).message).toBe("Unknown error");
  });

  it("converts an object without a valid errorCode to UnknownError", () => {
    expect(CrossauthError.asCrossauthError({ errorCode: 99 }).code).toBe(ErrorCode.UnknownError);
    expect(CrossauthError.asCrossauthError({ foo: 1 }).code).toBe(ErrorCode.UnknownError);
    expect(CrossauthError.asCrossauthError(null).code).toBe(ErrorCode.UnknownError);
    expect(CrossauthError.asCrossauthError(42).code).toBe(ErrorCode.UnknownError);
  });
});

describe("CrossauthError.toJSON", () => {
  it("has exactly the contract's error shape", () => {
    const e = new CrossauthError(ErrorCode.UsernameOrPasswordInvalid, ["Bad", "Try again"]);
    const json = e.toJSON();
    expect(json).toStrictEqual({
      ok: false,
      errorCode: 4,
      errorCodeName: "UsernameOrPasswordInvalid",
      errorMessage: "Bad. Try again",
      errorMessages: ["Bad", "Try again"],
    });
    expect(Object.keys(json)).toEqual(["ok", "errorCode", "errorCodeName", "errorMessage", "errorMessages"]);
  });

  it("is what JSON.stringify writes, with no stack", () => {
    const e = new CrossauthError(ErrorCode.InvalidKey, "x");
    expect(JSON.stringify(e)).toBe(
      '{"ok":false,"errorCode":20,"errorCodeName":"InvalidKey","errorMessage":"x","errorMessages":["x"]}',
    );
  });

  it("returns a copy of the messages", () => {
    const e = new CrossauthError(ErrorCode.InvalidKey, ["a"]);
    e.toJSON().errorMessages.push("b");
    expect(e.messages).toEqual(["a"]);
  });
});

describe("httpStatusName", () => {
  it.each([
    [200, "OK"],
    ["404", "Not Found"],
    [303, "See Other"],
    [415, "Unsupported Media Type"],
    [401, "Unauthorized"],
    [500, "Internal Server Error"],
    [999, "Internal Server Error"],
    ["abc", "Internal Server Error"],
    ["", "Internal Server Error"],
    [-1, "Internal Server Error"],
  ] as [number | string, string][])("%s → %s", (status, name) => {
    expect(httpStatusName(status)).toBe(name);
    expect(CrossauthError.httpStatusName(status)).toBe(name);
  });
});
