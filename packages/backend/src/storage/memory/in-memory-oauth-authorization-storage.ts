/**
 * `InMemoryOAuthAuthorizationStorage`: OAuth authorizations held in memory (tests, demos).
 * @module
 */
import { OAuthAuthorizationStorage } from "../oauth-authorization-storage.js";
import { idKey } from "./memory-helpers.js";

/**
 * {@link OAuthAuthorizationStorage} keeping, per client, the set of scopes each user (or, under a
 * `null` user, the client itself) has authorized.
 */
export class InMemoryOAuthAuthorizationStorage extends OAuthAuthorizationStorage {
  /** client_id → user id text (null for the client itself) → scopes. */
  private readonly byClient = new Map<string, Map<string | null, Set<string | null>>>();

  /** Scopes authorized for a client by a user, or for the client itself when `userid` is null/absent. */
  async getAuthorizations(clientId: string, userid?: string | number | null): Promise<(string | null)[]> {
    return [...(this.byClient.get(clientId)?.get(idKey(userid)) ?? [])];
  }

  /** Replaces the set of scopes authorized for (client, user); duplicates are stored once. */
  async updateAuthorizations(
    clientId: string,
    userid: string | number | null,
    authorizations: (string | null)[],
  ): Promise<void> {
    let users = this.byClient.get(clientId);
    if (!users) {
      users = new Map();
      this.byClient.set(clientId, users);
    }
    if (authorizations.length > 0) users.set(idKey(userid), new Set(authorizations));
    else users.delete(idKey(userid));
  }

  /**
   * Deletes a user's authorizations for every client. Called by a linked `InMemoryUserStorage`.
   * @param userid - the user's id
   */
  deleteForUser(userid: string | number): void {
    for (const users of this.byClient.values()) users.delete(idKey(userid));
  }

  /**
   * Deletes every authorization of a client. Called by a linked `InMemoryOAuthClientStorage`.
   * @param clientId - the client's id
   */
  deleteForClient(clientId: string): void {
    this.byClient.delete(clientId);
  }

  /** Empties the storage. */
  clear(): void {
    this.byClient.clear();
  }
}
