/**
 * The OAuth client JSON endpoints — `api/createclient`, `api/updateclient/:client_id`,
 * `api/deleteclient/:client_id` for a client's owner and their `admin/api/` versions for admins —
 * called without HTTP: answers (the secret shown once, never the stored hash), own and foreign
 * clients, every documented error, malformed input, storage state; and, through the endpoint
 * table's pipeline, access rules, CSRF and the client manager passed through the table.
 */
import { ErrorCode, type OAuthClient } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { adminClientEndpoints, clientEndpoints } from "../../src/endpoints/handlers/client-endpoints.js";
import { type EndpointResult, MAX_FIELD_LENGTH } from "../../src/index.js";
import {
  expectCsrfOnPosts,
  type LoggedIn,
  tableClient,
  CLIENT_URI as URI,
  useClientSuite,
} from "./admin-fixture.js";
import { errorShape } from "./endpoint-harness.js";

const definitions = [...clientEndpoints, ...adminClientEndpoints];
const s = useClientSuite();

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const notFound = errorShape(ErrorCode.InvalidClientId, "InvalidClientId", "Client id is invalid");

/** A JSON POST by a logged-in user. */
function post(as: LoggedIn, path: string, body: Record<string, unknown> = {}) {
  return s.h.apiRequest("POST", path, body, { user: as.user, sessionId: as.sessionId });
}

/** The `client` of a JSON answer. */
function clientIn(result: EndpointResult): Record<string, unknown> {
  return (result.json?.client ?? {}) as Record<string, unknown>;
}

/** A client as stored (with its hash). */
function storedClient(clientId: string): Promise<OAuthClient> {
  return s.clientStorage.getClientById(clientId);
}

describe("api/createclient", () => {
  it("registers a confidential client for the user: {ok, client} with the secret shown once in plaintext", async () => {
    const body = {
      client_name: "Alice's app",
      confidential: "true",
      redirect_uris: `${URI}, http://localhost:3000/cb  https://x.example.com/cb`,
      authorizationCode: true,
      refreshToken: "on",
      clientCredentials: false,
      unknownFlow: true,
      userid: s.bob.user.id,
    };
    const result = await s.h.call(post(s.alice, "api/createclient", body));
    const [stored] = await s.clientStorage.getClients();
    const secret = result.json?.client && (result.json.client as Record<string, unknown>).client_secret;
    s.neverLogged(secret as string);
    expect(result).toEqual({
      status: 200,
      json: {
        ok: true,
        client: {
          client_id: stored?.client_id,
          client_name: "Alice's app",
          confidential: true,
          redirect_uri: [URI, "http://localhost:3000/cb", "https://x.example.com/cb"],
          valid_flow: ["authorizationCode", "refreshToken"],
          userid: s.alice.user.id,
          client_secret: expect.stringMatching(SECRET),
        },
      },
    });
    expect(stored?.client_secret).toMatch(/^pbkdf2:sha256:32:40000:0:/);
    expect(JSON.stringify(result.json)).not.toContain(stored?.client_secret as string);
    expect(await s.manager.validateClientSecret(stored as OAuthClient, secret)).toBe(true);
  });

  it("registers a public client without a secret; absent fields are empty", async () => {
    const result = await s.h.call(post(s.alice, "api/createclient", { client_name: "SPA" }));
    const [stored] = await s.clientStorage.getClients();
    expect(result.json).toEqual({
      ok: true,
      client: {
        client_id: stored?.client_id,
        client_name: "SPA",
        confidential: false,
        redirect_uri: [],
        valid_flow: [],
        userid: s.alice.user.id,
      },
    });
    expect(stored?.client_secret).toBeNull();
  });

  it.each([
    ["a missing name", {}, 400, errorShape(ErrorCode.FormEntry, "FormEntry", "client_name is required")],
    [
      "a name that is not text",
      { client_name: { a: 1 } },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "client_name must be text"),
    ],
    [
      "an oversized name",
      { client_name: "x".repeat(MAX_FIELD_LENGTH + 1) },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "client_name is too long"),
    ],
    [
      "redirect URIs that are not text",
      { client_name: "A", redirect_uris: [URI] },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "redirect_uris must be text"),
    ],
    [
      "oversized redirect URIs",
      { client_name: "A", redirect_uris: `${URI} `.repeat(60) },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "redirect_uris is too long"),
    ],
    [
      "a relative redirect URI",
      { client_name: "A", redirect_uris: "/cb" },
      401,
      errorShape(ErrorCode.InvalidRedirectUri, "InvalidRedirectUri", "Invalid redirect URI /cb"),
    ],
    [
      "a redirect URI with a fragment",
      { client_name: "A", redirect_uris: `${URI}#x` },
      401,
      errorShape(ErrorCode.InvalidRedirectUri, "InvalidRedirectUri", `Invalid redirect URI ${URI}#x`),
    ],
  ])("refuses %s and stores nothing", async (_what, body, status, json) => {
    expect(await s.h.call(post(s.alice, "api/createclient", body))).toEqual({ status, json });
    expect(await s.clientStorage.getClients()).toEqual([]);
  });

  it("refuses a second client of the same name for the same owner with 400 FormEntry", async () => {
    await s.clientOf(s.alice, "App");
    const result = await s.h.call(post(s.alice, "api/createclient", { client_name: "App" }));
    expect(result).toEqual({
      status: 400,
      json: errorShape(ErrorCode.FormEntry, "FormEntry", "The owner already has a client with this name"),
    });
    expect(await s.clientStorage.getClients()).toHaveLength(1);
    expect((await s.h.call(post(s.bob, "api/createclient", { client_name: "App" }))).status).toBe(200);
  });

  it("answers 500 Configuration when the application gave no client manager", async () => {
    s.h.services.clientManager = undefined;
    expect(await s.h.call(post(s.alice, "api/createclient", { client_name: "A" }))).toEqual({
      status: 500,
      json: errorShape(
        ErrorCode.Configuration,
        "Configuration",
        "OAuth client management needs a client manager",
      ),
    });
  });
});

