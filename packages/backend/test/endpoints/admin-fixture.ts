/**
 * Test helper for the admin and client endpoints: logged-in users with their sessions, and requests
 * sent through a real {@link EndpointTable} (pipeline included: session cookie, CSRF, access) for
 * the checks only the pipeline makes.
 */
import type { User } from "@crossauth/common";
import { beforeEach, expect } from "vitest";
import { adminUserEndpoints } from "../../src/endpoints/handlers/admin-user-endpoints.js";
import { adminClientEndpoints, clientEndpoints } from "../../src/endpoints/handlers/client-endpoints.js";
import {
  type EndpointDefinition,
  type EndpointOptionsInput,
  type EndpointResult,
  EndpointTable,
  InMemoryOAuthClientStorage,
  type OAuthClientInfo,
  OAuthClientManager,
  type OAuthClientManagerOptions,
} from "../../src/index.js";
import { type EndpointHarness, type EndpointSuite, useEndpointHarness } from "./endpoint-harness.js";
import { raw } from "./table-fixture.js";

/** A logged-in user: the user, the raw session id and the session's cookies by name. */
export interface LoggedIn {
  user: User;
  sessionId: string;
  cookies: Record<string, string>;
}

/**
 * Creates a user (see `EndpointHarness.createUser`) and logs them in.
 * @param fields - the user's fields, e.g. `{username: "root", admin: true}`
 */
export async function loggedIn(
  h: EndpointHarness,
  fields: Record<string, unknown> & { username: string },
): Promise<LoggedIn> {
  const { user } = await h.createUser(fields);
  const session = await h.userSession(user);
  return {
    user,
    sessionId: session.sessionId,
    cookies: Object.fromEntries(session.cookies.map((c) => [c.name, c.value])),
  };
}

/** Options of a request sent through the table. */
export interface TableRequest {
  /** Whose session cookies to send (none: anonymous). */
  as?: LoggedIn;
  body?: Record<string, unknown>;
  /**
   * Send a valid `X-CROSSAUTH-CSRF` header for the session's CSRF cookie (anonymous requests get a
   * CSRF cookie of their own); default true.
   */
  csrf?: boolean;
  /** `content-type`; default JSON. */
  contentType?: string;
}

/** Sends requests through a table of the given definitions. */
export interface TableClient {
  table: EndpointTable;
  send(method: "GET" | "POST", path: string, options?: TableRequest): Promise<EndpointResult>;
}

/**
 * A table of `definitions` over the harness's session manager, and a way to send it requests.
 * @param clientManager - the OAuth client manager, for the client endpoints
 */
export function tableClient(
  h: EndpointHarness,
  definitions: readonly EndpointDefinition[],
  options: EndpointOptionsInput = {},
  clientManager?: OAuthClientManager,
): TableClient {
  const table = new EndpointTable(h.sessionManager, options, { definitions, clientManager });
  return {
    table,
    async send(method, path, request = {}) {
      const cookies = { ...request.as?.cookies };
      const headers: Record<string, string> = {};
      if (method === "POST") headers["content-type"] = request.contentType ?? "application/json";
      if (request.csrf !== false) {
        cookies.CSRFTOKEN ??= h.sessionManager.createCsrfToken().csrfCookie.value;
        headers["x-crossauth-csrf"] = h.sessionManager.createCsrfFormOrHeaderValue(cookies.CSRFTOKEN);
      }
      const result = await table.dispatch(raw(method, path, { body: request.body, headers, cookies }));
      if (!result) throw new Error(`No endpoint for ${method} ${path}`);
      return result;
    },
  };
}

/** Asserts that every POST definition requires a CSRF token and no GET does. */
export function expectCsrfOnPosts(definitions: readonly EndpointDefinition[]): void {
  for (const definition of definitions) {
    expect({ name: definition.name, csrf: definition.csrf }).toEqual({
      name: definition.name,
      csrf: definition.method === "POST",
    });
  }
}

/** The URI clients made by {@link ClientSuite.clientOf} redirect to. */
export const CLIENT_URI = "https://app.example.com/cb";

/** An endpoint suite with an admin, `root`, logged in afresh before each test. */
export interface AdminSuite extends EndpointSuite {
  root: LoggedIn;
}

/**
 * Registers an endpoint suite of the admin user endpoints (user-editable fields `email` and `phone`;
 * admins may also set `admin`) and logs in `root`, an admin, before each test.
 */
export function useAdminSuite(): AdminSuite {
  const suite = useEndpointHarness({
    endpoints: adminUserEndpoints,
    userEditableFields: ["email", "phone"],
  }) as AdminSuite;
  beforeEach(async () => {
    suite.h.userStorage.adminEditableFields.push("admin");
    suite.root = await loggedIn(suite.h, { username: "root", admin: true });
  });
  return suite;
}

/** An endpoint suite of the client endpoints, set afresh before each test. */
export interface ClientSuite extends AdminSuite {
  clientStorage: InMemoryOAuthClientStorage;
  /** The client manager, also in the harness's services. */
  manager: OAuthClientManager;
  alice: LoggedIn;
  bob: LoggedIn;
  /**
   * A client with redirect URI {@link CLIENT_URI} and flow `authorizationCode`, made directly (its
   * secret is registered as never to be logged).
   * @param owner - the owner, or null for none
   */
  clientOf(owner: LoggedIn | null, name?: string, confidential?: boolean): Promise<OAuthClientInfo>;
}

/**
 * Registers an endpoint suite of the user and admin client endpoints (OAuth client management on)
 * with, before each test, an in-memory client storage and manager, users `alice` and `bob` and an
 * admin `root`, logged in.
 * @param managerOptions - options of the client manager
 */
export function useClientSuite(managerOptions: OAuthClientManagerOptions = {}): ClientSuite {
  const suite = useEndpointHarness({
    endpoints: [...clientEndpoints, ...adminClientEndpoints],
    endpointOptions: { enableOAuthClientManagement: true },
  }) as ClientSuite;
  beforeEach(async () => {
    suite.clientStorage = new InMemoryOAuthClientStorage();
    suite.manager = new OAuthClientManager(suite.clientStorage, managerOptions);
    suite.h.services.clientManager = suite.manager;
    suite.alice = await loggedIn(suite.h, { username: "alice" });
    suite.bob = await loggedIn(suite.h, { username: "bob" });
    suite.root = await loggedIn(suite.h, { username: "root", admin: true });
  });
  suite.clientOf = async (owner, name = "App", confidential = true) => {
    const { client, clientSecret } = await suite.manager.createClient(
      name,
      [CLIENT_URI],
      ["authorizationCode"],
      confidential,
      owner?.user.id,
    );
    suite.neverLogged(clientSecret);
    return client;
  };
  return suite;
}
