/**
 * PBKDF2 password hashes in the format of wire-formats.md ("Password hashes"):
 * `pbkdf2:<digest>:<keyLen>:<iterations>:<useSecret 0|1>:<salt>:<hash>`.
 * @module
 */
import { getHashes, timingSafeEqual } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { base64urlToBytes, bytesToBase64url } from "./base64.js";
import { defaultPbkdf2Pool } from "./pbkdf2-pool.js";
import { randomSalt } from "./random.js";

/** Default PBKDF2 digest. */
export const DEFAULT_PBKDF2_DIGEST = "sha256";
/** Default PBKDF2 output length in bytes. */
export const DEFAULT_PBKDF2_KEY_LENGTH = 32;
/** Default PBKDF2 iteration count. */
export const DEFAULT_PBKDF2_ITERATIONS = 600000;
/** The only algorithm name recognised in field 0 of a stored hash. */
const ALGORITHM = "pbkdf2";
/** Bounds that keep a crafted hash from requesting absurd work or memory. */
const MAX_ITERATIONS = 100_000_000;
const MAX_KEY_LENGTH = 1024;

/** Options of {@link passwordHash}. */
export interface HashOptions {
  /** Salt text (its UTF-8 bytes feed PBKDF2); default `randomSalt()`. */
  salt?: string;
  /** Pepper appended to the salt as `salt + "!" + secret`; absent for none. */
  secret?: string;
  /** When true, return the full seven-field stored form instead of the bare hash. */
  encode?: boolean;
  /** PBKDF2 iterations; default 600000. */
  iterations?: number;
  /** PBKDF2 output length in bytes; default 32. */
  keyLen?: number;
  /** PBKDF2 HMAC digest; default `sha256`. */
  digest?: string;
}

/** The parts of a stored password hash. */
export interface PasswordHash {
  /** base64url of the PBKDF2 output (padding, if stored, kept as stored). */
  hashedPassword: string;
  /** The salt text. */
  salt: string;
  /** Whether the pepper was used (field 5 = `1`). */
  useSecret: boolean;
  /** PBKDF2 iterations. */
  iterations: number;
  /** PBKDF2 output length in bytes. */
  keyLen: number;
  /** PBKDF2 HMAC digest, e.g. `sha256`. */
  digest: string;
}

let supportedDigests: Set<string> | undefined;
function checkDigest(digest: string): void {
  supportedDigests ??= new Set(getHashes().map((h) => h.toLowerCase()));
  if (!supportedDigests.has(digest.toLowerCase())) {
    throw new CrossauthError(ErrorCode.UnsupportedAlgorithm, "Unsupported password hash digest");
  }
}

function checkParameters(iterations: number, keyLen: number): void {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Invalid PBKDF2 iteration count");
  }
  if (!Number.isInteger(keyLen) || keyLen < 1 || keyLen > MAX_KEY_LENGTH) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Invalid PBKDF2 key length");
  }
}

async function derive(
  plaintext: string,
  salt: string,
  secret: string | undefined,
  iterations: number,
  keyLen: number,
  digest: string,
): Promise<Buffer> {
  checkDigest(digest);
  checkParameters(iterations, keyLen);
  const saltInput = secret === undefined ? salt : `${salt}!${secret}`;
  try {
    // Low-priority worker threads (pbkdf2-pool.ts), not libuv's threadpool: the event loop stays responsive.
    return await defaultPbkdf2Pool().derive(plaintext, saltInput, iterations, keyLen, digest);
  } catch (e) {
    // The pool's own errors (Connection when closed, UnknownError for a dead thread) pass through.
    if (e instanceof CrossauthError) throw e;
    throw new CrossauthError(ErrorCode.UnsupportedAlgorithm, "PBKDF2 failed for this digest");
  }
}

/**
 * Hashes a password with PBKDF2, asynchronously, in {@link defaultPbkdf2Pool}'s low-priority threads.
 * @param plaintext - the password
 * @param options - see {@link HashOptions}
 * @returns the base64url hash, or the full stored form when `options.encode`
 * @throws CrossauthError `UnsupportedAlgorithm` for an unknown digest, `InvalidHash` for bad parameters,
 *   `Connection` when the hashing pool is closed meanwhile, `UnknownError` when a hashing thread dies
 */
