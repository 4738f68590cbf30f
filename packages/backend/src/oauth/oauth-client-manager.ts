/**
 * `OAuthClientManager`: registering, changing and removing OAuth clients. Client ids are
 * `randomValue(16)`; confidential clients get a secret of `randomValue(32)` that is handed back once,
 * in plaintext, and stored only as a PBKDF2 password hash (wire-formats.md, `OAuthClient`).
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type OAuthClient,
  OAuthFlows,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import { passwordHash, passwordsEqual, randomValue } from "../crypto/index.js";
import {
  type OAuthClientStorage,
  validateOAuthFlows,
  validateRedirectUris,
} from "../storage/oauth-client-storage.js";

/** PBKDF2 iterations of stored client secrets (wire-formats.md). */
export const CLIENT_SECRET_PBKDF2_ITERATIONS = 40000;
/** Random bytes of a client id. */
const CLIENT_ID_BYTES = 16;
/** Random bytes of a client secret. */
const CLIENT_SECRET_BYTES = 32;

/** Options of {@link OAuthClientManager}. */
export interface OAuthClientManagerOptions {
  /**
   * The flows clients may be given, a subset of {@link OAuthFlows}; default every flow (env
   * `CROSSAUTH_VALID_FLOWS`, JSON array).
   */
  validFlows?: string[];
}

/** A client as callers may see it: everything but the stored secret hash (`client_secret`). */
export interface OAuthClientInfo {
  client_id: string;
  client_name: string;
  confidential: boolean;
  redirect_uri: string[];
  valid_flow: string[];
  /** Owner user id, or null/absent for an unowned client. */
  userid?: string | number | null;
  /** Application-defined fields. */
  [field: string]: unknown;
}

/** What {@link OAuthClientManager.createClient} returns. */
export interface CreatedOAuthClient {
  /** The client as stored, without its secret hash. */
  client: OAuthClientInfo;
  /** The plaintext secret of a confidential client: shown once, never stored. */
  clientSecret?: string;
}

/** What {@link OAuthClientManager.updateClient} returns. */
export interface UpdatedOAuthClient {
  /** The client as now stored, without its secret hash. */
  client: OAuthClientInfo;
  /** The new plaintext secret, when one was made: shown once, never stored. */
  newSecret?: string;
}

/** Fields of a client that {@link OAuthClientManager.updateClient} changes; absent ones are kept. */
export interface OAuthClientChanges {
  client_name?: string;
  confidential?: boolean;
  redirect_uri?: string[];
  valid_flow?: string[];
  /** The owner's id, or null for no owner. */
  userid?: string | number | null;
}

/**
 * A copy of a client without its stored secret hash.
 * @param client - a client as stored (or already without the hash)
 */
export function clientInfo(client: OAuthClient | OAuthClientInfo): OAuthClientInfo {
  const { client_secret: _hash, ...info } = client;
  return info as OAuthClientInfo;
}

/** Checks a client name: non-empty text. */
function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.trim() === "") {
    throw new CrossauthError(ErrorCode.BadRequest, "Client name is required");
  }
}

/** Checks the `confidential` flag: a boolean. */
function checkConfidential(confidential: unknown): asserts confidential is boolean {
  if (typeof confidential !== "boolean") {
    throw new CrossauthError(ErrorCode.BadRequest, "confidential must be true or false");
  }
}

/** Checks that a value is a list of text. */
function checkList(list: unknown, what: string): asserts list is string[] {
  if (!Array.isArray(list) || list.some((item) => typeof item !== "string")) {
    throw new CrossauthError(ErrorCode.BadRequest, `${what} must be a list of text`);
  }
}

/**
 * Registers, changes and removes OAuth clients in an {@link OAuthClientStorage}, and checks client
 * secrets. Returned clients never carry the stored secret hash.
 */
export class OAuthClientManager {
  /** Where clients live. */
  readonly clientStorage: OAuthClientStorage;
  /** The flows clients may be given. */
  readonly validFlows: string[] = Object.values(OAuthFlows);

