/**
 * What a storage backend hands to the conformance suite.
 */
import type {
  KeyStorage,
  OAuthAuthorizationStorage,
  OAuthClientStorage,
  UserStorage,
} from "@crossauth/backend";

/** One backend's storages, freshly emptied by `reset`. */
export interface StorageFixture {
  /** Absent for key-only backends (Redis). */
  userStorage?: UserStorage;
  keyStorage: KeyStorage;
  clientStorage?: OAuthClientStorage;
  authorizationStorage?: OAuthAuthorizationStorage;
  /**
   * Makes a user storage with other options (normalization off, extra fields...) over the same data.
   * Absent for key-only backends.
   */
  userStorageWith?: (options: Record<string, unknown>) => UserStorage;
  /** Empties every table / key the storages use. Called before each test. */
  reset(): Promise<void>;
  /** Releases connections. Called once after the suite. */
  close(): Promise<void>;
}

/** Creates the fixture once per suite (connect, migrate). */
export type FixtureFactory = () => Promise<StorageFixture>;
