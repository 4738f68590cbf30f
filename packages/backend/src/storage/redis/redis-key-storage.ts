/**
 * `RedisKeyStorage`: sessions, tokens and API keys in Redis, shared by every instance of an application.
 * @module
 */
import { CrossauthError, ErrorCode, type Key, type PartialKey } from "@crossauth/common";
import type { Redis } from "ioredis";
import { decodeKeyData, encodeKeyData } from "../key-data.js";
import { KeyStorage } from "../key-storage.js";
import { OptimisticRetry, RETRY } from "./optimistic-retry.js";
import { redisError } from "./redis-error.js";
import { decodeKeyField, decodeKeyHash, encodeKeyField, encodeKeyFields } from "./redis-key-codec.js";
import { casKeyScript, runScript, saveKeyScript } from "./redis-scripts.js";

/** Options of {@link RedisKeyStorage}. */
export interface RedisKeyStorageOptions {
  /** Prefix of every Redis key this storage uses (its namespace). Default `"crossauth:"`. */
  keyPrefix?: string;
  /**
   * Redis evicts a key at its `expires`, but never sooner than this many milliseconds after the write
   * that set it, so a key saved or updated with a past expiry can still be read (and reported expired by
   * the caller) for a while instead of vanishing at once. Default 60000.
   */
  minTtlMs?: number;
}

/** SCAN / SSCAN batch size hint. */
const scanCount = 500;

/** Escapes glob metacharacters for a SCAN MATCH pattern. */
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");
/** Owner comparison shared with the index layout: ids compare as strings, null only matches null. */
const sameUser = (a: unknown, b: unknown) =>
  (a ?? null) === null ? (b ?? null) === null : String(a) === String(b);

/**
 * Key storage in Redis. Each key is a hash at `<prefix>key:<value>` whose fields are JSON text (see
 * `redis-key-codec.ts`); a key with `expires` gets a Redis expiry at that instant (PEXPIREAT; see
 * {@link RedisKeyStorageOptions.minTtlMs} for past instants) so Redis evicts it itself. A key past its
 * expiry but not yet evicted is still returned: callers check expiry. A set per owner
 * (`<prefix>user:<userid>`, `<prefix>anon` for anonymous keys) indexes keys by user; entries of evicted
 * keys are removed lazily when met, and by {@link RedisKeyStorage.deleteExpired}.
 *
 * Writes are atomic without connection state, so the application's shared client can be used
 * concurrently: `saveKey` is one Lua script (exists-check, HSET, PEXPIREAT, index add), and every
 * read-modify-write (data edits, `updateKey`, deletes) reads in JS, computes the new value with the
 * shared `key-data` helpers, then writes with a compare-and-set script that applies only if the fields
 * read are unchanged, retrying otherwise. Operations on one key within this process are queued, so
 * retries only happen when other instances write the same key.
 *
 * Configure the client with a finite `maxRetriesPerRequest` (ioredis' default is 20; `null` retries for
 * ever) so an unreachable Redis fails with `Connection` instead of hanging. Don't set ioredis' own
 * `keyPrefix` client option (SCAN patterns ignore it); use this storage's `keyPrefix`.
 */
export class RedisKeyStorage extends KeyStorage {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly minTtl: string;
  private readonly retry = new OptimisticRetry();

  /**
   * @param redis - the application's ioredis client (not closed by this storage)
   * @param options - see {@link RedisKeyStorageOptions}
   * @throws CrossauthError `Configuration` for an invalid `minTtlMs` or a client with its own `keyPrefix`
   */
  constructor(redis: Redis, options: RedisKeyStorageOptions = {}) {
    super();
    if (redis.options.keyPrefix) {
      throw new CrossauthError(ErrorCode.Configuration, "Use RedisKeyStorage's keyPrefix, not the client's");
    }
    this.redis = redis;
    this.prefix = options.keyPrefix ?? "crossauth:";
    const minTtl = options.minTtlMs ?? 60_000;
    if (!Number.isSafeInteger(minTtl) || minTtl < 0) {
      throw new CrossauthError(ErrorCode.Configuration, "minTtlMs must be a non-negative integer");
    }
    this.minTtl = String(minTtl);
  }

