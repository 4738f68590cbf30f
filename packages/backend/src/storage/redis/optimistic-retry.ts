/**
 * The retry loop of {@link RedisKeyStorage}'s compare-and-set writes, queued per key within the process.
 * @module
 */
import { randomInt } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** Returned by an attempt that lost a race and must be retried. */
export const RETRY = Symbol("retry");

/** Attempts before giving up. */
const maxAttempts = 30;

/**
 * Runs optimistic read-compute-write attempts. Attempts on the same key from this process run one at a
 * time (so they never conflict with each other); conflicts with other processes are retried with
 * jittered exponential backoff.
 */
export class OptimisticRetry {
  private readonly queues = new Map<string, Promise<unknown>>();

  /**
   * Repeats `attempt` until it returns something other than {@link RETRY}.
   * @param key - what the attempts write; attempts on one key are queued
   * @param attempt - reads, computes and compare-and-sets; returns RETRY when the write lost a race
   * @throws CrossauthError `Connection` when other writers win 30 times in a row; whatever `attempt` throws
   */
  run<T>(key: string, attempt: () => Promise<T | typeof RETRY>): Promise<T> {
    const loop = async () => {
      for (let i = 0; i < maxAttempts; i++) {
        const result = await attempt();
        if (result !== RETRY) return result;
        await new Promise((resolve) => setTimeout(resolve, randomInt(0, Math.min(100, 2 ** i) + 1)));
      }
      throw new CrossauthError(ErrorCode.Connection, "Key is being updated by too many writers; try again");
    };
    const run = (this.queues.get(key) ?? Promise.resolve()).then(loop, loop);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => this.queues.get(key) === tail && this.queues.delete(key));
    return run;
  }
}
