/**
 * What the OAuth client endpoints share: reading a client form or JSON body (`client_name`,
 * `confidential`, `redirect_uris`, one field per allowed flow, `resetSecret`, and for admins
 * `userid`), finding the client a request may manage, the client as JSON (never its secret hash),
 * and the data of the client pages.
 * @module
 */
import { CrossauthError, ErrorCode, type User } from "@crossauth/common";
import {
  clientInfo,
  type OAuthClientInfo,
  type OAuthClientManager,
} from "../../oauth/oauth-client-manager.js";
import { ANY_STATE } from "../../session/flows/account.js";
import type { EndpointDefinition, EndpointRequest, EndpointServices } from "../endpoint.js";
import { booleanField, MAX_FIELD_LENGTH, stringField } from "../endpoint-helpers.js";

/** Who manages clients through an endpoint: their owner (`user`) or an admin (any client). */
export type ClientMode = "user" | "admin";

/** A client body, read. Fields left undefined are not changed by an update. */
export interface ClientInput {
  client_name?: string;
  confidential?: boolean;
  redirect_uri?: string[];
  valid_flow?: string[];
  /** Admins only: the owner's id, or null for none. */
  userid?: string | number | null;
  resetSecret: boolean;
}

/**
 * The client manager of the endpoint services.
 * @throws CrossauthError `Configuration` when the application gave none
 */
export function requireClientManager(services: EndpointServices): OAuthClientManager {
  if (!services.clientManager) {
    throw new CrossauthError(ErrorCode.Configuration, "OAuth client management needs a client manager");
  }
  return services.clientManager;
}

/**
 * A client for a JSON answer or a page: never the stored secret hash; `client_secret` is the
 * plaintext secret only when one was just made (it is shown once).
 * @param secret - a secret just made, if any
 */
export function clientJson(client: OAuthClientInfo, secret?: string): Record<string, unknown> {
  const info = clientInfo(client);
  return secret === undefined ? info : { ...info, client_secret: secret };
}

/** Redirect URIs given as text separated by spaces or commas. */
export function splitRedirectUris(text: string): string[] {
  return text.split(/[\s,]+/).filter((uri) => uri !== "");
}

/**
 * The owner an admin named: `null` for none (`""`, null or absent), else the id of an existing user.
 * @throws CrossauthError `FormEntry` when the value is not an id or names no user
 */
async function ownerOf(services: EndpointServices, value: unknown): Promise<string | number | null> {
  if (value === undefined || value === null || value === "") return null;
  const valid =
    (typeof value === "string" && value.length <= MAX_FIELD_LENGTH) ||
    (typeof value === "number" && Number.isSafeInteger(value));
  if (!valid) throw new CrossauthError(ErrorCode.FormEntry, "userid must be a user id");
  try {
    return (await services.sessionManager.userStorage.getUserById(value, ANY_STATE)).user.id;
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.UserNotExist) {
      throw new CrossauthError(ErrorCode.FormEntry, "userid names no user");
    }
    throw e;
  }
}

/**
 * Reads a client body. A page form always carries every field (an unticked box is absent, so it is
 * false); an API update leaves absent fields (and the flows, when no flow field is given) unchanged,
 * but a `client_name` it gives must not be empty.
 * @param creating - true for create (a name is required; absent fields are empty or false)
 * @throws CrossauthError `FormEntry` for a missing name, non-text or oversized values, or an unknown
 *   owner
 */
export async function clientInput(
  request: EndpointRequest,
  services: EndpointServices,
  mode: ClientMode,
  kind: EndpointDefinition["kind"],
  creating: boolean,
): Promise<ClientInput> {
  const body = request.body;
  const whole = creating || kind === "page";
  const given = (name: string) => whole || Object.hasOwn(body, name);
  const uris = stringField(body, "redirect_uris");
  const flowNames = requireClientManager(services).validFlows;
  const input: ClientInput = {
    client_name: stringField(body, "client_name", given("client_name")),
    confidential: given("confidential") ? booleanField(body, "confidential") : undefined,
    redirect_uri: uris !== undefined ? splitRedirectUris(uris) : whole ? [] : undefined,
    valid_flow:
      whole || flowNames.some((flow) => Object.hasOwn(body, flow))
        ? flowNames.filter((flow) => booleanField(body, flow))
        : undefined,
    resetSecret: booleanField(body, "resetSecret"),
  };
  if (mode === "admin" && given("userid")) input.userid = await ownerOf(services, body.userid);
  return input;
}

