/** Property tests of the crypto primitives (fast-check). */
import {
  base64urlToStr,
  decodePasswordHash,
  passwordHash,
  passwordsEqual,
  sign,
  signSecureToken,
  symmetricDecrypt,
  symmetricEncrypt,
  unsign,
  unsignSecureToken,
  xor,
} from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectCrossauthError, thrownBy } from "../helpers/expect-crossauth-error.js";

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
/** Characters a tamperer might substitute: the base64url alphabet, the separator and padding. */
const TAMPER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=";

const secretArb = fc.string({ minLength: 1, maxLength: 40, unit: "binary" });
const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(b64u);
const randomTokenArb = fc.uint8Array({ minLength: 1, maxLength: 48 }).map(b64u);
/** JSON payloads; -0 (which JSON writes as 0) is normalised away so payloads survive JSON as they are. */
const payloadArb = fc
  .dictionary(
    fc.string({ maxLength: 12, unit: "binary" }).filter((k) => k !== "t" && k !== "s"),
    fc.jsonValue({ maxDepth: 3, stringUnit: "binary" }),
    { maxKeys: 6 },
  )
  .map((payload) => JSON.parse(JSON.stringify(payload)) as Record<string, unknown>);
const saltArb = fc.string({ minLength: 1, maxLength: 30, unit: "binary" });
const timeArb = fc.integer({ min: 0, max: 4_102_444_800_000 });
/** A position in a string and a replacement character different from the one there. */
const tamperArb = fc.record({ position: fc.nat(), choice: fc.nat() });
const garbageArb = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "binary-ascii" }),
  fc.stringMatching(/^[A-Za-z0-9_=.:-]*$/),
);

function tamper(text: string, { position, choice }: { position: number; choice: number }): string {
  const i = position % text.length;
  const options = TAMPER_CHARS.replace(text[i] as string, "");
  return text.slice(0, i) + options[choice % options.length] + text.slice(i + 1);
}

/** Every proper prefix of `text`. */
function prefixes(text: string): string[] {
  return Array.from({ length: text.length }, (_, n) => text.slice(0, n));
}

/** Asserts that `fn` throws, and that what it throws is a CrossauthError. */
function throwsCrossauthError(fn: () => unknown): void {
  expect(thrownBy(fn)).toBeInstanceOf(CrossauthError);
}

/**
 * How a call ends: the code name of the CrossauthError it throws, or a description of anything else.
 * Cheaper than one `expect` per call in loops over thousands of inputs.
 */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return "returned";
  } catch (e) {
    return e instanceof CrossauthError ? e.codeName : `threw ${(e as Error)?.constructor?.name}`;
  }
}

/** The distinct outcomes of `fn` over `inputs`, with one failing input for each. */
function outcomes(inputs: string[], fn: (input: string) => unknown): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const input of inputs) seen[outcome(() => fn(input))] ??= input;
  return seen;
}

/** Asserts that `fn` returns a string or throws a CrossauthError. */
function stringOrCrossauthError(fn: () => unknown): void {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CrossauthError);
    return;
  }
  expect(typeof result).toBe("string");
}

async function rejectsWithCrossauthError(promise: Promise<unknown>): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CrossauthError);
}

