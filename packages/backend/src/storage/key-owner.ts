/**
 * `readKeyWithOwner`: a key and the user it belongs to, the way session and API-key checks need them.
 * @module
 */
import { CrossauthError, ErrorCode, type Key, type User } from "@crossauth/common";
import type { KeyStorage } from "./key-storage.js";
import { checkUserState } from "./user-state-check.js";
import type { UserStorage, UserStorageGetOptions } from "./user-storage.js";

/**
 * Reads the key stored as `value` and its owner: in one query where the user storage can join them
 * ({@link UserStorage.getKeyAndOwner}), else the key and then the user (without secrets). `checkKey`
 * vets the key before its owner is considered (expiry, filters...), so the key's own errors come
 * first, exactly as with two separate lookups.
 * @param value - the stored key value
 * @param keyStorage - where the key is
 * @param userStorage - where its owner is
 * @param options - user-state checks to skip
 * @param checkKey - checks the key and returns it (possibly updated), or throws
 * @returns the checked key, and its owner (undefined for a key that belongs to no user)
 * @throws CrossauthError `InvalidKey` for an unknown key; what `checkKey` throws; `UserNotExist` when
 *   the owner is gone; the owner's state errors (see {@link checkUserState}); storage errors
 */
export async function readKeyWithOwner(
  value: string,
  keyStorage: KeyStorage,
  userStorage: UserStorage,
  options: UserStorageGetOptions,
  checkKey: (key: Key) => Key | Promise<Key>,
): Promise<{ key: Key; owner: User | undefined }> {
  const joined = await userStorage.getKeyAndOwner(value, keyStorage);
  const key = await checkKey(joined?.key ?? (await keyStorage.getKey(value)));
  if (key.userid === null || key.userid === undefined) return { key, owner: undefined };
  if (!joined) {
    const { user } = await userStorage.getUserById(key.userid, { ...options, skipSecrets: true });
    return { key, owner: user };
  }
  if (!joined.owner) throw new CrossauthError(ErrorCode.UserNotExist);
  checkUserState(joined.owner, options);
  return { key, owner: joined.owner };
}
