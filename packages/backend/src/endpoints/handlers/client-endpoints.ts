/**
 * OAuth client management, as pages and JSON: for users (feature `clientManagement`, access
 * `user`: `selectclient`, `createclient`, `updateclient/:client_id`, `deleteclient/:client_id` and
 * `api/` twins of the last three; a user sees and changes only their own clients) and for admins
 * (feature `adminClientManagement`, access `admin`: the same under `admin/`, for any client, with
 * `userid` naming the owner). A confidential client's secret is shown once, when it is made.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type {
  CreatedOAuthClient,
  OAuthClientInfo,
  UpdatedOAuthClient,
} from "../../oauth/oauth-client-manager.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import { page, pageError, redirectTo, stringField } from "../endpoint-helpers.js";
import {
  type ClientMode,
  clientForm,
  clientInput,
  clientInputError,
  clientJson,
  clientRow,
  clientUrls,
  managedClient,
  requireClientManager,
} from "./client-form.js";
import { adminPage, adminPageError, apiAnswer, pageAbout } from "./handler-wrappers.js";
import { pageOfRows, pagingLinks, readPaging } from "./list-paging.js";
import { safeNext, sessionEndpoint } from "./session-endpoint-support.js";

/** Registers a client: owned by the user, or (admin) by the `userid` given, if any. */
async function createClientFor(
  request: EndpointRequest,
  services: EndpointServices,
  mode: ClientMode,
  kind: EndpointDefinition["kind"],
): Promise<CreatedOAuthClient> {
  const manager = requireClientManager(services);
  const input = await clientInput(request, services, mode, kind, true);
  const owner = mode === "user" ? request.user?.id : input.userid;
  if (mode === "user" && owner === undefined) throw new CrossauthError(ErrorCode.Unauthorized);
  try {
    return await manager.createClient(
      input.client_name as string,
      input.redirect_uri ?? [],
      input.valid_flow ?? [],
      input.confidential ?? false,
      owner ?? null,
    );
  } catch (e) {
    throw clientInputError(e);
  }
}

/** Changes the `:client_id` client the request may manage; `resetSecret` makes a new secret. */
async function updateClientFor(
  request: EndpointRequest,
  services: EndpointServices,
  mode: ClientMode,
  kind: EndpointDefinition["kind"],
): Promise<UpdatedOAuthClient> {
  const client = await managedClient(request, services, mode);
  const { resetSecret, ...changes } = await clientInput(request, services, mode, kind, false);
  try {
    return await requireClientManager(services).updateClient(client.client_id, changes, resetSecret);
  } catch (e) {
    throw clientInputError(e);
  }
}

/** Deletes the `:client_id` client the request may manage; returns its id. */
async function deleteClientFor(request: EndpointRequest, services: EndpointServices, mode: ClientMode) {
  const client = await managedClient(request, services, mode);
  await requireClientManager(services).deleteClient(client.client_id);
  return client.client_id;
}

/** A page of a mode: admin pages get the admin navigation. */
function modePage(mode: ClientMode) {
  return mode === "admin" ? adminPage : page;
}

/** An error page of a mode. */
function modePageError(mode: ClientMode) {
  return mode === "admin" ? adminPageError : pageError;
}

/** The template of a client page: `selectclient`..., or `admin/selectclient`... for admins. */
function template(mode: ClientMode, name: string): string {
  return mode === "admin" ? `admin/${name}` : name;
}

