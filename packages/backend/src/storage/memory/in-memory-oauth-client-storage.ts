/**
 * `InMemoryOAuthClientStorage`: OAuth clients held in memory (tests, demos).
 * @module
 */
import { CrossauthError, ErrorCode, type OAuthClient, type PartialOAuthClient } from "@crossauth/common";
import { randomValue } from "../../crypto/index.js";
import {
  type NewOAuthClient,
  OAuthClientStorage,
  validateOAuthFlows,
  validateRedirectUris,
} from "../oauth-client-storage.js";
import type { InMemoryOAuthAuthorizationStorage } from "./in-memory-oauth-authorization-storage.js";
import { assignDefined, compareText, deepCopy, idKey, page } from "./memory-helpers.js";

/** Options of {@link InMemoryOAuthClientStorage}. */
export interface InMemoryOAuthClientStorageOptions {
  /** Authorization storage whose entries for a client are dropped when the client is deleted. */
  authorizationStorage?: InMemoryOAuthAuthorizationStorage;
}

/** The client fields derived or fixed by the storage, never copied from an update. */
const immutableFields = ["client_id"] as const;

/**
 * {@link OAuthClientStorage} keeping clients in memory, indexed by `client_id`. Returned clients are
 * copies. Redirect URIs and flows given twice are stored once.
 */
export class InMemoryOAuthClientStorage extends OAuthClientStorage {
  private readonly clients = new Map<string, OAuthClient>();
  private readonly authorizationStorage: InMemoryOAuthAuthorizationStorage | undefined;

  /** @param options - see {@link InMemoryOAuthClientStorageOptions} */
  constructor(options: InMemoryOAuthClientStorageOptions = {}) {
    super();
    this.authorizationStorage = options.authorizationStorage;
  }

  /**
   * Returns a copy of a client.
   * @throws CrossauthError `InvalidClientId` when absent
   */
  async getClientById(clientId: string): Promise<OAuthClient> {
    return deepCopy(this.stored(clientId));
  }

  /** Clients with this name: all (`userid` undefined), unowned (`null`) or that user's. */
  async getClientByName(name: string, userid?: string | number | null): Promise<OAuthClient[]> {
    return this.select(userid).filter((c) => c.client_name === name);
  }

  /** Clients ordered by name then id: all (`userid` undefined), unowned (`null`) or that user's. */
  async getClients(skip?: number, take?: number, userid?: string | number | null): Promise<OAuthClient[]> {
    const sorted = this.select(userid).sort(
      (a, b) => compareText(a.client_name, b.client_name) || compareText(a.client_id, b.client_id),
    );
    return page(sorted, skip, take);
  }

  /**
   * Saves a new client, generating `client_id` when absent.
   * @throws CrossauthError `InvalidOAuthFlow`, `InvalidRedirectUri`, `ClientExists`, `BadRequest` for a
   *   missing name
   */
  async createClient(client: NewOAuthClient): Promise<OAuthClient> {
    const clientId = client.client_id || randomValue(16);
    const stored: OAuthClient = deepCopy({
      ...client,
      client_id: clientId,
      confidential: Boolean(client.confidential),
      client_secret: client.client_secret ?? null,
      userid: client.userid ?? null,
      redirect_uri: client.redirect_uri ?? [],
      valid_flow: client.valid_flow ?? [],
    });
    this.check(stored);
    if (this.clients.has(clientId)) throw new CrossauthError(ErrorCode.ClientExists);
    this.clients.set(clientId, stored);
    return deepCopy(stored);
  }

  /**
   * Updates the defined fields of client `client.client_id`; `redirect_uri` / `valid_flow` replace the sets.
   * @throws CrossauthError `InvalidClientId` when absent, plus the validation errors of createClient
   */
  async updateClient(client: PartialOAuthClient): Promise<void> {
    const updated = deepCopy(this.stored(client.client_id));
    assignDefined(updated, deepCopy(client), immutableFields);
    updated.confidential = Boolean(updated.confidential);
    this.check(updated);
    this.clients.set(updated.client_id, updated);
  }

  /** Deletes a client with its authorizations; no error when absent. */
  async deleteClient(clientId: string): Promise<void> {
    this.clients.delete(clientId);
    this.authorizationStorage?.deleteForClient(clientId);
  }

  /**
   * Deletes every client a user owns, with their authorizations. Called by a linked
   * `InMemoryUserStorage` when the user is deleted.
   * @param userid - the owner's id
   */
  deleteForUser(userid: string | number): void {
    for (const client of this.select(userid)) {
      this.clients.delete(client.client_id);
      this.authorizationStorage?.deleteForClient(client.client_id);
    }
  }

  /** Empties the storage. */
  clear(): void {
    this.clients.clear();
  }

  private stored(clientId: string | undefined): OAuthClient {
    const client = clientId === undefined ? undefined : this.clients.get(clientId);
    if (!client) throw new CrossauthError(ErrorCode.InvalidClientId);
    return client;
  }

  /** Copies of the clients selected by the `userid` convention of the listing methods. */
  private select(userid: string | number | null | undefined): OAuthClient[] {
    const all = [...this.clients.values()];
    const owner = idKey(userid);
    return (userid === undefined ? all : all.filter((c) => idKey(c.userid) === owner)).map((c) =>
      deepCopy(c),
    );
  }

  /** Validates a client about to be stored and dedupes its URIs and flows. */
  private check(client: OAuthClient): void {
    if (typeof client.client_name !== "string" || client.client_name === "") {
      throw new CrossauthError(ErrorCode.BadRequest, "Client name is required");
    }
    client.valid_flow = uniqueList(client.valid_flow);
    client.redirect_uri = uniqueList(client.redirect_uri);
    validateOAuthFlows(client.valid_flow);
    validateRedirectUris(client.redirect_uri);
    const owner = idKey(client.userid);
    for (const other of this.clients.values()) {
      if (
        other.client_id !== client.client_id &&
        other.client_name === client.client_name &&
        idKey(other.userid) === owner
      ) {
        throw new CrossauthError(
          ErrorCode.ClientExists,
          "A client with this name already exists for this owner",
        );
      }
    }
  }
}

/** A list without repeats (first occurrences kept, in order); null or absent is empty. */
function uniqueList(list: unknown): string[] {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new CrossauthError(ErrorCode.BadRequest, "Expected a list");
  return [...new Set(list as string[])];
}
