/**
 * XOR masking and AES-256-CBC symmetric encryption (wire-formats.md, "Crypto primitives").
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { base64urlToBytes, bytesToBase64url } from "./base64.js";

/**
 * XORs two base64url values byte by byte. The result has the length of `value`.
 * @param value - base64url bytes
 * @param mask - base64url bytes, at least as long as `value`
 * @throws CrossauthError `InvalidKey` when either is not base64url or the mask is too short
 */
export function xor(value: string, mask: string): string {
  const a = base64urlToBytes(value, ErrorCode.InvalidKey);
  const b = base64urlToBytes(mask, ErrorCode.InvalidKey);
  if (b.length < a.length)
    throw new CrossauthError(ErrorCode.InvalidKey, "XOR mask is shorter than the value");
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return bytesToBase64url(out);
}

function aesKey(keyString: string): Buffer {
  const key = base64urlToBytes(keyString, ErrorCode.InvalidHash);
  if (key.length !== 32) throw new CrossauthError(ErrorCode.InvalidHash, "Encryption key must be 32 bytes");
  return key;
}

/**
 * Encrypts UTF-8 text with AES-256-CBC and PKCS#7 padding.
 * @param plaintext - text to encrypt
 * @param keyString - base64url of a 32-byte key
 * @param iv - 16-byte IV; random when absent (always in production)
 * @returns `b64u(iv).b64u(ciphertext)`
 * @throws CrossauthError `InvalidHash` for a bad key or IV
 */
export function symmetricEncrypt(plaintext: string, keyString: string, iv?: Uint8Array): string {
  const key = aesKey(keyString);
  const ivBytes = iv ?? randomBytes(16);
  if (ivBytes.length !== 16) throw new CrossauthError(ErrorCode.InvalidHash, "IV must be 16 bytes");
  const cipher = createCipheriv("aes-256-cbc", key, ivBytes);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `${bytesToBase64url(ivBytes)}.${bytesToBase64url(ciphertext)}`;
}

/**
 * Decrypts a value made by {@link symmetricEncrypt}.
 * @param ciphertext - `b64u(iv).b64u(ciphertext)`
 * @param keyString - base64url of the 32-byte key
 * @returns the UTF-8 plaintext
 * @throws CrossauthError `InvalidHash` for a bad format, key, IV or padding (including a wrong key)
 */
export function symmetricDecrypt(ciphertext: string, keyString: string): string {
  const key = aesKey(keyString);
  const parts = typeof ciphertext === "string" ? ciphertext.split(".") : [];
  if (parts.length !== 2)
    throw new CrossauthError(ErrorCode.InvalidHash, "Ciphertext is not in the expected format");
  const iv = base64urlToBytes(parts[0] as string, ErrorCode.InvalidHash);
  const body = base64urlToBytes(parts[1] as string, ErrorCode.InvalidHash);
  if (iv.length !== 16 || body.length === 0 || body.length % 16 !== 0) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Ciphertext is not in the expected format");
  }
  try {
    const decipher = createDecipheriv("aes-256-cbc", key, iv);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  } catch {
    throw new CrossauthError(ErrorCode.InvalidHash, "Ciphertext could not be decrypted");
  }
}