describe("api/updateclient/:client_id", () => {
  it("changes the given fields of the user's client and keeps the others and the secret: newSecret false", async () => {
    const client = await s.clientOf(s.alice);
    const hash = (await storedClient(client.client_id)).client_secret;
    const result = await s.h.call(
      post(s.alice, `api/updateclient/${client.client_id}`, { client_name: "Renamed" }),
    );
    expect(result).toEqual({
      status: 200,
      json: { ok: true, client: { ...client, client_name: "Renamed" }, newSecret: false },
    });
    expect((await storedClient(client.client_id)).client_secret).toBe(hash);
    const flows = await s.h.call(
      post(s.alice, `api/updateclient/${client.client_id}`, { deviceCode: "true" }),
    );
    expect(clientIn(flows).valid_flow).toEqual(["deviceCode"]);
  });

  it("resets the secret on request: the new one is shown once and works, the old one does not", async () => {
    const { client, clientSecret } = await s.manager.createClient("App", [URI], [], true, s.alice.user.id);
    s.neverLogged(clientSecret);
    const result = await s.h.call(
      post(s.alice, `api/updateclient/${client.client_id}`, { resetSecret: "true" }),
    );
    const newSecret = clientIn(result).client_secret as string;
    s.neverLogged(newSecret);
    expect(result.json).toEqual({
      ok: true,
      client: { ...client, client_secret: expect.stringMatching(SECRET) },
      newSecret: true,
    });
    const stored = await storedClient(client.client_id);
    expect(await s.manager.validateClientSecret(stored, newSecret)).toBe(true);
    expect(await s.manager.validateClientSecret(stored, clientSecret)).toBe(false);
  });

  it("gives a client made confidential a secret, and removes it when made public", async () => {
    const client = await s.clientOf(s.alice, "App", false);
    const made = await s.h.call(
      post(s.alice, `api/updateclient/${client.client_id}`, { confidential: true }),
    );
    s.neverLogged(clientIn(made).client_secret as string);
    expect(made.json).toMatchObject({
      newSecret: true,
      client: { confidential: true, client_secret: expect.stringMatching(SECRET) },
    });
    const gone = await s.h.call(
      post(s.alice, `api/updateclient/${client.client_id}`, { confidential: false, resetSecret: true }),
    );
    expect(gone.json).toEqual({ ok: true, client: { ...client, confidential: false }, newSecret: false });
    expect((await storedClient(client.client_id)).client_secret).toBeNull();
  });

  it("ignores a userid from a user: the owner stays", async () => {
    const client = await s.clientOf(s.alice);
    await s.h.call(post(s.alice, `api/updateclient/${client.client_id}`, { userid: s.bob.user.id }));
    expect((await storedClient(client.client_id)).userid).toBe(s.alice.user.id);
  });

  it("answers another user's, an unowned and an unknown client alike: 401 InvalidClientId, nothing changed", async () => {
    const bobs = await s.clientOf(s.bob);
    const unowned = await s.clientOf(null);
    for (const id of [bobs.client_id, unowned.client_id, "nope"]) {
      const result = await s.h.call(
        post(s.alice, `api/updateclient/${id}`, { client_name: "Mine", resetSecret: true }),
      );
      expect(result).toEqual({ status: 401, json: notFound });
    }
    expect(await s.manager.getClient(bobs.client_id)).toEqual(bobs);
    expect(await s.manager.getClient(unowned.client_id)).toEqual(unowned);
  });

  it.each([
    [
      "an empty name",
      { client_name: "" },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "client_name is required"),
    ],
    [
      "a bad redirect URI",
      { redirect_uris: "nope" },
      401,
      errorShape(ErrorCode.InvalidRedirectUri, "InvalidRedirectUri", "Invalid redirect URI nope"),
    ],
    [
      "a name taken by another client of the owner",
      { client_name: "Other" },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "The owner already has a client with this name"),
    ],
  ])("refuses %s and changes nothing", async (_what, body, status, json) => {
    const client = await s.clientOf(s.alice);
    await s.clientOf(s.alice, "Other");
    const before = await storedClient(client.client_id);
    expect(await s.h.call(post(s.alice, `api/updateclient/${client.client_id}`, body))).toEqual({
      status,
      json,
    });
    expect(await storedClient(client.client_id)).toEqual(before);
  });
});