  /**
   * @param clientStorage - where clients live
   * @param options - see {@link OAuthClientManagerOptions}
   * @throws CrossauthError `Configuration` for a badly typed option or a `validFlows` entry that is
   *   not an OAuth flow
   */
  constructor(clientStorage: OAuthClientStorage, options: OAuthClientManagerOptions = {}) {
    this.clientStorage = clientStorage;
    setParameter("validFlows", ParamType.JsonArray, this, options as Record<string, unknown>, "VALID_FLOWS");
    const known: readonly unknown[] = Object.values(OAuthFlows);
    if (!this.validFlows.every((flow) => known.includes(flow))) {
      throw new CrossauthError(ErrorCode.Configuration, "validFlows may name only OAuth flows");
    }
    this.validFlows = [...new Set(this.validFlows)];
  }

  /**
   * Checks flow names: each must be an OAuth flow and one of {@link validFlows}.
   * @throws CrossauthError `InvalidOAuthFlow` naming the first flow that is not allowed
   */
  validateFlows(flows: readonly string[]): void {
    validateOAuthFlows(flows);
    const refused = flows.find((flow) => !this.validFlows.includes(flow));
    if (refused !== undefined) {
      throw new CrossauthError(ErrorCode.InvalidOAuthFlow, `The flow ${refused} is not allowed`);
    }
  }

  /**
   * Checks redirect URIs: absolute URLs without a fragment.
   * @throws CrossauthError `InvalidRedirectUri` naming the first bad URI
   */
  validateRedirectUris(uris: readonly string[]): void {
    validateRedirectUris(uris);
  }

  /**
   * Registers a client with a new id. A confidential client gets a new secret, returned once in
   * plaintext and stored as a PBKDF2 hash.
   * @param name - display name, unique per owner
   * @param redirectUris - registered redirect URIs
   * @param validFlows - the flows the client may use
   * @param confidential - whether the client can keep a secret
   * @param userid - the owner's id; absent or null for no owner
   * @throws CrossauthError `BadRequest` for an empty name or lists that are not text;
   *   `InvalidOAuthFlow`; `InvalidRedirectUri`; `ClientExists` when the owner already has a client of
   *   this name; `Connection` on storage failure
   */
  async createClient(
    name: string,
    redirectUris: string[],
    validFlows: string[],
    confidential: boolean,
    userid?: string | number | null,
  ): Promise<CreatedOAuthClient> {
    checkName(name);
    checkConfidential(confidential);
    checkList(redirectUris, "Redirect URIs");
    checkList(validFlows, "Flows");
    this.validateFlows(validFlows);
    this.validateRedirectUris(redirectUris);
    const clientSecret = confidential ? randomValue(CLIENT_SECRET_BYTES) : undefined;
    const stored = await this.clientStorage.createClient({
      client_id: randomValue(CLIENT_ID_BYTES),
      client_name: name,
      confidential,
      client_secret: clientSecret === undefined ? null : await hashSecret(clientSecret),
      redirect_uri: [...redirectUris],
      valid_flow: [...validFlows],
      userid: userid ?? null,
    });
    CrossauthLogger.logger.info(
      j({ msg: "OAuth client created", clientId: stored.client_id, userid: stored.userid, confidential }),
    );
    return { client: clientInfo(stored), ...(clientSecret === undefined ? {} : { clientSecret }) };
  }