  /**
   * Returns the key with this value (even if past its expiry, until Redis evicts it).
   * @throws CrossauthError `InvalidKey` when absent, `Connection` when Redis is unreachable
   */
  async getKey(key: string): Promise<Key> {
    return this.guard(async () => {
      const hash = await this.redis.hgetall(this.hashKey(key));
      if (Object.keys(hash).length === 0) throw new CrossauthError(ErrorCode.InvalidKey, "Key not found");
      return decodeKeyHash(hash);
    });
  }

  /**
   * Saves a new key; with `expires`, Redis evicts it at that instant (or after `minTtlMs`).
   * @throws CrossauthError `KeyExists` for a duplicate value, `BadRequest` for an unstorable field,
   *   `Connection` when Redis is unreachable
   */
  async saveKey(
    userid: string | number | null | undefined,
    value: string,
    dateCreated: Date,
    expires?: Date | null,
    data?: string,
    extraFields: Record<string, unknown> = {},
  ): Promise<void> {
    return this.guard(async () => {
      const fields = encodeKeyFields({
        lastactive: null,
        ...extraFields,
        value,
        userid: userid ?? null,
        created: dateCreated,
        expires: expires ?? null,
        data: data ?? "{}",
      });
      const expiry = expires ? encodeKeyField("expires", expires) : "";
      const keys = [this.hashKey(value), this.indexKey(userid)];
      const created = await runScript(this.redis, saveKeyScript, keys, [
        value,
        expiry,
        this.minTtl,
        ...fields,
      ]);
      if (created === 0) throw new CrossauthError(ErrorCode.KeyExists);
    });
  }

  /**
   * Deletes the key with this value; no error when absent.
   * @throws CrossauthError `Connection` when Redis is unreachable
   */
  async deleteKey(value: string): Promise<void> {
    return this.guard(async () => {
      await this.removeIf(value, [], () => true);
    });
  }

  /**
   * Deletes a key and returns it: the delete is a compare-and-set, so of concurrent consumers (in any
   * instance) exactly one gets the key.
   * @throws CrossauthError `InvalidKey` when absent or consumed by another caller; `Connection`
   */
  async consumeKey(value: string): Promise<Key> {
    return this.guard(async () => {
      const key = await this.getKey(value);
      if (!(await this.removeIf(value, [], () => true))) {
        throw new CrossauthError(ErrorCode.InvalidKey, "Key not found");
      }
      return key;
    });
  }

  /**
   * Deletes every key matching all defined fields of `key` (`null` matches null or absent); an empty
   * match deletes nothing. Without `value` or `userid` it SCANs the namespace.
   * @throws CrossauthError `Connection` when Redis is unreachable
   */
  async deleteMatching(key: PartialKey): Promise<void> {
    return this.guard(async () => {
      const match = Object.entries(key).filter(([, v]) => v !== undefined);
      if (match.length === 0) return;
      const names = match.map(([name]) => name).filter((name) => name !== "userid");
      const matches = (fields: Record<string, unknown>) =>
        match.every(([name, wanted]) => {
          const stored = fields[name];
          if (name === "userid") return sameUser(stored, wanted);
          if (wanted instanceof Date) return stored instanceof Date && stored.getTime() === wanted.getTime();
          return wanted === null ? stored === null || stored === undefined : stored === wanted;
        });
      const remove = async (values: string[], index?: string) => {
        await Promise.all(values.map((v) => this.removeIf(v, names, matches, index)));
      };
      if (typeof key.value === "string") await remove([key.value]);
      else if (key.userid !== undefined) {
        const index = this.indexKey(key.userid);
        await this.forEachBatch(this.members(index), (batch) => remove(batch, index));
      } else {
        const hashes = `${escapeGlob(this.hashKey(""))}*`;
        const start = this.hashKey("").length;
        const stream = this.redis.scanStream({ match: hashes, count: scanCount });
        await this.forEachBatch(stream, (batch) => remove(batch.map((k) => k.slice(start))));
      }
    });
  }

