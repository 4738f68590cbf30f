/**
 * Base64 and base64url (RFC 4648 §4, §5) helpers. Crossauth emits unpadded base64url; decoders
 * accept padding and, where noted, the standard alphabet.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

const base64urlPattern = /^[A-Za-z0-9_-]*={0,2}$/;
const anyBase64Pattern = /^[A-Za-z0-9_+/-]*={0,2}$/;

/**
 * Encodes bytes as unpadded base64url.
 * @param bytes - bytes to encode
 */
export function bytesToBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Decodes base64url (padded or not; standard-alphabet `+` `/` too) strictly: characters outside the
 * alphabet, misplaced padding or an impossible length are errors, never silently dropped.
 * @param text - the encoded text
 * @param code - error code to throw on bad input (default `DataFormat`)
 * @throws CrossauthError with `code` when `text` is not base64
 */
export function base64urlToBytes(text: string, code: ErrorCode = ErrorCode.DataFormat): Buffer {
  if (typeof text !== "string" || !anyBase64Pattern.test(text)) {
    throw new CrossauthError(code, "Value is not base64url-encoded");
  }
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1) throw new CrossauthError(code, "Value is not base64url-encoded");
  if (text.length !== body.length && text.length % 4 !== 0) {
    throw new CrossauthError(code, "Value has invalid base64 padding");
  }
  return Buffer.from(body.replace(/\+/g, "-").replace(/\//g, "_"), "base64url");
}

/**
 * Decodes base64url that must be in canonical form: unpadded or correctly padded, with the unused
 * bits of the last character zero. Used for signatures, so that no two texts verify as one.
 * @param text - the encoded text
 * @param code - error code to throw on bad input
 * @throws CrossauthError with `code` when `text` is not canonical base64url
 */
export function canonicalBase64urlToBytes(text: string, code: ErrorCode): Buffer {
  if (typeof text !== "string" || !base64urlPattern.test(text)) {
    throw new CrossauthError(code, "Value is not base64url-encoded");
  }
  const bytes = base64urlToBytes(text, code);
  if (bytesToBase64url(bytes) !== text.replace(/=+$/, "")) {
    throw new CrossauthError(code, "Value is not canonical base64url");
  }
  return bytes;
}

/**
 * Base64url-encodes UTF-8 text (unpadded).
 * @param text - text to encode
 */
export function strToBase64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/**
 * Decodes base64url (or base64) to UTF-8 text.
 * @param encoded - encoded text, padded or not
 * @throws CrossauthError `DataFormat` when not base64
 */
export function base64urlToStr(encoded: string): string {
  return base64urlToBytes(encoded).toString("utf8");
}

/**
 * Adds `=` padding to make the length a multiple of 4.
 * @param s - base64 or base64url text
 */
export function base64Pad(s: string): string {
  const body = s.replace(/=+$/, "");
  const rem = body.length % 4;
  return rem === 0 ? body : body + "=".repeat(4 - rem);
}

/**
 * Converts standard base64 to unpadded base64url.
 * @param s - base64 text
 */
export function base64ToBase64url(s: string): string {
  return s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Converts base64url to padded standard base64.
 * @param s - base64url text
 */
export function base64urlToBase64(s: string): string {
  return base64Pad(s.replace(/-/g, "+").replace(/_/g, "/"));
}
