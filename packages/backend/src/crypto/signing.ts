/**
 * Hashes and HMAC-SHA256 signed values (wire-formats.md, "Signed values").
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { base64urlToStr, canonicalBase64urlToBytes, strToBase64url } from "./base64.js";
import { randomSalt } from "./random.js";

const legacyHexSignature = /^[0-9a-f]{64}$/;

/**
 * SHA-256 of the UTF-8 text, as unpadded base64url (43 characters). Not for passwords.
 * @param plaintext - text to hash
 */
export function sha256(plaintext: string): string {
  return createHash("sha256").update(plaintext, "utf8").digest("base64url");
}

/**
 * The standard Crossauth hash: {@link sha256}. Used to store keys and to log secrets by hash.
 * @param plaintext - text to hash
 */
export function hash(plaintext: string): string {
  return sha256(plaintext);
}

function hmac(secret: string, value: string): Buffer {
  if (typeof secret !== "string" || secret.length === 0) {
    throw new CrossauthError(ErrorCode.Configuration, "A non-empty secret is needed to sign or verify");
  }
  return createHmac("sha256", secret).update(value, "utf8").digest();
}

/**
 * Splits `value.signature` and checks the signature over `value` in constant time.
 * Accepts base64url signatures in canonical form and the legacy 64-char lower-case hex form.
 */
function verifySignature(signed: string, secret: string): string {
  const parts = typeof signed === "string" ? signed.split(".") : [];
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new CrossauthError(ErrorCode.InvalidKey, "Signed value is not in the expected format");
  }
  const [value, signature] = parts as [string, string];
  const expected = hmac(secret, value);
  const given = legacyHexSignature.test(signature)
    ? Buffer.from(signature, "hex")
    : canonicalBase64urlToBytes(signature, ErrorCode.InvalidKey);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new CrossauthError(ErrorCode.InvalidKey, "Signature is invalid");
  }
  return value;
}

/**
 * The text that {@link sign} signs: base64url of the compact JSON of the payload's fields followed by
 * `t` (timestamp) and `s` (salt).
 * @param payload - fields to sign (`t` and `s` in it are replaced)
 * @param salt - default `randomSalt()`
 * @param timestamp - milliseconds since the epoch; default now
 */
export function signableToken(payload: Record<string, unknown>, salt?: string, timestamp?: number): string {
  const { t: _t, s: _s, ...fields } = payload;
  const body = { ...fields, t: timestamp ?? Date.now(), s: salt ?? randomSalt() };
  return strToBase64url(JSON.stringify(body));
}

/**
 * Signs a JSON payload: `<signableToken>.<b64u(HMAC-SHA256(secret, signableToken))>`.
 * @param payload - fields to sign
 * @param secret - the HMAC key
 * @param salt - default `randomSalt()`
 * @param timestamp - milliseconds since the epoch; default now
 * @throws CrossauthError `Configuration` for an empty secret
 */
export function sign(
  payload: Record<string, unknown>,
  secret: string,
  salt?: string,
  timestamp?: number,
): string {
  const token = signableToken(payload, salt, timestamp);
  return `${token}.${hmac(secret, token).toString("base64url")}`;
}

/**
 * Verifies a value made by {@link sign} and returns its payload (with `t` and `s`).
 * @param signedMessage - `payload.signature`
 * @param secret - the HMAC key
 * @param expiry - seconds the value stays valid after its timestamp; no limit when absent
 * @param now - the current time in ms (for tests); default `Date.now()`
 * @throws CrossauthError `InvalidKey` for a bad format, bad JSON or bad signature; `Expired` when
 *   older than `expiry`
 */
export function unsign(
  signedMessage: string,
  secret: string,
  expiry?: number,
  now: number = Date.now(),
): Record<string, unknown> {
  const token = verifySignature(signedMessage, secret);
  let payload: unknown;
  try {
    payload = JSON.parse(base64urlToStr(token));
  } catch {
    throw new CrossauthError(ErrorCode.InvalidKey, "Signed payload is not valid JSON");
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new CrossauthError(ErrorCode.InvalidKey, "Signed payload is not a JSON object");
  }
  const record = payload as Record<string, unknown>;
  if (expiry !== undefined && expiry !== null) {
    if (typeof record.t !== "number")
      throw new CrossauthError(ErrorCode.InvalidKey, "Signed payload has no timestamp");
    if (now > record.t + expiry * 1000)
      throw new CrossauthError(ErrorCode.Expired, "Signed value has expired");
  }
  return record;
}

/**
 * Signs a value that is already random base64url: `v.<b64u(HMAC-SHA256(secret, v))>`.
 * @param payload - the random value
 * @param secret - the HMAC key
 * @throws CrossauthError `Configuration` for an empty secret
 */
export function signSecureToken(payload: string, secret: string): string {
  return `${payload}.${hmac(secret, payload).toString("base64url")}`;
}

/**
 * Verifies a value made by {@link signSecureToken} and returns the value.
 * @param signedMessage - `value.signature`
 * @param secret - the HMAC key
 * @throws CrossauthError `InvalidKey` for a bad format or signature
 */
export function unsignSecureToken(signedMessage: string, secret: string): string {
  return verifySignature(signedMessage, secret);
}