/** Whether a user owns a client. */
function owns(user: User | undefined, client: OAuthClientInfo): boolean {
  return (
    user !== undefined &&
    client.userid !== null &&
    client.userid !== undefined &&
    String(client.userid) === String(user.id)
  );
}

/**
 * The client of the `:client_id` parameter, when the request may manage it: an admin any client, a
 * user only their own. Another user's client is answered exactly like an unknown one, so that
 * users cannot learn which ids exist.
 * @throws CrossauthError `InvalidClientId` (401) for an unknown client or one the user does not own;
 *   `FormEntry` for a missing or oversized id
 */
export async function managedClient(
  request: EndpointRequest,
  services: EndpointServices,
  mode: ClientMode,
): Promise<OAuthClientInfo> {
  const clientId = stringField(request.params, "client_id", true);
  const client = await requireClientManager(services).getClient(clientId);
  if (mode === "user" && !owns(request.user, client)) throw new CrossauthError(ErrorCode.InvalidClientId);
  return client;
}

/**
 * Turns a duplicate client name (`ClientExists`, a 500 in the error table) into the form error it
 * is: 400 `FormEntry`.
 * @param e - what was thrown
 */
export function clientInputError(e: unknown): unknown {
  if (e instanceof CrossauthError && e.code === ErrorCode.ClientExists) {
    return new CrossauthError(ErrorCode.FormEntry, "The owner already has a client with this name");
  }
  return e;
}

/** The URLs of the client pages of a mode (`updateUrl`/`deleteUrl` for a given client). */
export function clientUrls(services: EndpointServices, mode: ClientMode, clientId?: string) {
  const base = mode === "admin" ? services.options.adminPrefix : services.options.prefix;
  const urls: Record<string, string> = { listUrl: `${base}selectclient`, createUrl: `${base}createclient` };
  if (clientId !== undefined) {
    const id = encodeURIComponent(clientId);
    urls.updateUrl = `${base}updateclient/${id}`;
    urls.deleteUrl = `${base}deleteclient/${id}`;
  }
  return urls;
}

/** The label of a flow: its message (`flowAuthorizationCode`...), else its name. */
function flowLabel(services: EndpointServices, flow: string): string {
  const messages = services.pages.messages as Record<string, string>;
  const key = `flow${flow.charAt(0).toUpperCase()}${flow.slice(1)}`;
  return Object.hasOwn(messages, key) ? (messages[key] as string) : flow;
}

/** A client as the list and delete pages show it: its fields, flow labels and page URLs. */
export function clientRow(services: EndpointServices, mode: ClientMode, client: OAuthClientInfo) {
  return {
    ...clientJson(client),
    flowLabels: client.valid_flow.map((flow) => flowLabel(services, flow)),
    ...clientUrls(services, mode, client.client_id),
  };
}

/**
 * The data of the create and update forms: the posted values after a failed POST, else the
 * client's (new clients: confidential, no flows).
 * @param client - the client being edited (absent when creating)
 */
export function clientForm(
  request: EndpointRequest,
  services: EndpointServices,
  mode: ClientMode,
  client?: OAuthClientInfo,
): Record<string, unknown> {
  const body = request.body;
  const posted = request.method === "POST";
  const text = (name: string, fallback: string) =>
    posted
      ? typeof body[name] === "string"
        ? (body[name] as string).slice(0, MAX_FIELD_LENGTH)
        : ""
      : fallback;
  const owner = client?.userid;
  return {
    admin: mode === "admin",
    clientName: text("client_name", client?.client_name ?? ""),
    redirectUris: text("redirect_uris", client?.redirect_uri.join(" ") ?? ""),
    confidential: posted ? booleanField(body, "confidential") : (client?.confidential ?? true),
    flows: requireClientManager(services).validFlows.map((flow) => ({
      name: flow,
      label: flowLabel(services, flow),
      checked: posted ? booleanField(body, flow) : (client?.valid_flow.includes(flow) ?? false),
    })),
    userid: text("userid", owner === null || owner === undefined ? "" : String(owner)),
    ...(client ? { client: clientRow(services, mode, client) } : {}),
    ...clientUrls(services, mode, client?.client_id),
  };
}
