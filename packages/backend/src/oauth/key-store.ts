/**
 * `JwtKeyStore`: the verification keys of a token consumer, with key rotation.
 *
 * A token whose `kid` is unknown triggers one refresh of the keys (RFC 7517 key rotation, OpenID
 * Connect Core §10.1.1), but refreshes are rate-limited — at most one per `minRefreshIntervalMs`,
 * and concurrent requests share the one in flight — so a flood of tokens with made-up `kid`s cannot
 * make the consumer hammer its authorization server.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import type { VerificationKey } from "./verification-key.js";

/** How {@link JwtKeyStore} gets fresh keys and paces refreshes. */
export interface JwtKeyStoreOptions {
  /** Fetches the current keys (e.g. discovery, then the JWK Set). Rejects with `Connection` on failure. */
  fetchKeys: () => Promise<VerificationKey[]>;
  /** Minimum time between two fetches, in milliseconds (failed fetches count). */
  minRefreshIntervalMs: number;
  /** Clock. */
  now: () => Date;
}

/** Outcome of {@link JwtKeyStore.refresh}. */
export type RefreshOutcome = "refreshed" | "rate-limited";

function refused(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.InvalidToken, message);
}

/** Holds verification keys; finds the key for a token and refreshes on unknown `kid`s. */
export class JwtKeyStore {
  private readonly options: JwtKeyStoreOptions;
  private current: readonly VerificationKey[] = [];
  private staticKey: VerificationKey | undefined;
  private isLoaded = false;
  private lastAttempt: number | undefined;
  private inFlight: Promise<void> | undefined;

  /** @param options - see {@link JwtKeyStoreOptions} */
  constructor(options: JwtKeyStoreOptions) {
    this.options = options;
  }

  /** The current keys (the configured key alone when there is one). */
  get keys(): readonly VerificationKey[] {
    return this.staticKey ? [this.staticKey] : this.current;
  }

  /** Whether keys have been loaded (a configured key, or a JWK Set, possibly empty). */
  get loaded(): boolean {
    return this.isLoaded;
  }

  /**
   * Uses one configured key for every token, whatever its `kid`; no refresh ever happens.
   * @param key - the key
   */
  setStaticKey(key: VerificationKey): void {
    this.staticKey = key;
    this.isLoaded = true;
  }

  /**
   * Replaces the keys (keys absent from the new set stop being accepted) and counts as a refresh
   * for rate limiting.
   * @param keys - the new keys
   */
  replace(keys: readonly VerificationKey[]): void {
    this.current = Object.freeze([...keys]);
    this.isLoaded = true;
    this.lastAttempt = this.options.now().getTime();
  }

  /**
   * Fetches fresh keys unless a fetch happened less than `minRefreshIntervalMs` ago; joins the
   * fetch in flight if there is one.
   * @returns `"rate-limited"` when no fetch was allowed
   * @throws CrossauthError `Connection` when the fetch fails (the old keys are kept)
   */
  async refresh(): Promise<RefreshOutcome> {
    if (this.inFlight) {
      await this.inFlight;
      return "refreshed";
    }
    const now = this.options.now().getTime();
    const elapsed = this.lastAttempt === undefined ? Number.POSITIVE_INFINITY : now - this.lastAttempt;
    if (elapsed >= 0 && elapsed < this.options.minRefreshIntervalMs) return "rate-limited";
    this.lastAttempt = now;
    const fetching = this.options.fetchKeys().then(
      (keys) => this.replace(keys),
      (e: unknown) => {
        const error = CrossauthError.asCrossauthError(e);
        CrossauthLogger.logger.error(j({ msg: "Could not refresh JWT verification keys", err: error }));
        throw error;
      },
    );
    this.inFlight = fetching;
    try {
      await fetching;
    } finally {
      if (this.inFlight === fetching) this.inFlight = undefined;
    }
    return "refreshed";
  }

  /**
   * Finds the key to verify a token with: the configured key, else the key with the token's `kid`
   * (or, for a token without `kid`, the one key usable with its `alg`). An unknown `kid`, or a first
   * use before any keys are loaded, triggers {@link refresh}.
   * @param kid - the token's `kid` header, if any
   * @param alg - the token's `alg` header (already checked to be a supported algorithm)
   * @throws CrossauthError `InvalidToken` when no key (or more than one) fits, or the key's type does
   *   not allow `alg`; `Connection` when a needed refresh fails
   */
  async keyFor(kid: string | undefined, alg: string): Promise<VerificationKey> {
    if (this.staticKey) return this.pick([this.staticKey], alg, kid);
    let candidates = this.candidates(kid);
    let outcome: RefreshOutcome | undefined;
    if (candidates.length === 0 && (kid !== undefined || !this.isLoaded)) {
      outcome = await this.refresh();
      candidates = this.candidates(kid);
    }
    if (candidates.length === 0) {
      const limited = outcome === "rate-limited" ? " (key refresh rate-limited)" : "";
      throw refused(
        kid === undefined ? "No verification key is loaded" : `No key matches the token's kid${limited}`,
      );
    }
    return this.pick(candidates, alg, kid);
  }

  private candidates(kid: string | undefined): readonly VerificationKey[] {
    return kid === undefined ? this.current : this.current.filter((k) => k.kid === kid);
  }

  private pick(
    candidates: readonly VerificationKey[],
    alg: string,
    kid: string | undefined,
  ): VerificationKey {
    const fitting = candidates.filter((k) => k.algorithms.some((a) => a === alg));
    if (fitting.length === 0) throw refused(`Algorithm ${alg} is not accepted for the token's key`);
    if (fitting.length > 1) {
      throw refused(
        kid === undefined ? "Token has no kid and several keys fit" : "Several keys have the token's kid",
      );
    }
    return fitting[0]!;
  }
}
