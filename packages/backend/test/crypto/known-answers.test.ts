/**
 * Known-answer tests: every vector of wire-formats.md, plus the legacy variants readers must accept.
 */
import { createHmac, pbkdf2Sync } from "node:crypto";
import {
  BASE32_ALPHABET,
  base32FromBytes,
  base64urlToStr,
  decodePasswordHash,
  hash,
  passwordHash,
  passwordsEqual,
  randomBase32,
  randomSalt,
  randomValue,
  sha256,
  sign,
  signableToken,
  signSecureToken,
  symmetricDecrypt,
  symmetricEncrypt,
  unsign,
  unsignSecureToken,
  uuid,
  xor,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";

const B64U = /^[A-Za-z0-9_-]+$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BASE32_CHAR = "[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]";

function hmacHex(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("hex");
}
function hmacB64u(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("base64url");
}

describe("hash", () => {
  it('hash("PLAINTEXT") is the vector', () => {
    expect(hash("PLAINTEXT")).toBe("y0Dn2tyGFhuXmN5IUS8zLSHBQfzB4ooIb95KM3WqsbU");
    expect(sha256("PLAINTEXT")).toBe("y0Dn2tyGFhuXmN5IUS8zLSHBQfzB4ooIb95KM3WqsbU");
  });

  it("is 43 base64url characters", () => {
    expect(hash("")).toHaveLength(43);
    expect(hash("x".repeat(1000))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("xor", () => {
  it("is the vector", () => {
    expect(xor("QUJDREVGRw", "SElKS0xNTg")).toBe("CQsJDwkLCQ");
  });

  it("undoes itself with the same mask", () => {
    expect(xor("CQsJDwkLCQ", "SElKS0xNTg")).toBe("QUJDREVGRw");
  });
});

describe("symmetricEncrypt", () => {
  const key = "xkDDElW4zZTLdIZ3AS0v0gJbh_SZZSAo6YuWDeEtBaU";
  const iv = Buffer.from("ABCDEFGHIJKLMNOP");
  const encrypted = "QUJDREVGR0hJSktMTU5PUA.vm3j7WeBpDGM76GhB0K4gQlE7nnkUGQvVe4hoPtocSI";

  it("encrypts the vector with the given IV", () => {
    expect(symmetricEncrypt("This is the plaintext", key, iv)).toBe(encrypted);
  });

  it("decrypts the vector", () => {
    expect(symmetricDecrypt(encrypted, key)).toBe("This is the plaintext");
  });

  it("uses a random IV when none is given, and still decrypts", () => {
    const a = symmetricEncrypt("This is the plaintext", key);
    const b = symmetricEncrypt("This is the plaintext", key);
    expect(a).not.toBe(b);
    expect(a.split(".")[0]).toHaveLength(22);
    expect(symmetricDecrypt(a, key)).toBe("This is the plaintext");
  });
});

describe("password hashes", () => {
  const salt = "ABCDEFGHIJKLMNOPQRSTUV";
  const plain = "pbkdf2:sha256:32:1000:0:ABCDEFGHIJKLMNOPQRSTUV:pyk0wDckb4Fyt-G9RC4UgTKpHdoJW1prfTWh2jPgDbA";
  const peppered =
    "pbkdf2:sha256:32:1000:1:ABCDEFGHIJKLMNOPQRSTUV:DmKv-AKfOkWG6j9Fyj-QIogJSX_bOeukhemImtsUAn8";

  it("passwordHash gives the vector without a pepper", async () => {
    expect(await passwordHash("bobPass123", { salt, iterations: 1000, encode: true })).toBe(plain);
    expect(await passwordHash("bobPass123", { salt, iterations: 1000 })).toBe(
      "pyk0wDckb4Fyt-G9RC4UgTKpHdoJW1prfTWh2jPgDbA",
    );
  });

  it("passwordHash gives the vector with pepper PEPPER", async () => {
    expect(await passwordHash("bobPass123", { salt, iterations: 1000, encode: true, secret: "PEPPER" })).toBe(
      peppered,
    );
  });

  it("the vectors are PBKDF2-HMAC-SHA256 over the salt text (and salt!secret)", () => {
    expect(pbkdf2Sync("bobPass123", salt, 1000, 32, "sha256").toString("base64url")).toBe(
      plain.split(":")[6],
    );
    expect(pbkdf2Sync("bobPass123", `${salt}!PEPPER`, 1000, 32, "sha256").toString("base64url")).toBe(
      peppered.split(":")[6],
    );
  });

  it("passwordsEqual accepts the vectors", async () => {
    expect(await passwordsEqual("bobPass123", plain)).toBe(true);
    expect(await passwordsEqual("bobPass123", peppered, "PEPPER")).toBe(true);
  });

  it("a flag-0 hash verifies even when a secret is supplied", async () => {
    expect(await passwordsEqual("bobPass123", plain, "PEPPER")).toBe(true);
  });

  it("a Python-style padded hash verifies", async () => {
    const padded = `${plain}=`;
    expect(padded.endsWith("DbA=")).toBe(true);
    expect(padded.split(":")[6]).toHaveLength(44);
    expect(await passwordsEqual("bobPass123", padded)).toBe(true);
    expect(await passwordsEqual("wrong", padded)).toBe(false);
  });

  it("a padded peppered hash verifies", async () => {
    expect(await passwordsEqual("bobPass123", `${peppered}=`, "PEPPER")).toBe(true);
  });

  it("decodePasswordHash gives the vector's fields", () => {
    expect(decodePasswordHash(peppered)).toEqual({
      hashedPassword: "DmKv-AKfOkWG6j9Fyj-QIogJSX_bOeukhemImtsUAn8",
      salt,
      useSecret: true,
      iterations: 1000,
      keyLen: 32,
      digest: "sha256",
    });
  });

  it("honours the stored digest and key length (sha512, 64 bytes)", async () => {
    const stored = await passwordHash("bobPass123", {
      salt,
      iterations: 1000,
      keyLen: 64,
      digest: "sha512",
      encode: true,
    });
    const expectedHash = pbkdf2Sync("bobPass123", salt, 1000, 64, "sha512").toString("base64url");
    expect(stored).toBe(`pbkdf2:sha512:64:1000:0:${salt}:${expectedHash}`);
    expect(decodePasswordHash(stored)).toEqual({
      hashedPassword: expectedHash,
      salt,
      useSecret: false,
      iterations: 1000,
      keyLen: 64,
      digest: "sha512",
    });
    expect(expectedHash).toHaveLength(86);
    expect(await passwordsEqual("bobPass123", stored)).toBe(true);
    expect(await passwordsEqual("bobPass124", stored)).toBe(false);
  });
});

describe("signed values", () => {
  const payloadPart = "eyJ2IjoiYWJjIiwidCI6MTcwMDAwMDAwMDAwMCwicyI6IlNBTFQifQ";
  const signed = `${payloadPart}.haACRoBtuK2vmvpwN9FO-h91kCDlplOFDeQ_22xlnQY`;
  const expected = { v: "abc", t: 1700000000000, s: "SALT" };

  it("signableToken is b64u of the compact JSON with t then s", () => {
    expect(signableToken({ v: "abc" }, "SALT", 1700000000000)).toBe(payloadPart);
    expect(base64urlToStr(payloadPart)).toBe('{"v":"abc","t":1700000000000,"s":"SALT"}');
  });

  it("sign gives the vector", () => {
    expect(sign({ v: "abc" }, "SECRET", "SALT", 1700000000000)).toBe(signed);
  });

  it("unsign of the vector returns the payload with t and s", () => {
    expect(unsign(signed, "SECRET")).toEqual(expected);
  });

  it("unsign accepts a legacy signature of 64 lower-case hex characters", () => {
    const hex = hmacHex("SECRET", payloadPart);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(unsign(`${payloadPart}.${hex}`, "SECRET")).toEqual(expected);
  });

  it("unsign rejects an upper-case hex signature", () => {
    const hex = hmacHex("SECRET", payloadPart).toUpperCase();
    expectCrossauthError(() => unsign(`${payloadPart}.${hex}`, "SECRET"), ErrorCode.InvalidKey);
  });

  it("unsign accepts a padded payload signed over the padded text (hex and b64u signature)", () => {
    expect(payloadPart.length % 4).toBe(2);
    const padded = `${payloadPart}==`;
    expect(unsign(`${padded}.${hmacHex("SECRET", padded)}`, "SECRET")).toEqual(expected);
    expect(unsign(`${padded}.${hmacB64u("SECRET", padded)}`, "SECRET")).toEqual(expected);
  });

  it("a padded payload signed over the unpadded text does not verify", () => {
    const padded = `${payloadPart}==`;
    expectCrossauthError(
      () => unsign(`${padded}.${hmacB64u("SECRET", payloadPart)}`, "SECRET"),
      ErrorCode.InvalidKey,
    );
  });

  it("unsign accepts a payload of another padded length (one '=')", () => {
    const token = signableToken({ v: "abcd" }, "SALT", 1700000000000);
    expect(token.length % 4).toBe(3);
    const padded = `${token}=`;
    expect(unsign(`${padded}.${hmacHex("SECRET", padded)}`, "SECRET")).toEqual({
      v: "abcd",
      t: 1700000000000,
      s: "SALT",
    });
  });
});

describe("random values", () => {
  it("base32FromBytes gives the vector", () => {
    expect(base32FromBytes(Uint8Array.from([0, 1, 31, 32, 255, 100, 7, 8]), 4)).toBe("AB9A-9EHJ");
    expect(base32FromBytes(Uint8Array.from([0, 1, 31, 32, 255, 100, 7, 8]))).toBe("AB9A9EHJ");
  });

  it("the base32 alphabet has no I, O, 0 or 1", () => {
    expect(BASE32_ALPHABET).toBe("ABCDEFGHJKLMNPQRSTUVWXYZ23456789");
  });

  it("randomValue(16) is 22 base64url characters and randomValue(32) 43", () => {
    const v16 = randomValue(16);
    const v32 = randomValue(32);
    expect(v16).toHaveLength(22);
    expect(v32).toHaveLength(43);
    expect(v16).toMatch(B64U);
    expect(v32).toMatch(B64U);
    expect(Buffer.from(v16, "base64url")).toHaveLength(16);
    expect(randomValue(16)).not.toBe(v16);
  });

  it("randomSalt is 22 base64url characters", () => {
    expect(randomSalt()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("uuid is a v4 UUID", () => {
    const u = uuid();
    expect(u).toHaveLength(36);
    expect(u).toMatch(UUID_V4);
  });

  it("randomBase32(20) uses only the alphabet", () => {
    expect(randomBase32(20)).toMatch(new RegExp(`^${BASE32_CHAR}{20}$`));
  });

  it("randomBase32(8, 4) is two groups of four", () => {
    expect(randomBase32(8, 4)).toMatch(new RegExp(`^${BASE32_CHAR}{4}-${BASE32_CHAR}{4}$`));
  });
});

describe("session cookie", () => {
  const id = Buffer.from(Array.from({ length: 16 }, (_, i) => i)).toString("base64url");
  const secret = "ABCDEFGHIJKLMNOPQRSTUVWX";
  const cookie = "AAECAwQFBgcICQoLDA0ODw.zQOcfYCDdrLmNsSMOXk97RxNA2Zjy1bsmH9rnjnFwHw";

  it("id of bytes 0..15 is the vector", () => {
    expect(id).toBe("AAECAwQFBgcICQoLDA0ODw");
  });

  it("the cookie is signSecureToken(id, secret)", () => {
    expect(signSecureToken(id, secret)).toBe(cookie);
    expect(unsignSecureToken(cookie, secret)).toBe(id);
  });

  it('the stored key is "s:" + hash(id)', () => {
    expect(`s:${hash(id)}`).toBe("s:XSYR1aTdK0Cyd9_bXs9bSYGRUNfVxi9O75YMsMJNsgw");
  });

  it("unsignSecureToken accepts a legacy hex signature", () => {
    expect(unsignSecureToken(`${id}.${hmacHex(secret, id)}`, secret)).toBe(id);
  });
});

describe("CSRF token", () => {
  const T = Buffer.alloc(16, 0x01).toString("base64url");
  const M = Buffer.alloc(16, 0x02).toString("base64url");
  const secret = "ABCDEFGHIJKLMNOPQRSTUVWX";

  it("T and M are the vector's values", () => {
    expect(T).toBe("AQEBAQEBAQEBAQEBAQEBAQ");
    expect(M).toBe("AgICAgICAgICAgICAgICAg");
  });

  it("the cookie is signSecureToken(T, secret)", () => {
    const cookie = signSecureToken(T, secret);
    expect(cookie).toBe("AQEBAQEBAQEBAQEBAQEBAQ.dzyS0wrEh1GwkvWZU81x9SlkzTnrQ_N2LVdK1Dt0MZU");
    expect(unsignSecureToken(cookie, secret)).toBe(T);
  });

  it('the form value is M + "." + xor(T, M), and unmasks to T', () => {
    const formValue = `${M}.${xor(T, M)}`;
    expect(formValue).toBe("AgICAgICAgICAgICAgICAg.AwMDAwMDAwMDAwMDAwMDAw");
    const [mask, masked] = formValue.split(".") as [string, string];
    expect(xor(masked, mask)).toBe(T);
  });
});
