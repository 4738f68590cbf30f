/**
 * Redis connections for the Redis storage tests: a client per test file with a random namespace,
 * and the reachability check.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { urlReachable } from "../helpers/services.js";

/** Redis the tests run against. */
export const redisUrl = process.env.CROSSAUTH_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether Redis is reachable (checked once, at import). */
export const redisAvailable = await urlReachable(redisUrl, 6379);

/** Service description for `describeWithService`. */
export const redisService = `Redis at ${redisUrl}`;

/** A random namespace, so parallel test files don't clash. */
export function randomPrefix(): string {
  return `crossauth-test:${randomBytes(6).toString("hex")}:`;
}

/** A new client that fails fast instead of retrying for ever. */
export function newRedis(url: string = redisUrl): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
}

/** Deletes every Redis key in a namespace (SCAN + UNLINK). */
export async function deleteNamespace(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  for await (const batch of redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<string[]>) {
    if (batch.length > 0) await redis.unlink(...batch);
  }
}
