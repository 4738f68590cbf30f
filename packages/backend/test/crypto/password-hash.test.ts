import {
  DEFAULT_PBKDF2_DIGEST,
  DEFAULT_PBKDF2_ITERATIONS,
  DEFAULT_PBKDF2_KEY_LENGTH,
  decodePasswordHash,
  encodePasswordHash,
  passwordHash,
  passwordsEqual,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const SALT = "ABCDEFGHIJKLMNOPQRSTUV";
const HASH = "pyk0wDckb4Fyt-G9RC4UgTKpHdoJW1prfTWh2jPgDbA";
/** The wire-formats.md vector for `bobPass123`. */
const VECTOR = `pbkdf2:sha256:32:1000:0:${SALT}:${HASH}`;
const PEPPERED = `pbkdf2:sha256:32:1000:1:${SALT}:DmKv-AKfOkWG6j9Fyj-QIogJSX_bOeukhemImtsUAn8`;

describe("passwordsEqual", () => {
  it("is false for a wrong password, without throwing", async () => {
    await expect(passwordsEqual("bobPass124", VECTOR)).resolves.toBe(false);
    await expect(passwordsEqual("", VECTOR)).resolves.toBe(false);
    await expect(passwordsEqual("bobpass123", VECTOR)).resolves.toBe(false);
  });

  it("is false for a peppered hash with the wrong pepper", async () => {
    await expect(passwordsEqual("bobPass123", PEPPERED, "PEPPEX")).resolves.toBe(false);
  });

  it("is false for a peppered hash with the right pepper and a wrong password", async () => {
    await expect(passwordsEqual("bobPass12", PEPPERED, "PEPPER")).resolves.toBe(false);
  });

  it("is true for a hash made with a random salt", async () => {
    const stored = await passwordHash("correct horse", { iterations: 1000, encode: true });
    expect(decodePasswordHash(stored).salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await expect(passwordsEqual("correct horse", stored)).resolves.toBe(true);
    await expect(passwordsEqual("correct horsf", stored)).resolves.toBe(false);
  });
});

describe("malformed stored hashes", () => {
  const invalidHash: [string, string][] = [
    ["6 fields", `pbkdf2:sha256:32:1000:0:${SALT}`],
    ["8 fields", `${VECTOR}:extra`],
    ["non-numeric iterations", `pbkdf2:sha256:32:abc:0:${SALT}:${HASH}`],
    ["non-numeric key length", `pbkdf2:sha256:x32:1000:0:${SALT}:${HASH}`],
    ['useSecret "2"', `pbkdf2:sha256:32:1000:2:${SALT}:${HASH}`],
    ["empty salt", `pbkdf2:sha256:32:1000:0::${HASH}`],
    ["empty hash", `pbkdf2:sha256:32:1000:0:${SALT}:`],
    ["empty string", ""],
    ['garbage hash field "!!!"', `pbkdf2:sha256:32:1000:0:${SALT}:!!!`],
    ["hash shorter than keyLen", `pbkdf2:sha256:32:1000:0:${SALT}:${HASH.slice(0, 42)}`],
    ["hash of 31 bytes", `pbkdf2:sha256:32:1000:0:${SALT}:${Buffer.alloc(31, 7).toString("base64url")}`],
    ["hash longer than keyLen", `pbkdf2:sha256:16:1000:0:${SALT}:${HASH}`],
    ["hash with misplaced padding", `pbkdf2:sha256:32:1000:0:${SALT}:${HASH}==`],
  ];

  it.each(invalidHash)("decodePasswordHash: %s → InvalidHash", (_label, stored) => {
    expectCrossauthError(() => decodePasswordHash(stored), ErrorCode.InvalidHash);
  });

  it.each([...invalidHash, ["zero iterations", `pbkdf2:sha256:32:0:0:${SALT}:${HASH}`]] as [
    string,
    string,
  ][])("passwordsEqual: %s → InvalidHash", async (_label, stored) => {
    await expectCrossauthRejection(passwordsEqual("bobPass123", stored), ErrorCode.InvalidHash);
  });

  it('field 0 "bcrypt" → UnsupportedAlgorithm', async () => {
    const stored = `bcrypt:sha256:32:1000:0:${SALT}:${HASH}`;
    expectCrossauthError(() => decodePasswordHash(stored), ErrorCode.UnsupportedAlgorithm);
    await expectCrossauthRejection(passwordsEqual("bobPass123", stored), ErrorCode.UnsupportedAlgorithm);
  });

  it('digest "md7" → UnsupportedAlgorithm', async () => {
    const stored = `pbkdf2:md7:32:1000:0:${SALT}:${HASH}`;
    await expectCrossauthRejection(passwordsEqual("bobPass123", stored), ErrorCode.UnsupportedAlgorithm);
    await expectCrossauthRejection(
      passwordHash("bobPass123", { salt: SALT, iterations: 1000, digest: "md7" }),
      ErrorCode.UnsupportedAlgorithm,
    );
  });

  it("flag 1 without a secret → Configuration", async () => {
    await expectCrossauthRejection(passwordsEqual("bobPass123", PEPPERED), ErrorCode.Configuration);
    await expectCrossauthRejection(passwordsEqual("bobPass123", PEPPERED, ""), ErrorCode.Configuration);
  });
});

describe("encodePasswordHash / decodePasswordHash", () => {
  it("round-trip", () => {
    const stored = encodePasswordHash(HASH, SALT, true, 1234, 32, "sha256");
    expect(stored).toBe(`pbkdf2:sha256:32:1234:1:${SALT}:${HASH}`);
    expect(decodePasswordHash(stored)).toEqual({
      hashedPassword: HASH,
      salt: SALT,
      useSecret: true,
      iterations: 1234,
      keyLen: 32,
      digest: "sha256",
    });
    const parts = decodePasswordHash(VECTOR);
    expect(
      encodePasswordHash(
        parts.hashedPassword,
        parts.salt,
        parts.useSecret,
        parts.iterations,
        parts.keyLen,
        parts.digest,
      ),
    ).toBe(VECTOR);
  });

  it("refuses fields containing ':'", () => {
    expectCrossauthError(
      () => encodePasswordHash(HASH, "a:b", false, 1000, 32, "sha256"),
      ErrorCode.InvalidHash,
    );
  });

  it("passwordHash with an empty secret uses no pepper", async () => {
    const stored = await passwordHash("bobPass123", {
      salt: SALT,
      iterations: 1000,
      secret: "",
      encode: true,
    });
    expect(stored).toBe(VECTOR);
  });
});

describe("defaults", () => {
  it("are sha256, 32 bytes, 600000 iterations", async () => {
    expect([DEFAULT_PBKDF2_DIGEST, DEFAULT_PBKDF2_KEY_LENGTH, DEFAULT_PBKDF2_ITERATIONS]).toEqual([
      "sha256",
      32,
      600000,
    ]);
    const stored = await passwordHash("x", { encode: true });
    const parts = decodePasswordHash(stored);
    expect(parts).toMatchObject({ digest: "sha256", keyLen: 32, iterations: 600000, useSecret: false });
    expect(parts.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(parts.hashedPassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
