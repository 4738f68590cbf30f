/**
 * `OAuthAuthorizationStorage`: the scopes a user (or, for client credentials, a client) has authorized.
 * @module
 */

/** Options of every {@link OAuthAuthorizationStorage} (none yet). */
export type OAuthAuthorizationStorageOptions = Record<string, never>;

/** Base class of OAuth authorization storages. A `null` scope is a scopeless authorization. */
export abstract class OAuthAuthorizationStorage {
  /**
   * Scopes authorized for a client by a user, or for the client itself when `userid` is null/absent.
   */
  abstract getAuthorizations(clientId: string, userid?: string | number | null): Promise<(string | null)[]>;

  /**
   * Replaces, atomically, the set of scopes authorized for (client, user); duplicates are stored once.
   */
  abstract updateAuthorizations(
    clientId: string,
    userid: string | number | null,
    authorizations: (string | null)[],
  ): Promise<void>;
}
