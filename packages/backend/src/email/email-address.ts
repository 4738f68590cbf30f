/**
 * The form of email addresses Crossauth accepts.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** Longest address accepted (RFC 5321 path limit less the angle brackets), in UTF-8 bytes. */
const MAX_EMAIL_LENGTH = 254;
/** Longest local part (RFC 5321 §4.5.3.1.1), in UTF-8 bytes. */
const MAX_LOCAL_PART_LENGTH = 64;
/** Longest domain label (RFC 1035), in characters. */
const MAX_LABEL_LENGTH = 63;
/** Dot-atom local part (RFC 5322 §3.2.3), letters and digits of any script allowed (RFC 6531). */
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
/** A domain label: letters and digits, hyphens inside only. */
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u;
/** A top-level domain: two or more letters, or an IDNA A-label. */
const TOP_LEVEL_DOMAIN = /^(?:\p{L}{2,}|xn--[a-z0-9-]+)$/iu;

/**
 * Whether an address has a valid form: `local@domain.tld`, one `@`, no spaces or quoted parts, a
 * dot-atom local part of at most 64 bytes, a domain of two or more labels ending in a letter-only
 * (or `xn--`) top-level domain, and at most 254 bytes in all.
 * @param email - the address to check
 */
export function isEmailValid(email: string): boolean {
  if (typeof email !== "string") return false;
  if (Buffer.byteLength(email, "utf8") > MAX_EMAIL_LENGTH) return false;
  const parts = email.split("@");
  if (parts.length !== 2) return false;
  const [local = "", domain = ""] = parts;
  if (Buffer.byteLength(local, "utf8") > MAX_LOCAL_PART_LENGTH || !LOCAL_PART.test(local)) return false;
  const labels = domain.split(".");
  if (labels.length < 2) return false;
  if (!labels.every((label) => label.length <= MAX_LABEL_LENGTH && DOMAIN_LABEL.test(label))) return false;
  return TOP_LEVEL_DOMAIN.test(labels[labels.length - 1] ?? "");
}

/**
 * Throws unless an address has a valid form (see {@link isEmailValid}).
 * @param email - the address to check
 * @throws CrossauthError `InvalidEmail` when it is missing or invalid
 */
export function validateEmail(email: string | null | undefined): asserts email is string {
  if (typeof email !== "string" || !isEmailValid(email)) {
    throw new CrossauthError(ErrorCode.InvalidEmail, "Please enter a valid email address");
  }
}