export async function passwordHash(plaintext: string, options: HashOptions = {}): Promise<string> {
  const salt = options.salt ?? randomSalt();
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const keyLen = options.keyLen ?? DEFAULT_PBKDF2_KEY_LENGTH;
  const digest = options.digest ?? DEFAULT_PBKDF2_DIGEST;
  const secret = options.secret === "" ? undefined : options.secret;
  const hashed = bytesToBase64url(await derive(plaintext, salt, secret, iterations, keyLen, digest));
  return options.encode
    ? encodePasswordHash(hashed, salt, secret !== undefined, iterations, keyLen, digest)
    : hashed;
}

/**
 * Builds the stored form of a password hash.
 * @param hashedPassword - base64url PBKDF2 output
 * @param salt - salt text
 * @param useSecret - whether a pepper was used
 * @param iterations - PBKDF2 iterations
 * @param keyLen - PBKDF2 output length in bytes
 * @param digest - PBKDF2 digest
 * @returns `pbkdf2:<digest>:<keyLen>:<iterations>:<0|1>:<salt>:<hash>`
 * @throws CrossauthError `InvalidHash` when the salt or hash contains `:`
 */
export function encodePasswordHash(
  hashedPassword: string,
  salt: string,
  useSecret: boolean,
  iterations: number,
  keyLen: number,
  digest: string,
): string {
  if (salt.includes(":") || hashedPassword.includes(":") || digest.includes(":")) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Password hash fields may not contain ':'");
  }
  return [ALGORITHM, digest, keyLen, iterations, useSecret ? 1 : 0, salt, hashedPassword].join(":");
}

/**
 * Splits a stored password hash into its parts.
 * @param hash - the stored form
 * @throws CrossauthError `InvalidHash` unless there are seven well-formed fields (the hash field must
 *   be base64url of `keyLen` bytes); `UnsupportedAlgorithm` when field 0 is not `pbkdf2`
 */
export function decodePasswordHash(hash: string): PasswordHash {
  const parts = typeof hash === "string" ? hash.split(":") : [];
  if (parts.length !== 7)
    throw new CrossauthError(ErrorCode.InvalidHash, "Password hash has the wrong format");
  const [algorithm, digest, keyLen, iterations, useSecret, salt, hashedPassword] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (algorithm !== ALGORITHM) {
    throw new CrossauthError(ErrorCode.UnsupportedAlgorithm, "Unsupported password hash algorithm");
  }
  if (!/^[0-9]+$/.test(keyLen) || !/^[0-9]+$/.test(iterations) || (useSecret !== "0" && useSecret !== "1")) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Password hash has the wrong format");
  }
  if (digest === "" || salt === "" || hashedPassword === "") {
    throw new CrossauthError(ErrorCode.InvalidHash, "Password hash has an empty field");
  }
  if (base64urlToBytes(hashedPassword, ErrorCode.InvalidHash).length !== Number(keyLen)) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Password hash length does not match its key length");
  }
  return {
    hashedPassword,
    salt,
    useSecret: useSecret === "1",
    iterations: Number(iterations),
    keyLen: Number(keyLen),
    digest,
  };
}

/**
 * Checks a password against a stored hash with the hash's own parameters, comparing the decoded
 * bytes in constant time. Hashes written with padding (the Python package) verify too.
 * @param plaintext - the password offered
 * @param encodedHash - the stored form
 * @param secret - the pepper; needed only for hashes whose flag is `1`
 * @returns true when the password matches; false otherwise (never throws for a wrong password)
 * @throws CrossauthError `InvalidHash` / `UnsupportedAlgorithm` for a malformed stored hash;
 *   `Configuration` when the hash needs a pepper and none is given; `Connection` / `UnknownError` as
 *   for {@link passwordHash}
 */
export async function passwordsEqual(
  plaintext: string,
  encodedHash: string,
  secret?: string,
): Promise<boolean> {
  const parts = decodePasswordHash(encodedHash);
  const expected = base64urlToBytes(parts.hashedPassword, ErrorCode.InvalidHash);
  if (expected.length !== parts.keyLen) {
    throw new CrossauthError(ErrorCode.InvalidHash, "Password hash length does not match its key length");
  }
  if (parts.useSecret && !secret) {
    throw new CrossauthError(ErrorCode.Configuration, "A secret is needed to check this password hash");
  }
  const actual = await derive(
    typeof plaintext === "string" ? plaintext : "",
    parts.salt,
    parts.useSecret ? secret : undefined,
    parts.iterations,
    parts.keyLen,
    parts.digest,
  );
  return timingSafeEqual(actual, expected);
}
