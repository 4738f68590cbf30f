/**
 * `OAuthClientStorage`: registered OAuth clients with their redirect URIs and allowed flows.
 * @module
 */
import {
  CrossauthError,
  ErrorCode,
  type OAuthClient,
  OAuthFlows,
  type PartialOAuthClient,
} from "@crossauth/common";

/** A client to create: as {@link OAuthClient}, with the id optional (generated when absent). */
export interface NewOAuthClient {
  client_id?: string;
  client_name: string;
  confidential: boolean;
  client_secret?: string | null;
  redirect_uri: string[];
  valid_flow: string[];
  userid?: string | number | null;
  [field: string]: unknown;
}

/** Options of every {@link OAuthClientStorage} (none yet; storages add their own). */
export type OAuthClientStorageOptions = Record<string, never>;

const validFlows: ReadonlySet<string> = new Set(Object.values(OAuthFlows));

/**
 * Checks flow names against {@link OAuthFlows}.
 * @throws CrossauthError `InvalidOAuthFlow` naming the first unknown flow
 */
export function validateOAuthFlows(flows: readonly string[]): void {
  for (const flow of flows) {
    if (typeof flow !== "string" || !validFlows.has(flow)) {
      throw new CrossauthError(ErrorCode.InvalidOAuthFlow, `Invalid OAuth flow ${String(flow)}`);
    }
  }
}

/**
 * Checks redirect URIs: each must be an absolute URL without a fragment (RFC 6749 §3.1.2).
 * @throws CrossauthError `InvalidRedirectUri` naming the first bad URI
 */
export function validateRedirectUris(uris: readonly string[]): void {
  for (const uri of uris) {
    let ok = typeof uri === "string" && !uri.includes("#") && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri);
    if (ok) {
      try {
        new URL(uri);
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new CrossauthError(ErrorCode.InvalidRedirectUri, `Invalid redirect URI ${String(uri)}`);
  }
}

/**
 * Base class of OAuth client storages.
 *
 * `userid` arguments of the listing methods follow the reference: absent (`undefined`) means every
 * client, `null` means clients owned by no user, a value means that user's clients.
 */
export abstract class OAuthClientStorage {
  /**
   * Returns a client by id.
   * @throws CrossauthError `InvalidClientId` when absent, `Connection` on storage failure
   */
  abstract getClientById(clientId: string): Promise<OAuthClient>;

  /**
   * Returns the clients with this name (see the class note for `userid`). Empty when none.
   */
  abstract getClientByName(name: string, userid?: string | number | null): Promise<OAuthClient[]>;

  /**
   * Returns clients ordered by name (see the class note for `userid`).
   * @param skip - number of clients to skip
   * @param take - maximum number to return
   */
  abstract getClients(skip?: number, take?: number, userid?: string | number | null): Promise<OAuthClient[]>;

  /**
   * Saves a new client with its redirect URIs and flows. A missing `client_id` is generated.
   * @returns the client as stored
   * @throws CrossauthError `InvalidOAuthFlow`, `InvalidRedirectUri`, `ClientExists` for a duplicate
   *   id or a duplicate name for the same owner (including no owner)
   */
  abstract createClient(client: NewOAuthClient): Promise<OAuthClient>;

  /**
   * Updates the given fields of client `client.client_id`; `redirect_uri` and `valid_flow`, when
   * given, replace the stored sets.
   * @throws CrossauthError `InvalidClientId` when absent, plus the validation errors of createClient
   */
  abstract updateClient(client: PartialOAuthClient): Promise<void>;

  /** Deletes a client with its redirect URIs, flows and authorizations; no error when absent. */
  abstract deleteClient(clientId: string): Promise<void>;
}
