/**
 * RFC 6238 TOTP primitives used by {@link TotpAuthenticator}: secret generation, code generation,
 * constant-time checking of a code against the drift window, and the `otpauth://` provisioning URI.
 *
 * Codes are computed by `otplib` 13 (HMAC-SHA-1 from the audited `@noble/hashes`, RFC 4648 base32
 * from `@scure/base`); the random secret comes from `node:crypto`.
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { generate, NobleCryptoPlugin, ScureBase32Plugin } from "otplib";

/** Time step of every code, in seconds (RFC 6238 default `X`). */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits of the codes users type. */
export const TOTP_DIGITS = 6 as const;
/** Random bytes in a new secret (160 bits, the HMAC-SHA-1 output size recommended by RFC 4226). */
export const TOTP_SECRET_BYTES = 20;
/** Steps of drift accepted either side of the current one: previous, current and next step. */
export const TOTP_DRIFT_STEPS = 1;

const crypto = new NobleCryptoPlugin();
const base32 = new ScureBase32Plugin();

/**
 * A new shared secret: {@link TOTP_SECRET_BYTES} bytes from `node:crypto`'s CSPRNG as unpadded
 * RFC 4648 base32 (32 characters from `A-Z2-7`), the format authenticator apps expect.
 */
export function createTotpSecret(): string {
  return base32.encode(randomBytes(TOTP_SECRET_BYTES));
}

/**
 * The RFC 6238 code for a time, with SHA-1, 30 s steps and T0 = 0 — exactly the configuration
 * {@link TotpAuthenticator} checks codes with.
 * @param secretBase32 - the shared secret, RFC 4648 base32 (at least 16 bytes once decoded)
 * @param timeMs - the time, in milliseconds since the epoch
 * @param digits - code length, 6 (default), 7 or 8
 * @returns the zero-padded code
 * @throws CrossauthError `Configuration` when the secret is not valid base32 or is too short
 *   (the message never contains the secret)
 */
export async function totpCode(
  secretBase32: string,
  timeMs: number,
  digits: 6 | 7 | 8 = TOTP_DIGITS,
): Promise<string> {
  try {
    return await generate({
      secret: secretBase32,
      epoch: Math.floor(timeMs / 1000),
      t0: 0,
      period: TOTP_PERIOD_SECONDS,
      algorithm: "sha1",
      digits,
      crypto,
      base32,
    });
  } catch {
    // otplib's messages may quote the input; report without it.
    throw new CrossauthError(ErrorCode.Configuration, "The TOTP secret is not a valid base32 secret");
  }
}

/** The RFC 6238 time step (`floor(t / 30 s)`) containing a time in milliseconds since the epoch. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time steps, from the drift window around `timeMs` (previous, current and next step, never
 * negative), whose {@link TOTP_DIGITS}-digit code equals `code`. Every candidate is generated and
 * compared with `timingSafeEqual` — no early exit — so the time taken does not depend on which
 * step (if any) matched.
 * @param secretBase32 - the shared secret
 * @param code - the user's code; must already be checked to be {@link TOTP_DIGITS} ASCII digits
 * @param timeMs - the current time, in milliseconds since the epoch
 * @returns the matching steps in ascending order (empty when none matches)
 * @throws CrossauthError `Configuration` for an invalid secret (see {@link totpCode})
 */
export async function matchingTotpSteps(
  secretBase32: string,
  code: string,
  timeMs: number,
): Promise<number[]> {
  const current = totpStep(timeMs);
  const steps: number[] = [];
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step++) {
    if (step >= 0) steps.push(step);
  }
  const candidates = await Promise.all(
    steps.map((step) => totpCode(secretBase32, step * TOTP_PERIOD_SECONDS * 1000)),
  );
  const given = Buffer.from(code, "utf8");
  const matches: number[] = [];
  candidates.forEach((candidate, i) => {
    const expected = Buffer.from(candidate, "utf8");
    const equal = expected.length === given.length && timingSafeEqual(expected, given);
    if (equal) matches.push(steps[i]!);
  });
  return matches;
}

/**
 * The Key URI an authenticator app scans:
 * `otpauth://totp/<issuer>:<username>?secret=<secret>&issuer=<issuer>`.
 * Issuer and username are percent-encoded with `encodeURIComponent` (so a `:` inside either
 * becomes `%3A` and cannot be mistaken for the separator, a space becomes `%20`, `+` becomes `%2B`,
 * `@` becomes `%40`). `algorithm`, `digits` and `period` are omitted because they are the defaults
 * (SHA1, 6, 30), which is also what apps that ignore those parameters assume.
 * @param issuer - the application name shown in the app
 * @param username - the account name shown in the app
 * @param secretBase32 - the shared secret (also percent-encoded, a no-op for valid base32)
 */
export function totpUri(issuer: string, username: string, secretBase32: string): string {
  const encIssuer = encodeURIComponent(issuer);
  return `otpauth://totp/${encIssuer}:${encodeURIComponent(username)}?secret=${encodeURIComponent(secretBase32)}&issuer=${encIssuer}`;
}
