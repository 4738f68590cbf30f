/**
 * Random values from `node:crypto`'s CSPRNG (wire-formats.md, "Crypto primitives").
 * @module
 */
import { randomFillSync, randomUUID } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { bytesToBase64url } from "./base64.js";

/** Alphabet of {@link randomBase32}: no `I`, `O`, `0` or `1`, so codes can be read aloud. */
export const BASE32_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 65536) {
    throw new CrossauthError(ErrorCode.ValueError, "Random value length must be an integer from 0 to 65536");
  }
}

/** Size of the buffer small random values are cut from. */
const POOL_SIZE = 4096;
/** Values up to this many bytes come from the pool; longer ones are drawn on their own. */
const POOL_MAX_TAKE = 256;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/**
 * `length` fresh bytes from `node:crypto`'s CSPRNG. Small requests are cut from a 4 KiB buffer filled
 * by one `randomFillSync` call (each byte is handed out once and wiped from the buffer), because a
 * call into the CSPRNG costs far more than copying: session ids and CSRF masks are drawn on every
 * request. Larger requests are filled directly.
 * @param length - number of bytes (0 to 65536)
 * @throws CrossauthError `ValueError` for a negative or non-integer length
 */
export function randomBytesFromPool(length: number): Buffer {
  checkLength(length);
  const out = Buffer.allocUnsafe(length);
  if (length > POOL_MAX_TAKE) return randomFillSync(out);
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(out, 0, poolOffset, poolOffset + length);
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return out;
}

/**
 * `length` random bytes as unpadded base64url (16 → 22 chars, 32 → 43 chars).
 * @param length - number of random bytes
 * @throws CrossauthError `ValueError` for a negative or non-integer length
 */
export function randomValue(length: number): string {
  return bytesToBase64url(randomBytesFromPool(length));
}

/** A random salt: `randomValue(16)`. Used as its base64url text. */
export function randomSalt(): string {
  return randomValue(16);
}

/**
 * Maps bytes to {@link BASE32_ALPHABET} (`alphabet[b % 32]`), with a `-` between groups of
 * `dashEvery` characters when it is positive.
 * @param bytes - the bytes
 * @param dashEvery - group size, or 0/undefined for no dashes
 */
export function base32FromBytes(bytes: Uint8Array, dashEvery?: number): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    if (dashEvery && dashEvery > 0 && i > 0 && i % dashEvery === 0) out += "-";
    out += BASE32_ALPHABET[(bytes[i] as number) % 32];
  }
  return out;
}

/**
 * A random string of `length` characters from {@link BASE32_ALPHABET}, e.g. for user codes.
 * @param length - number of characters (one random byte each)
 * @param dashEvery - put a `-` between groups of this many characters
 * @throws CrossauthError `ValueError` for a negative or non-integer length
 */
export function randomBase32(length: number, dashEvery?: number): string {
  return base32FromBytes(randomBytesFromPool(length), dashEvery);
}

/** A random RFC 4122 version 4 UUID (36 characters with dashes). */
export function uuid(): string {
  return randomUUID();
}
