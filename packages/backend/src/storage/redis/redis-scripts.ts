/**
 * The Lua scripts {@link RedisKeyStorage} runs so that each write is atomic on the Redis server, and
 * how they are run (EVALSHA, falling back to EVAL when the server hasn't cached the script yet).
 * @module
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A Lua script and its SHA-1, the name Redis caches it under. */
export interface RedisScript {
  /** Lua source. */
  source: string;
  /** SHA-1 of the source, for EVALSHA. */
  sha: string;
}

function script(source: string): RedisScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * Lua helper: expire KEYS-style `key` at epoch ms `at`, but no sooner than `minTtl` ms from now on the
 * Redis clock (so a key written already expired can still be read, and reported expired, for a while).
 */
const expireAtLua = `
local function expireAt(key, at, minTtl)
  local t = redis.call('TIME')
  local earliest = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(minTtl)
  redis.call('PEXPIREAT', key, math.max(tonumber(at), earliest))
end
`;

/**
 * Creates a key unless it exists. Returns 1 when created, 0 when the key already existed.
 * KEYS[1] key hash, KEYS[2] owner index; ARGV[1] key value, ARGV[2] expiry (epoch ms) or "",
 * ARGV[3] minimum TTL (ms), ARGV[4..] field/value pairs.
 */
export const saveKeyScript = script(`${expireAtLua}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if ARGV[2] ~= '' then expireAt(KEYS[1], ARGV[2], ARGV[3]) end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`);

/**
 * Compare-and-set on a key hash: applies the action only if each guard field still holds the text the
 * caller read. Returns 1 when applied, 0 when a guard no longer matches (retry), -1 when the key is
 * gone (its entry is then removed from the index KEYS[2]: lazy index cleanup).
 * KEYS[1] key hash, KEYS[2] index holding the key, KEYS[3] index it moves to (= KEYS[2] to stay);
 * ARGV[1] key value, ARGV[2] action ("" keep expiry, "persist", "del", or an epoch ms to expire at),
 * ARGV[3] minimum TTL (ms), ARGV[4] guard count n, then n guard field/text pairs, then field/value
 * pairs to set.
 */
export const casKeyScript = script(`${expireAtLua}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  return -1
end
local n = tonumber(ARGV[4])
for i = 1, n do
  if redis.call('HGET', KEYS[1], ARGV[3 + 2 * i]) ~= ARGV[4 + 2 * i] then return 0 end
end
local action = ARGV[2]
if action == 'del' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
local first = 5 + 2 * n
if #ARGV >= first then redis.call('HSET', KEYS[1], unpack(ARGV, first)) end
if action == 'persist' then
  redis.call('PERSIST', KEYS[1])
elseif action ~= '' then
  expireAt(KEYS[1], action, ARGV[3])
end
if KEYS[2] ~= KEYS[3] then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[1])
end
return 1
`);

/**
 * Runs a script by its SHA, loading it with EVAL when the server doesn't have it cached.
 * @returns the script's integer reply
 */
export async function runScript(
  redis: Redis,
  s: RedisScript,
  keys: string[],
  args: string[],
): Promise<number> {
  try {
    return (await redis.evalsha(s.sha, keys.length, ...keys, ...args)) as number;
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith("NOSCRIPT")) throw e;
    return (await redis.eval(s.source, keys.length, ...keys, ...args)) as number;
  }
}
