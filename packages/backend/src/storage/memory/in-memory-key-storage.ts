/**
 * `InMemoryKeyStorage`: keys held in a `Map` (tests, demos).
 * @module
 */
import { CrossauthError, ErrorCode, type Key, type PartialKey } from "@crossauth/common";
import { decodeKeyData, encodeKeyData } from "../key-data.js";
import { KeyStorage } from "../key-storage.js";
import { assignDefined, deepCopy, fieldMatches, idKey } from "./memory-helpers.js";

/**
 * {@link KeyStorage} keeping keys in memory, indexed by value. Returned keys are copies.
 *
 * Data updates read, modify and write the key synchronously inside one call (no `await` in between),
 * so they are atomic.
 */
export class InMemoryKeyStorage extends KeyStorage {
  private readonly keys = new Map<string, Key>();

  /**
   * Returns a copy of the key with this value.
   * @throws CrossauthError `InvalidKey` when absent
   */
  async getKey(key: string): Promise<Key> {
    return deepCopy(this.stored(key));
  }

  /**
   * Saves a new key; `data` undefined is stored as `"{}"`, `expires` undefined as null.
   * @throws CrossauthError `KeyExists` for a duplicate value, `DataFormat` for an unstorable extra field
   */
  async saveKey(
    userid: string | number | null | undefined,
    value: string,
    dateCreated: Date,
    expires?: Date | null,
    data?: string,
    extraFields?: Record<string, unknown>,
  ): Promise<void> {
    if (this.keys.has(value)) throw new CrossauthError(ErrorCode.KeyExists);
    const key: Key = {
      lastactive: null,
      ...extraFields,
      value,
      userid: userid ?? null,
      created: dateCreated,
      expires: expires ?? null,
      data: data ?? "{}",
    };
    this.keys.set(value, deepCopy(key));
  }

  /** Deletes the key with this value; no error when absent. */
  async deleteKey(value: string): Promise<void> {
    this.keys.delete(value);
  }

  /**
   * Deletes a key and returns it, atomically (no await between the read and the delete).
   * @throws CrossauthError `InvalidKey` when absent
   */
  async consumeKey(value: string): Promise<Key> {
    const key = this.keys.get(value);
    if (!key) throw new CrossauthError(ErrorCode.InvalidKey, "Key not found");
    this.keys.delete(value);
    return deepCopy(key);
  }

  /** Deletes every key matching all defined fields of `key`; an empty match deletes nothing. */
  async deleteMatching(key: PartialKey): Promise<void> {
    const wanted = Object.entries(key).filter(([, v]) => v !== undefined);
    if (wanted.length === 0) return;
    this.deleteWhere((k) => wanted.every(([field, v]) => fieldMatches(k[field], v)));
  }

  /** Deletes a user's (or, for null, anonymous) keys starting with `prefix`, except `exceptKey`. */
  async deleteAllForUser(userid: string | number | null, prefix: string, exceptKey?: string): Promise<void> {
    const owner = idKey(userid);
    this.deleteWhere((k) => idKey(k.userid) === owner && k.value.startsWith(prefix) && k.value !== exceptKey);
  }

  /** Copies of every key of a user; with null or no argument, of every anonymous key. */
  async getAllForUser(userid?: string | number | null): Promise<Key[]> {
    const owner = idKey(userid);
    return [...this.keys.values()].filter((k) => idKey(k.userid) === owner).map((k) => deepCopy(k));
  }

  /**
   * Updates the defined fields of the key `key.value`.
   * @throws CrossauthError `InvalidKey` when absent
   */
  async updateKey(key: PartialKey): Promise<void> {
    assignDefined(this.stored(key.value), deepCopy(key), ["value"]);
  }

  /** Deletes every key with `expires` at or before `now`; returns how many. */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    return this.deleteWhere((k) => k.expires !== null && k.expires.getTime() <= now.getTime());
  }

  /**
   * Deletes every key of a user. Called by a linked `InMemoryUserStorage` when the user is deleted.
   * @param userid - the user's id
   */
  deleteForUser(userid: string | number): void {
    const owner = idKey(userid);
    this.deleteWhere((k) => idKey(k.userid) === owner);
  }

  /** Empties the storage. */
  clear(): void {
    this.keys.clear();
  }

  private stored(value: string | undefined): Key {
    const key = value === undefined ? undefined : this.keys.get(value);
    if (!key) throw new CrossauthError(ErrorCode.InvalidKey);
    return key;
  }

  /** Decodes, edits and re-encodes the data synchronously; a failing edit leaves it unchanged. */
  protected override async editData(
    keyName: string,
    edit: (data: Record<string, unknown>) => void,
  ): Promise<void> {
    const key = this.stored(keyName);
    const data = decodeKeyData(key.data);
    edit(data);
    let encoded: string;
    try {
      encoded = encodeKeyData(data);
    } catch {
      throw new CrossauthError(ErrorCode.DataFormat, "Key data value cannot be encoded as JSON");
    }
    key.data = encoded;
  }

  private deleteWhere(predicate: (key: Key) => boolean): number {
    let count = 0;
    for (const [value, key] of this.keys) {
      if (predicate(key)) {
        this.keys.delete(value);
        count++;
      }
    }
    return count;
  }
}
