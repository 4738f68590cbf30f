/**
 * `KeyStorage`: where session ids, email tokens, API keys and OAuth tokens live (as hashes).
 * @module
 */
import type { Key, KeyDataEntry, PartialKey } from "@crossauth/common";
import { decodeKeyData, deleteKeyDataField, encodeKeyData, setKeyDataField } from "./key-data.js";

/**
 * Base class of key storages. Keys are identified by their stored `value` (prefix + hash).
 *
 * Data updates (`updateData`, `updateManyData`, `deleteData`) are atomic: concurrent updates of
 * different fields of one key all survive.
 */
export abstract class KeyStorage {
  /**
   * Parses a key's `data` field; empty data is `{}`.
   * @throws CrossauthError `DataFormat` when it is not a JSON object
   */
  static decodeData(data: string | null | undefined): Record<string, unknown> {
    return decodeKeyData(data);
  }

  /** Encodes a key's `data` object as JSON text (`"{}"` when absent). */
  static encodeData(data?: Record<string, unknown> | null): string {
    return encodeKeyData(data);
  }

  /**
   * Returns the key with this stored value. Expiry is not checked here (callers do).
   * @param key - the stored value (prefix + hash)
   * @throws CrossauthError `InvalidKey` when absent, `Connection` on storage failure
   */
  abstract getKey(key: string): Promise<Key>;

  /**
   * Saves a new key.
   * @param userid - owner, or null/undefined for an anonymous key
   * @param value - stored value (prefix + hash); unique
   * @param dateCreated - creation time
   * @param expires - expiry, or null/undefined for never
   * @param data - JSON object text
   * @param extraFields - other columns, e.g. `{name}` for API keys
   * @throws CrossauthError `KeyExists` for a duplicate value, `Connection` on storage failure
   */
  abstract saveKey(
    userid: string | number | null | undefined,
    value: string,
    dateCreated: Date,
    expires?: Date | null,
    data?: string,
    extraFields?: Record<string, unknown>,
  ): Promise<void>;

  /** Deletes the key with this value; no error when absent. */
  abstract deleteKey(value: string): Promise<void>;

  /**
   * Atomically deletes a key and returns it: of several concurrent calls for one value, exactly one
   * gets the key. This is how single-use tokens are spent.
   * @param value - the stored value
   * @throws CrossauthError `InvalidKey` when absent (or already consumed)
   */
  abstract consumeKey(value: string): Promise<Key>;

  /**
   * Deletes every key matching all defined fields of `key` (`null` matches null).
   * @param key - fields to match, e.g. `{userid: 1, name: "ci"}`
   */
  abstract deleteMatching(key: PartialKey): Promise<void>;

  /**
   * Deletes the keys of a user (or anonymous keys when `userid` is null) whose value starts with
   * `prefix`, except the one whose value is `exceptKey`.
   */
  abstract deleteAllForUser(
    userid: string | number | null,
    prefix: string,
    exceptKey?: string,
  ): Promise<void>;

  /**
   * Returns every key of a user; with `null` or no argument, every anonymous key.
   */
  abstract getAllForUser(userid?: string | number | null): Promise<Key[]>;

  /**
   * Updates the given fields of the key identified by `key.value` (which is not changed).
   * @throws CrossauthError `InvalidKey` when absent
   */
  abstract updateKey(key: PartialKey): Promise<void>;

  /**
   * Atomically sets one field of the key's JSON data.
   * @param keyName - the key's stored value
   * @param dataName - dotted path, e.g. `oauth.state`; parents must exist
   * @param value - new value; `undefined` deletes the field
   * @throws CrossauthError `InvalidKey` when the key is absent, `BadRequest` for a missing parent,
   *   `DataFormat` when the stored data is not a JSON object
   */
  updateData(keyName: string, dataName: string, value: unknown): Promise<void> {
    return this.editData(keyName, (data) => setKeyDataField(data, dataName, value));
  }

  /**
   * Atomically sets several fields of the key's JSON data, all or none.
   * @throws CrossauthError as {@link KeyStorage.updateData}
   */
  updateManyData(keyName: string, dataArray: KeyDataEntry[]): Promise<void> {
    return this.editData(keyName, (data) => {
      for (const entry of dataArray) setKeyDataField(data, entry.dataName, entry.value);
    });
  }

  /**
   * Atomically deletes one field of the key's JSON data (no error when the field is absent).
   * @throws CrossauthError `InvalidKey` when the key is absent, `BadRequest` for a missing parent,
   *   `DataFormat` when the stored data is not a JSON object
   */
  deleteData(keyName: string, dataName: string): Promise<void> {
    return this.editData(keyName, (data) => deleteKeyDataField(data, dataName));
  }

  /**
   * Atomically applies an edit to the key's decoded JSON data: a read-modify-write that concurrent
   * edits of the same key cannot interleave with (e.g. counting attempts). `edit` may run more than
   * once (optimistic backends retry), so it must only depend on the data it is given.
   * @throws CrossauthError as {@link KeyStorage.updateData}, and whatever `edit` throws
   */
  modifyData(keyName: string, edit: (data: Record<string, unknown>) => void): Promise<void> {
    return this.editData(keyName, edit);
  }

  /**
   * The one primitive behind the data methods: an atomic read-modify-write of a key's decoded JSON
   * data. `edit` changes the object in place and may throw (nothing is then written). Concurrent
   * edits of one key must all survive.
   * @throws CrossauthError `InvalidKey` when the key is absent, `DataFormat` when its data is not a
   *   JSON object or the result cannot be encoded, and whatever `edit` throws
   */
  protected abstract editData(keyName: string, edit: (data: Record<string, unknown>) => void): Promise<void>;

  /**
   * Deletes every key whose `expires` is at or before `now`.
   * @param now - default the current time
   * @returns the number of keys deleted
   */
  abstract deleteExpired(now?: Date): Promise<number>;
}
