/**
 * Storing and finding the single-use tokens of emailed links (wire-formats.md, "Email verification /
 * password reset"): the raw token goes in the link, only prefix + `hash(token)` is stored.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j, type Key } from "@crossauth/common";
import { randomValue } from "../crypto/random.js";
import { hash } from "../crypto/signing.js";
import type { KeyStorage } from "../storage/key-storage.js";

/** Random bytes in a token: 16, i.e. 22 base64url characters. */
export const EMAIL_TOKEN_BYTES = 16;

/** What distinguishes one kind of emailed token from another in storage. */
export interface EmailTokenKind {
  /** Key prefix in storage, e.g. `e:` or `p:`. */
  readonly prefix: string;
  /** Human name for messages and logs, e.g. `"Password reset"`. */
  readonly name: string;
  /** Lifetime in seconds. */
  readonly expires: number;
}

/**
 * Creates a token and saves its hash with its owner, creation time, expiry and data.
 * @param keyStorage - where tokens are stored
 * @param kind - the kind of token
 * @param userid - the owner
 * @param data - JSON object text for the key's `data`
 * @param now - creation time
 * @returns the raw token (never stored)
 * @throws CrossauthError `Connection` on storage failure
 */
export async function saveEmailToken(
  keyStorage: KeyStorage,
  kind: EmailTokenKind,
  userid: string | number,
  data: string,
  now: Date,
): Promise<string> {
  const token = randomValue(EMAIL_TOKEN_BYTES);
  const expires = new Date(now.getTime() + kind.expires * 1000);
  await keyStorage.saveKey(userid, kind.prefix + hash(token), now, expires, data);
  CrossauthLogger.logger.debug(j({ msg: `Created ${kind.name} token`, userid, tokenHash: hash(token) }));
  return token;
}

/**
 * Finds a token's key, or with `consume` atomically deletes and returns it (of concurrent consumers
 * exactly one gets it), then checks it belongs to a user and has not expired. The expiry is checked
 * after consuming, so an expired token is gone as well. A key without an expiry counts as expired:
 * these tokens always have one.
 * @param keyStorage - where tokens are stored
 * @param kind - the kind of token expected
 * @param token - the raw token from the link
 * @param consume - whether to use the token up
 * @param now - current time
 * @returns the key
 * @throws CrossauthError `InvalidKey` when unknown, already used or without an owner (one message for
 *   all); `Expired` when at or past its expiry; `Connection` on storage failure
 */
export async function findEmailToken(
  keyStorage: KeyStorage,
  kind: EmailTokenKind,
  token: string,
  consume: boolean,
  now: Date,
): Promise<Key> {
  if (typeof token !== "string" || token === "") throw invalidEmailToken(kind);
  const value = kind.prefix + hash(token);
  let key: Key;
  try {
    key = consume ? await keyStorage.consumeKey(value) : await keyStorage.getKey(value);
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.InvalidKey) {
      CrossauthLogger.logger.debug(j({ msg: `Unknown ${kind.name} token`, tokenHash: hash(token) }));
      throw invalidEmailToken(kind);
    }
    throw e;
  }
  if (key.userid === null || key.userid === undefined) throw invalidEmailToken(kind);
  const expires = key.expires === null || key.expires === undefined ? Number.NaN : +new Date(key.expires);
  if (!(expires > now.getTime())) {
    CrossauthLogger.logger.debug(j({ msg: `Expired ${kind.name} token`, tokenHash: hash(token) }));
    throw new CrossauthError(ErrorCode.Expired, `${kind.name} token has expired`);
  }
  return key;
}

/**
 * The error for a token that cannot be used: the same for unknown and used tokens.
 * @param kind - the kind of token
 */
export function invalidEmailToken(kind: EmailTokenKind): CrossauthError {
  return new CrossauthError(ErrorCode.InvalidKey, `${kind.name} token is invalid`);
}