  /**
   * Deletes a user's (or, for null, the anonymous) keys whose value starts with `prefix`, except
   * `exceptKey`.
   * @throws CrossauthError `Connection` when Redis is unreachable
   */
  async deleteAllForUser(userid: string | number | null, prefix: string, exceptKey?: string): Promise<void> {
    return this.guard(async () => {
      const index = this.indexKey(userid);
      const ownedBy = (fields: Record<string, unknown>) => sameUser(fields.userid, userid);
      await this.forEachBatch(this.members(index), async (batch) => {
        const doomed = batch.filter((v) => v.startsWith(prefix) && v !== exceptKey);
        await Promise.all(doomed.map((v) => this.removeIf(v, [], ownedBy, index)));
      });
    });
  }

  /**
   * Returns every key of a user; with `null` or no argument, every anonymous key.
   * @throws CrossauthError `DataFormat` for a corrupt stored key, `Connection` when Redis is unreachable
   */
  async getAllForUser(userid?: string | number | null): Promise<Key[]> {
    return this.guard(async () => {
      const index = this.indexKey(userid);
      const found = new Map<string, Key>();
      await this.forEachBatch(this.members(index), async (batch) => {
        const hashes = await Promise.all(batch.map((v) => this.redis.hgetall(this.hashKey(v))));
        await Promise.all(
          batch.map(async (value, i) => {
            const hash = hashes[i] as Record<string, string>;
            if (Object.keys(hash).length === 0) await this.cas(value, index, index, [], "", []);
            else {
              const key = decodeKeyHash(hash);
              if (sameUser(key.userid, userid)) found.set(value, key);
            }
          }),
        );
      });
      return [...found.values()];
    });
  }

  /**
   * Updates the given fields of the key `key.value`; a new `expires` resets the Redis expiry
   * (null removes it), a new `userid` moves the key between user indexes.
   * @throws CrossauthError `InvalidKey` when absent, `BadRequest` for an unstorable field,
   *   `Connection` when Redis is unreachable or the key is too contended
   */
  async updateKey(key: PartialKey): Promise<void> {
    return this.guard(async () => {
      const value = key.value;
      if (typeof value !== "string") throw new CrossauthError(ErrorCode.InvalidKey, "Key value is required");
      const { value: _value, ...changes } = key;
      const fields = encodeKeyFields(changes);
      const expiry =
        key.expires === null ? "persist" : key.expires ? encodeKeyField("expires", key.expires) : "";
      await this.retry.run(value, async () => {
        const raw = await this.redis.hget(this.hashKey(value), "userid");
        if (raw === null) throw new CrossauthError(ErrorCode.InvalidKey, "Key not found");
        const from = this.indexKey(decodeKeyField("userid", raw));
        const to = key.userid === undefined ? from : this.indexKey(key.userid);
        const result = await this.cas(value, from, to, ["userid", raw], expiry, fields);
        if (result === -1) throw new CrossauthError(ErrorCode.InvalidKey, "Key not found");
        return result;
      });
    });
  }