describe("api/deleteclient/:client_id", () => {
  it("deletes the user's client: {ok, client_id}", async () => {
    const client = await s.clientOf(s.alice);
    const result = await s.h.call(post(s.alice, `api/deleteclient/${client.client_id}`));
    expect(result).toEqual({ status: 200, json: { ok: true, client_id: client.client_id } });
    expect(await s.clientStorage.getClients()).toEqual([]);
  });

  it("refuses another user's client with 401 InvalidClientId and keeps it", async () => {
    const client = await s.clientOf(s.bob);
    expect(await s.h.call(post(s.alice, `api/deleteclient/${client.client_id}`))).toEqual({
      status: 401,
      json: notFound,
    });
    expect(await s.manager.getClient(client.client_id)).toEqual(client);
  });
});

describe("admin/api client endpoints", () => {
  it("register a client for any owner, or none", async () => {
    const owned = await s.h.call(
      post(s.root, "/admin/api/createclient", { client_name: "A", userid: String(s.bob.user.id) }),
    );
    expect(clientIn(owned).userid).toBe(s.bob.user.id);
    const unowned = await s.h.call(post(s.root, "/admin/api/createclient", { client_name: "B", userid: "" }));
    expect(clientIn(unowned).userid).toBeNull();
    const absent = await s.h.call(post(s.root, "/admin/api/createclient", { client_name: "C" }));
    expect(clientIn(absent).userid).toBeNull();
  });

  it.each([
    ["an unknown owner", { client_name: "A", userid: "999" }, "userid names no user"],
    ["an owner that is not an id", { client_name: "A", userid: { id: 1 } }, "userid must be a user id"],
  ])("refuse %s with 400 FormEntry", async (_what, body, message) => {
    expect(await s.h.call(post(s.root, "/admin/api/createclient", body))).toEqual({
      status: 400,
      json: errorShape(ErrorCode.FormEntry, "FormEntry", message),
    });
    expect(await s.clientStorage.getClients()).toEqual([]);
  });

  it("change any client and its owner, and delete any client", async () => {
    const client = await s.clientOf(s.alice);
    const moved = await s.h.call(
      post(s.root, `/admin/api/updateclient/${client.client_id}`, { userid: s.bob.user.id }),
    );
    expect(moved.json).toEqual({ ok: true, client: { ...client, userid: s.bob.user.id }, newSecret: false });
    const kept = await s.h.call(
      post(s.root, `/admin/api/updateclient/${client.client_id}`, { client_name: "X" }),
    );
    expect(clientIn(kept).userid).toBe(s.bob.user.id);
    const freed = await s.h.call(
      post(s.root, `/admin/api/updateclient/${client.client_id}`, { userid: null }),
    );
    expect(clientIn(freed).userid).toBeNull();
    const deleted = await s.h.call(post(s.root, `/admin/api/deleteclient/${client.client_id}`));
    expect(deleted.json).toEqual({ ok: true, client_id: client.client_id });
    expect(await s.clientStorage.getClients()).toEqual([]);
  });

  it("answer 401 InvalidClientId for an unknown client", async () => {
    expect(await s.h.call(post(s.root, "/admin/api/deleteclient/nope"))).toEqual({
      status: 401,
      json: notFound,
    });
  });
});