  /**
   * Changes a client. A client that is (or becomes) confidential gets a new secret when it had none
   * (it was public) or when `resetSecret` is true; a client that becomes public loses its secret.
   * @param clientId - the client
   * @param changes - the fields to change (absent ones are kept)
   * @param resetSecret - give a confidential client a new secret
   * @returns the client as now stored and, when one was made, the new plaintext secret
   * @throws CrossauthError `InvalidClientId` for an unknown client; as {@link createClient}
   */
  async updateClient(
    clientId: string,
    changes: OAuthClientChanges,
    resetSecret = false,
  ): Promise<UpdatedOAuthClient> {
    const current = await this.clientStorage.getClientById(clientId);
    if (changes.client_name !== undefined) checkName(changes.client_name);
    if (changes.redirect_uri !== undefined) {
      checkList(changes.redirect_uri, "Redirect URIs");
      this.validateRedirectUris(changes.redirect_uri);
    }
    if (changes.valid_flow !== undefined) {
      checkList(changes.valid_flow, "Flows");
      this.validateFlows(changes.valid_flow);
    }
    if (changes.confidential !== undefined) checkConfidential(changes.confidential);
    const confidential = changes.confidential ?? current.confidential;
    const hadSecret = typeof current.client_secret === "string" && current.client_secret !== "";
    const newSecret =
      confidential && (resetSecret || !hadSecret) ? randomValue(CLIENT_SECRET_BYTES) : undefined;
    const update: Partial<OAuthClient> = { ...definedChanges(changes), client_id: clientId, confidential };
    if (newSecret !== undefined) update.client_secret = await hashSecret(newSecret);
    else if (!confidential) update.client_secret = null;
    await this.clientStorage.updateClient(update);
    CrossauthLogger.logger.info(
      j({ msg: "OAuth client updated", clientId, fields: Object.keys(update), newSecret: !!newSecret }),
    );
    const client = clientInfo(await this.clientStorage.getClientById(clientId));
    return { client, ...(newSecret === undefined ? {} : { newSecret }) };
  }

  /**
   * Deletes a client with its redirect URIs, flows and authorizations.
   * @param clientId - the client
   * @throws CrossauthError `InvalidClientId` for an unknown client; `Connection` on storage failure
   */
  async deleteClient(clientId: string): Promise<void> {
    await this.clientStorage.getClientById(clientId);
    await this.clientStorage.deleteClient(clientId);
    CrossauthLogger.logger.info(j({ msg: "OAuth client deleted", clientId }));
  }

  /**
   * A client, without its secret hash.
   * @throws CrossauthError `InvalidClientId` for an unknown client
   */
  async getClient(clientId: string): Promise<OAuthClientInfo> {
    return clientInfo(await this.clientStorage.getClientById(clientId));
  }

  /**
   * Clients ordered by name, without their secret hashes.
   * @param skip - number of clients to skip
   * @param take - maximum number to return
   * @param userid - absent: every client; null: clients without owner; a value: that user's clients
   */
  async getClients(
    skip?: number,
    take?: number,
    userid?: string | number | null,
  ): Promise<OAuthClientInfo[]> {
    return (await this.clientStorage.getClients(skip, take, userid)).map(clientInfo);
  }

  /**
   * Whether a secret is the client's: compared with the stored PBKDF2 hash in constant time.
   * @param client - the client as stored (with its secret hash)
   * @param secret - the secret presented
   * @returns false for a wrong or missing secret and for a client without a secret (public)
   * @throws CrossauthError `InvalidHash` / `UnsupportedAlgorithm` when the stored hash is malformed
   */
  async validateClientSecret(client: OAuthClient, secret: unknown): Promise<boolean> {
    const stored = client.client_secret;
    if (typeof stored !== "string" || stored === "") return false;
    if (typeof secret !== "string" || secret === "") return false;
    return passwordsEqual(secret, stored);
  }
}

/** The PBKDF2 hash stored for a client secret. */
function hashSecret(secret: string): Promise<string> {
  return passwordHash(secret, { encode: true, iterations: CLIENT_SECRET_PBKDF2_ITERATIONS });
}

/** The fields {@link OAuthClientManager.updateClient} copies from its changes (when defined). */
const CHANGEABLE_FIELDS = ["client_name", "redirect_uri", "valid_flow", "userid"] as const;

/** The changeable fields that are given (not `undefined`), copied. */
function definedChanges(changes: OAuthClientChanges): Partial<OAuthClient> {
  const defined: Record<string, unknown> = {};
  for (const field of CHANGEABLE_FIELDS) {
    const value = changes[field];
    if (value !== undefined) defined[field] = Array.isArray(value) ? [...value] : value;
  }
  return defined;
}
