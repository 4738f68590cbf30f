/**
 * Replay protection for TOTP (RFC 6238 §5.2): the time step of the last accepted code per secret,
 * so a code cannot be accepted twice.
 * @module
 */
import { TOTP_DRIFT_STEPS, totpStep } from "./totp-code.js";

/**
 * Where {@link TotpAuthenticator} remembers the time step of the last code it accepted for each
 * TOTP secret. Ids are opaque hashes (never a raw secret). Implementations shared by several
 * server instances (e.g. backed by key storage) make TOTP replay protection hold across them.
 */
export interface TotpReplayStore {
  /**
   * The last accepted step for `id`, or undefined when none is remembered. A value may be stale
   * (older than the drift window): callers only use it to refuse steps at or below it.
   * @param id - opaque id of the secret
   */
  lastAcceptedStep(id: string): Promise<number | undefined>;
  /**
   * Atomically records `step` as accepted for `id` unless a step `>= step` is already recorded.
   * Of several concurrent calls with the same `id` and `step`, exactly one returns true.
   * @param id - opaque id of the secret
   * @param step - the RFC 6238 time step of the accepted code
   * @returns true when recorded, false when a step `>= step` was already recorded (a replay)
   */
  recordAcceptedStep(id: string, step: number): Promise<boolean>;
}

/** Options of {@link InMemoryTotpReplayStore}. */
export interface InMemoryTotpReplayStoreOptions {
  /** Clock in milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * Default {@link TotpReplayStore} for a single server instance: a map from id to step.
 *
 * Bounded: an entry whose step is more than two steps older than the current one is evicted
 * (then every step inside the drift window is newer than it, so it can refuse nothing). Eviction
 * runs at most once per time step. Check-and-record runs synchronously inside one call, so it is
 * atomic with respect to other calls in the same process.
 */
export class InMemoryTotpReplayStore implements TotpReplayStore {
  private readonly entries = new Map<string, number>();
  private readonly now: () => number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  /** @param options - see {@link InMemoryTotpReplayStoreOptions} */
  constructor(options: InMemoryTotpReplayStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Number of remembered ids (for monitoring and tests). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  /** {@inheritDoc TotpReplayStore.lastAcceptedStep} */
  async lastAcceptedStep(id: string): Promise<number | undefined> {
    return this.entries.get(id);
  }

  /** {@inheritDoc TotpReplayStore.recordAcceptedStep} */
  async recordAcceptedStep(id: string, step: number): Promise<boolean> {
    const previous = this.entries.get(id);
    if (previous !== undefined && previous >= step) return false;
    this.entries.set(id, step);
    this.sweep();
    return true;
  }

  /** Drops entries more than `TOTP_DRIFT_STEPS + 1` (two) steps older than the current step. */
  private sweep(): void {
    const current = totpStep(this.now());
    if (current === this.lastSweep) return;
    this.lastSweep = current;
    for (const [id, step] of this.entries) {
      if (current - step > TOTP_DRIFT_STEPS + 1) this.entries.delete(id);
    }
  }
}