describe("client endpoints through the pipeline", () => {
  const options = { enableOAuthClientManagement: true };

  it("need a CSRF token on every POST; users' need a login, admins' an admin", () => {
    expectCsrfOnPosts(definitions);
    expect(clientEndpoints.every((d) => d.access === "user" && d.feature === "clientManagement")).toBe(true);
    expect(
      adminClientEndpoints.every((d) => d.access === "admin" && d.feature === "adminClientManagement"),
    ).toBe(true);
  });

  it("are served only with OAuth client management on, and get the table's client manager", async () => {
    const off = tableClient(s.h, definitions, {}, s.manager);
    expect(off.table.routes()).toEqual([]);
    const on = tableClient(s.h, definitions, options, s.manager);
    expect(on.table.routes().map((r) => `${r.method} ${r.fullPath}`)).toContain(
      "POST /admin/api/updateclient/:client_id",
    );
    const result = await on.send("POST", "/api/createclient", { as: s.alice, body: { client_name: "A" } });
    expect(result.status).toBe(200);
    expect((await s.clientStorage.getClients()).map((c) => c.userid)).toEqual([s.alice.user.id]);
  });

  it("refuse anonymous callers, non-admins on admin endpoints, and POSTs without CSRF", async () => {
    const table = tableClient(s.h, definitions, options, s.manager);
    const client = await s.clientOf(s.alice);
    const anonymous = await table.send("POST", "/api/createclient", { body: { client_name: "A" } });
    expect(anonymous.json).toEqual(errorShape(ErrorCode.Unauthorized, "Unauthorized", "Not authorized"));
    expect(await table.send("GET", "/selectclient")).toMatchObject({
      status: 302,
      redirect: "/login?next=%2Fselectclient",
    });
    const byAlice = await table.send("POST", `/admin/api/deleteclient/${client.client_id}`, { as: s.alice });
    expect({ status: byAlice.status, json: byAlice.json }).toEqual({
      status: 401,
      json: errorShape(
        ErrorCode.InsufficientPriviledges,
        "InsufficientPriviledges",
        "Insufficient privileges",
      ),
    });
    const noCsrf = await table.send("POST", `/api/deleteclient/${client.client_id}`, {
      as: s.alice,
      csrf: false,
    });
    expect(noCsrf.json).toEqual(errorShape(ErrorCode.InvalidCsrf, "InvalidCsrf", "CSRF token missing"));
    expect(await s.manager.getClient(client.client_id)).toEqual(client);
  });
});