describe("round trips", () => {
  it("unsign(sign(payload)) is the payload plus t and s", () => {
    fc.assert(
      fc.property(payloadArb, secretArb, saltArb, timeArb, (payload, secret, salt, t) => {
        const signed = sign(payload, secret, salt, t);
        expect(signed.split(".")).toHaveLength(2);
        expect(unsign(signed, secret)).toEqual({ ...payload, t, s: salt });
      }),
      { numRuns: 200 },
    );
  });

  it("unsign(sign(payload)) with the default salt and time", () => {
    fc.assert(
      fc.property(payloadArb, secretArb, (payload, secret) => {
        const result = unsign(sign(payload, secret), secret);
        expect(typeof result.t).toBe("number");
        expect(result.s).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(result).toEqual({ ...payload, t: result.t, s: result.s });
      }),
      { numRuns: 100 },
    );
  });

  it("unsignSecureToken(signSecureToken(v)) is v", () => {
    fc.assert(
      fc.property(randomTokenArb, secretArb, (value, secret) => {
        expect(unsignSecureToken(signSecureToken(value, secret), secret)).toBe(value);
      }),
      { numRuns: 200 },
    );
  });

  it("symmetricDecrypt(symmetricEncrypt(text)) is text", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" })),
        keyArb,
        (text, key) => {
          const encrypted = symmetricEncrypt(text, key);
          expect(encrypted).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
          expect(symmetricDecrypt(encrypted, key)).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("xor twice with the same mask gives the original", () => {
    const pairArb = fc
      .nat({ max: 64 })
      .chain((n) =>
        fc.tuple(
          fc.uint8Array({ minLength: n, maxLength: n }),
          fc.uint8Array({ minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const masked = xor(b64u(a), b64u(b));
        expect(Buffer.from(masked, "base64url")).toHaveLength(a.length);
        expect(xor(masked, b64u(b))).toBe(b64u(a));
      }),
      { numRuns: 200 },
    );
  });

  it("passwordsEqual(p, passwordHash(p)) is true and false for another password", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.option(secretArb, { nil: undefined }),
        async (password, secret) => {
          const stored = await passwordHash(password, { iterations: 1000, encode: true, secret });
          expect(await passwordsEqual(password, stored, secret)).toBe(true);
          expect(await passwordsEqual(`${password}x`, stored, secret)).toBe(false);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("rejection of tampered values", () => {
  it("changing any single character of a sign() value → InvalidKey", () => {
    fc.assert(
      fc.property(payloadArb, secretArb, tamperArb, (payload, secret, change) => {
        const tampered = tamper(sign(payload, secret), change);
        expectCrossauthError(() => unsign(tampered, secret), ErrorCode.InvalidKey);
      }),
      { numRuns: 200 },
    );
  });

  it("changing any single character of a signSecureToken() value → InvalidKey", () => {
    fc.assert(
      fc.property(randomTokenArb, secretArb, tamperArb, (value, secret, change) => {
        const tampered = tamper(signSecureToken(value, secret), change);
        expectCrossauthError(() => unsignSecureToken(tampered, secret), ErrorCode.InvalidKey);
      }),
      { numRuns: 200 },
    );
  });

  it("tampering with every position of one signed value → InvalidKey", () => {
    const signed = sign({ v: "abc" }, "SECRET", "SALT", 1700000000000);
    const tampered: string[] = [];
    for (let position = 0; position < signed.length; position++) {
      for (let choice = 0; choice < TAMPER_CHARS.length - 1; choice++) {
        tampered.push(tamper(signed, { position, choice }));
      }
    }
    expect(new Set(tampered).size).toBe(signed.length * (TAMPER_CHARS.length - 1));
    expect(Object.keys(outcomes(tampered, (t) => unsign(t, "SECRET")))).toEqual(["InvalidKey"]);
  });

  it("a wrong secret → InvalidKey", () => {
    fc.assert(
      fc.property(payloadArb, randomTokenArb, secretArb, secretArb, (payload, value, secret, other) => {
        fc.pre(secret !== other);
        expectCrossauthError(() => unsign(sign(payload, secret), other), ErrorCode.InvalidKey);
        expectCrossauthError(
          () => unsignSecureToken(signSecureToken(value, secret), other),
          ErrorCode.InvalidKey,
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe("truncated and garbage input always gives a CrossauthError", () => {
  it("every prefix of a sign() value", () => {
    fc.assert(
      fc.property(payloadArb, secretArb, (payload, secret) => {
        const seen = outcomes(prefixes(sign(payload, secret)), (p) => unsign(p, secret));
        expect(Object.keys(seen)).toEqual(["InvalidKey"]);
      }),
      { numRuns: 50 },
    );
  });

  it("every prefix of a signSecureToken() value", () => {
    fc.assert(
      fc.property(randomTokenArb, secretArb, (value, secret) => {
        const seen = outcomes(prefixes(signSecureToken(value, secret)), (p) => unsignSecureToken(p, secret));
        expect(Object.keys(seen)).toEqual(["InvalidKey"]);
      }),
      { numRuns: 50 },
    );
  });

  it("every prefix of a symmetricEncrypt() value", () => {
    // printable ASCII text: a truncated ciphertext can never end in valid PKCS#7 padding by chance
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), keyArb, (text, key) => {
        const seen = outcomes(prefixes(symmetricEncrypt(text, key)), (p) => symmetricDecrypt(p, key));
        expect(Object.keys(seen)).toEqual(["InvalidHash"]);
      }),
      { numRuns: 50 },
    );
  });

  it("every prefix of a stored password hash", async () => {
    const stored = await passwordHash("bobPass123", { iterations: 1000, encode: true, secret: "PEPPER" });
    const seen = outcomes(prefixes(stored), decodePasswordHash);
    expect(Object.keys(seen)).toEqual(["InvalidHash"]);
    for (const prefix of prefixes(stored)) {
      await rejectsWithCrossauthError(passwordsEqual("bobPass123", prefix, "PEPPER"));
    }
  });

  it("garbage given to unsign, unsignSecureToken, symmetricDecrypt, decodePasswordHash", () => {
    fc.assert(
      fc.property(garbageArb, keyArb, (garbage, key) => {
        throwsCrossauthError(() => unsign(garbage, "SECRET"));
        throwsCrossauthError(() => unsign(garbage, "SECRET", 60, 0));
        throwsCrossauthError(() => unsignSecureToken(garbage, "SECRET"));
        throwsCrossauthError(() => symmetricDecrypt(garbage, key));
        throwsCrossauthError(() => decodePasswordHash(garbage));
      }),
      { numRuns: 200 },
    );
  });

  it("garbage given to passwordsEqual", async () => {
    await fc.assert(
      fc.asyncProperty(garbageArb, async (garbage) => {
        await rejectsWithCrossauthError(passwordsEqual("bobPass123", garbage, "PEPPER"));
      }),
      { numRuns: 200 },
    );
  });

  it("garbage given to xor and base64urlToStr gives a string or a CrossauthError", () => {
    fc.assert(
      fc.property(garbageArb, garbageArb, (a, b) => {
        stringOrCrossauthError(() => xor(a, b));
        stringOrCrossauthError(() => xor(a, a));
        stringOrCrossauthError(() => base64urlToStr(a));
      }),
      { numRuns: 200 },
    );
  });

  it("garbage given as the key to symmetricDecrypt", () => {
    fc.assert(
      fc.property(garbageArb, (garbage) => {
        throwsCrossauthError(() =>
          symmetricDecrypt("QUJDREVGR0hJSktMTU5PUA.vm3j7WeBpDGM76GhB0K4gQ", garbage),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe("unsign with an expiry", () => {
  it("is valid up to exactly t + expiry·1000 and Expired after", () => {
    fc.assert(
      fc.property(
        timeArb,
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (t, expiry, late) => {
          const signed = sign({ v: "x" }, "SECRET", "SALT", t);
          const deadline = t + expiry * 1000;
          expect(unsign(signed, "SECRET", expiry, t)).toEqual({ v: "x", t, s: "SALT" });
          expect(unsign(signed, "SECRET", expiry, deadline)).toEqual({ v: "x", t, s: "SALT" });
          expectCrossauthError(() => unsign(signed, "SECRET", expiry, deadline + late), ErrorCode.Expired);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the vector expires 1 ms after its expiry", () => {
    const signed =
      "eyJ2IjoiYWJjIiwidCI6MTcwMDAwMDAwMDAwMCwicyI6IlNBTFQifQ.haACRoBtuK2vmvpwN9FO-h91kCDlplOFDeQ_22xlnQY";
    expect(unsign(signed, "SECRET", 60, 1700000060000)).toEqual({ v: "abc", t: 1700000000000, s: "SALT" });
    const e = expectCrossauthError(() => unsign(signed, "SECRET", 60, 1700000060001), ErrorCode.Expired);
    expect(e.httpStatus).toBe(401);
  });

  it("a tampered value is InvalidKey, not Expired, even when it would have expired", () => {
    const signed = sign({ v: "x" }, "SECRET", "SALT", 0);
    expectCrossauthError(() => unsign(`${signed}x`, "SECRET", 1, 1_000_000), ErrorCode.InvalidKey);
  });
});