  /**
   * Deletes every key whose `expires` is at or before `now` (including keys Redis hasn't evicted yet,
   * e.g. when `now` is in the future), walking every user index; also drops index entries of evicted keys.
   * @returns the number of keys deleted
   * @throws CrossauthError `Connection` when Redis is unreachable
   */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    return this.guard(async () => {
      let deleted = 0;
      const expired = (fields: Record<string, unknown>) =>
        fields.expires instanceof Date && fields.expires.getTime() <= now.getTime();
      const sweep = async (index: string) => {
        await this.forEachBatch(this.members(index), async (batch) => {
          const results = await Promise.all(batch.map((v) => this.removeIf(v, ["expires"], expired, index)));
          deleted += results.filter(Boolean).length;
        });
      };
      await sweep(this.indexKey(null));
      const userIndexes = `${escapeGlob(this.prefix)}user:*`;
      const stream = this.redis.scanStream({ match: userIndexes, count: scanCount });
      await this.forEachBatch(stream, async (batch) => {
        for (const index of batch) await sweep(index);
      });
      return deleted;
    });
  }

  private hashKey(value: string): string {
    return `${this.prefix}key:${value}`;
  }

  private indexKey(userid: unknown): string {
    return userid === null || userid === undefined
      ? `${this.prefix}anon`
      : `${this.prefix}user:${String(userid)}`;
  }

  /** SSCAN stream of an index set's members. */
  private members(index: string): AsyncIterable<string[]> {
    return this.redis.sscanStream(index, { count: scanCount });
  }

  /** Runs `fn`, turning anything it throws into a CrossauthError. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw redisError(e);
    }
  }

  /** Calls `fn` on each batch a SCAN / SSCAN stream yields, one batch at a time. */
  private async forEachBatch(stream: AsyncIterable<string[]>, fn: (batch: string[]) => Promise<void>) {
    for await (const batch of stream) if (batch.length > 0) await fn(batch);
  }

  /**
   * Runs the compare-and-set script (see `redis-scripts.ts`).
   * @param guards - flat field/expected-text pairs
   * @returns 1 applied, RETRY when a guard changed, -1 when the key is gone
   */
  private async cas(
    value: string,
    from: string,
    to: string,
    guards: string[],
    action: string,
    fields: string[],
  ): Promise<1 | -1 | typeof RETRY> {
    const args = [value, action, this.minTtl, String(guards.length / 2), ...guards, ...fields];
    const result = await runScript(this.redis, casKeyScript, [this.hashKey(value), from, to], args);
    return result === 0 ? RETRY : (result as 1 | -1);
  }

  /**
   * Deletes a key if `predicate` holds for its `userid` and `names` fields, guarded so that it is not
   * deleted if those fields change meanwhile. An absent key's entry in `index` is cleaned up.
   * @returns whether this call deleted the key
   */
  private removeIf(
    value: string,
    names: string[],
    predicate: (fields: Record<string, unknown>) => boolean,
    index?: string,
  ): Promise<boolean> {
    const read = ["userid", ...names];
    return this.retry.run(value, async () => {
      const raw = await this.redis.hmget(this.hashKey(value), ...read);
      if (raw[0] === null) {
        if (index) await this.cas(value, index, index, [], "", []);
        return false;
      }
      const fields = Object.fromEntries(read.map((name, i) => [name, decodeKeyField(name, raw[i] ?? null)]));
      if (!predicate(fields)) return false;
      const guards = read.flatMap((name, i) => (raw[i] === null ? [] : [name, raw[i] as string]));
      const owner = this.indexKey(fields.userid);
      const result = await this.cas(value, owner, owner, guards, "del", []);
      return result === RETRY ? RETRY : result === 1;
    });
  }

  /** Atomic read-modify-write of a key's JSON data with the shared `key-data` helpers. */
  protected override async editData(
    keyName: string,
    edit: (data: Record<string, unknown>) => void,
  ): Promise<void> {
    return this.guard(async () => {
      const result = await this.retry.run(keyName, async () => {
        const [userid, raw] = await this.redis.hmget(this.hashKey(keyName), "userid", "data");
        if (userid === null || userid === undefined) return -1;
        const data = decodeKeyData(decodeKeyField("data", raw ?? null) as string | null);
        edit(data);
        const index = this.indexKey(decodeKeyField("userid", userid));
        const text = encodeKeyField("data", encodeKeyData(data));
        const guards = raw === null || raw === undefined ? ["userid", userid] : ["data", raw];
        return this.cas(keyName, index, index, guards, "", ["data", text]);
      });
      if (result === -1) throw new CrossauthError(ErrorCode.InvalidKey, "Key not found");
    });
  }
}