/** `GET selectclient`: the user's clients, or (admin) every client or those of `?userid=`. */
function selectClientPage(mode: ClientMode) {
  return async (request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> => {
    const name = template(mode, "selectclient");
    try {
      const paging = readPaging(request);
      const owner = mode === "user" ? request.user?.id : stringField(request.query, "userid");
      if (mode === "user" && owner === undefined) throw new CrossauthError(ErrorCode.Unauthorized);
      const manager = requireClientManager(services);
      const { rows, hasMore } = await pageOfRows(paging, (skip, take) =>
        manager.getClients(skip, take, owner),
      );
      const urls = clientUrls(services, mode);
      const query = mode === "admin" && owner !== undefined ? { userid: String(owner) } : {};
      return modePage(mode)(request, services, name, "selectClientTitle", {
        admin: mode === "admin",
        clients: rows.map((client) => clientRow(services, mode, client)),
        notice: rows.length === 0 ? services.pages.messages.noClientsFound : undefined,
        ...urls,
        ...pagingLinks(urls.listUrl as string, query, paging, hasMore),
      });
    } catch (e) {
      return modePageError(mode)(request, services, name, "selectClientTitle", e, { clients: [] });
    }
  };
}

/** The error page for a client the request may not manage (or a failed lookup), linking to the list. */
function noClientPage(mode: ClientMode, titleKey: string) {
  return (request: EndpointRequest, services: EndpointServices, e: unknown): EndpointResult => {
    const links = [{ href: clientUrls(services, mode).listUrl, text: services.pages.messages.clientsLink }];
    return modePageError(mode)(request, services, "error", titleKey, e, { links });
  };
}

/** What a client page is about: nothing for `createclient`, else the `:client_id` client it may manage. */
function pageClient(mode: ClientMode, name: string) {
  return async (
    request: EndpointRequest,
    services: EndpointServices,
  ): Promise<OAuthClientInfo | undefined> =>
    name === "createclient" ? undefined : managedClient(request, services, mode);
}

/** `GET createclient`, `updateclient/:client_id`, `deleteclient/:client_id`: the form. */
function clientFormPage(mode: ClientMode, name: string, titleKey: string) {
  return pageAbout(
    pageClient(mode, name),
    noClientPage(mode, titleKey),
    async (request, services, client) => {
      const data = { ...clientForm(request, services, mode, client), next: safeNext(request) };
      return modePage(mode)(request, services, template(mode, name), titleKey, data);
    },
  );
}

/**
 * A client page's POST: the error page when the request may not manage the client, else `act`'s
 * answer, or the form again with the error.
 */
function clientPost(
  mode: ClientMode,
  name: string,
  titleKey: string,
  act: (request: EndpointRequest, services: EndpointServices) => Promise<EndpointResult>,
) {
  return pageAbout(
    pageClient(mode, name),
    noClientPage(mode, titleKey),
    act,
    (request, services, client, e) => {
      const data = { ...clientForm(request, services, mode, client), next: safeNext(request) };
      return modePageError(mode)(request, services, template(mode, name), titleKey, e, data);
    },
  );
}

/**
 * A create or update page's POST: `save` makes the change; the answer is the page again with the
 * client, the notice and, when one was made, the new secret (shown this once) — or, without a secret
 * to show, a redirect to a safe `next`.
 */
function savingClientPage(
  mode: ClientMode,
  name: string,
  titleKey: string,
  noticeKey: "clientCreated" | "clientSaved",
  save: (
    request: EndpointRequest,
    services: EndpointServices,
  ) => Promise<{ client: OAuthClientInfo; secret?: string }>,
) {
  return clientPost(mode, name, titleKey, async (request, services) => {
    const { client, secret } = await save(request, services);
    const next = safeNext(request);
    if (secret === undefined && next !== undefined) return redirectTo(next, next);
    const m = services.pages.messages;
    const form = clientForm({ ...request, method: "GET", body: {} }, services, mode, client);
    return modePage(mode)(request, services, template(mode, name), titleKey, {
      ...form,
      done: true,
      clientSecret: secret,
      notice: secret === undefined ? m[noticeKey] : `${m[noticeKey]} ${m.clientSecretOnce}`,
      next,
    });
  });
}

/** `POST createclient`: registers; shows the new client (and its secret, once). */
function createClientPage(mode: ClientMode) {
  return savingClientPage(
    mode,
    "createclient",
    "createClientTitle",
    "clientCreated",
    async (request, services) => {
      const { client, clientSecret } = await createClientFor(request, services, mode, "page");
      return { client, secret: clientSecret };
    },
  );
}

/** `POST updateclient/:client_id`: saves; shows the client (and a new secret, once) or goes to `next`. */
function updateClientPage(mode: ClientMode) {
  return savingClientPage(
    mode,
    "updateclient",
    "updateClientTitle",
    "clientSaved",
    async (request, services) => {
      const { client, newSecret } = await updateClientFor(request, services, mode, "page");
      return { client, secret: newSecret };
    },
  );
}

/** `POST deleteclient/:client_id`: deletes; redirects to a safe `next` or the client list. */
function deleteClientPage(mode: ClientMode) {
  return clientPost(mode, "deleteclient", "deleteClientTitle", async (request, services) => {
    await deleteClientFor(request, services, mode);
    return redirectTo(safeNext(request), clientUrls(services, mode).listUrl as string);
  });
}

/** The endpoints of a mode: names and features per mode, the same handlers. */
function clientEndpointsFor(mode: ClientMode): readonly EndpointDefinition[] {
  const prefix = mode === "admin" ? "admin/" : "";
  const access = mode === "admin" ? "admin" : "user";
  const feature = mode === "admin" ? "adminClientManagement" : "clientManagement";
  const define = (
    name: string,
    method: "GET" | "POST",
    kind: EndpointDefinition["kind"],
    handler: EndpointDefinition["handler"],
    param = true,
  ) => {
    const definition = sessionEndpoint(`${prefix}${name}`, method, kind, access, feature, handler);
    return param ? { ...definition, path: `${prefix}${name}/:client_id` } : definition;
  };
  return Object.freeze([
    define("selectclient", "GET", "page", selectClientPage(mode), false),
    define("createclient", "GET", "page", clientFormPage(mode, "createclient", "createClientTitle"), false),
    define("createclient", "POST", "page", createClientPage(mode), false),
    define(
      "api/createclient",
      "POST",
      "api",
      apiAnswer(async (request, services) => {
        const { client, clientSecret } = await createClientFor(request, services, mode, "api");
        return { client: clientJson(client, clientSecret) };
      }),
      false,
    ),
    define("updateclient", "GET", "page", clientFormPage(mode, "updateclient", "updateClientTitle")),
    define("updateclient", "POST", "page", updateClientPage(mode)),
    define(
      "api/updateclient",
      "POST",
      "api",
      apiAnswer(async (request, services) => {
        const { client, newSecret } = await updateClientFor(request, services, mode, "api");
        return { client: clientJson(client, newSecret), newSecret: newSecret !== undefined };
      }),
    ),
    define("deleteclient", "GET", "page", clientFormPage(mode, "deleteclient", "deleteClientTitle")),
    define("deleteclient", "POST", "page", deleteClientPage(mode)),
    define(
      "api/deleteclient",
      "POST",
      "api",
      apiAnswer(async (request, services) => ({ client_id: await deleteClientFor(request, services, mode) })),
    ),
  ]);
}

/**
 * A user's client endpoints (feature `clientManagement`): `selectclient`, `createclient`,
 * `updateclient/:client_id`, `deleteclient/:client_id` and `api/createclient`,
 * `api/updateclient/:client_id`, `api/deleteclient/:client_id`. Another user's client is answered
 * as an unknown one: 401 `InvalidClientId`.
 */
export const clientEndpoints: readonly EndpointDefinition[] = clientEndpointsFor("user");

/**
 * The admin's client endpoints (feature `adminClientManagement`): the same under `admin/`, for any
 * client, with `userid` choosing the owner (empty for none).
 */
export const adminClientEndpoints: readonly EndpointDefinition[] = clientEndpointsFor("admin");
