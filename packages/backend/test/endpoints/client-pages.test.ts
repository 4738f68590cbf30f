/**
 * The OAuth client pages — `selectclient`, `createclient`, `updateclient/:client_id`,
 * `deleteclient/:client_id` and their `admin/` versions — called without HTTP and rendered: forms
 * usable without JavaScript, the new secret shown once, only one's own clients, paging, redirects
 * to safe `next` values, and error pages.
 */
import { ErrorCode, type OAuthClient } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import type { EndpointResult } from "../../src/index.js";
import { type LoggedIn, CLIENT_URI as URI, useClientSuite } from "./admin-fixture.js";
import { expectCsrfForm, expectField } from "./endpoint-harness.js";

const s = useClientSuite({ validFlows: ["authorizationCode", "refreshToken"] });
const NOTICE = '<p class="notice" role="status" aria-live="polite">';

/** A page request by a logged-in user. */
function pageBy(
  as: LoggedIn,
  method: "GET" | "POST",
  path: string,
  body: Record<string, unknown> = {},
  query = {},
) {
  return s.h.pageRequest(method, path, body, { user: as.user, sessionId: as.sessionId, query });
}

/** The names of the clients a list page shows. */
function clientNames(result: EndpointResult): string[] {
  return ((result.page?.data.clients ?? []) as OAuthClient[]).map((c) => c.client_name);
}

describe("selectclient", () => {
  it("lists only the user's clients, with links, and says when there are none", async () => {
    const mine = await s.clientOf(s.alice, "Mine");
    await s.clientOf(s.bob, "Bob's");
    const result = await s.h.call(pageBy(s.alice, "GET", "selectclient"));
    expect(result.status).toBe(200);
    expect(clientNames(result)).toEqual(["Mine"]);
    const html = await s.h.render(result);
    expect(html).toContain("<title>OAuth clients · Crossauth</title>");
    expect(html).toContain(`<td class="secret">${mine.client_id}</td>`);
    expect(html).toContain(`<a href="/updateclient/${mine.client_id}" aria-label="Edit Mine">Edit</a>`);
    expect(html).toContain(`<a href="/deleteclient/${mine.client_id}" aria-label="Delete Mine">Delete</a>`);
    expect(html).toContain('<a href="/createclient">Register a client</a>');
    expect(html).not.toContain("Bob&#39;s");
    expect(html).not.toContain("/admin/");
    const none = await s.h.call(pageBy(s.bob, "GET", "selectclient", {}, { skip: "1" }));
    expect(await s.h.render(none)).toContain(`${NOTICE}No clients yet.</p>`);
  });

  it("pages through the clients", async () => {
    for (const name of ["A", "B", "C"]) await s.clientOf(s.alice, name);
    const first = await s.h.call(pageBy(s.alice, "GET", "selectclient", {}, { take: "2" }));
    expect(clientNames(first)).toEqual(["A", "B"]);
    expect(await s.h.render(first)).toContain(
      '<a href="/selectclient?skip=2&amp;take=2" rel="next">Next page</a>',
    );
    const second = await s.h.call(pageBy(s.alice, "GET", "selectclient", {}, { skip: "2", take: "2" }));
    expect(second.page?.data).toMatchObject({ previousUrl: "/selectclient?take=2" });
    expect(clientNames(second)).toEqual(["C"]);
    const bad = await s.h.call(pageBy(s.alice, "GET", "selectclient", {}, { take: "x" }));
    expect(bad.status).toBe(400);
    expect(bad.page?.data.errorCode).toBe(ErrorCode.FormEntry);
  });

  it("shows admins every client with its owner, or one user's", async () => {
    await s.clientOf(s.alice, "A");
    await s.clientOf(null, "B");
    const all = await s.h.call(pageBy(s.root, "GET", "/admin/selectclient"));
    expect(all.page?.template).toBe("admin/selectclient");
    const html = await s.h.render(all);
    expect(html).toContain(`<td>${s.alice.user.id}</td>`);
    expect(html).toContain("<td>None</td>");
    expect(html).toContain('<a href="/admin/createclient">Register a client</a>');
    expect(html).toContain('<a href="/admin/selectclient">OAuth clients</a>');
    const hers = await s.h.call(
      pageBy(s.root, "GET", "/admin/selectclient", {}, { userid: String(s.alice.user.id) }),
    );
    expect(clientNames(hers)).toEqual(["A"]);
  });
});

describe("createclient", () => {
  it("shows the form: name, redirect URIs, confidential (ticked), one box per allowed flow, CSRF", async () => {
    const request = pageBy(s.alice, "GET", "createclient");
    const html = await s.h.render(await s.h.call(request));
    expect(html).toContain("<title>Register an OAuth client · Crossauth</title>");
    expectCsrfForm(html, "/createclient", request);
    expectField(html, { name: "client_name", label: "Name", autocomplete: "off" });
    expect(html).toContain('<label for="redirect_uris">Redirect URIs</label>');
    expect(html).toContain(
      '<input id="confidential" name="confidential" type="checkbox" value="true" checked>',
    );
    expect(html).toContain(
      '<input id="authorizationCode" name="authorizationCode" type="checkbox" value="true">',
    );
    expect(html).toContain('<label for="refreshToken">Refresh token</label>');
    expect(html).not.toContain("clientCredentials");
    expect(html).not.toContain('name="userid"');
  });

  it("registers the client and shows its secret once, with the client's details", async () => {
    const body = {
      client_name: "<App>",
      confidential: "true",
      redirect_uris: URI,
      authorizationCode: "true",
    };
    const result = await s.h.call(pageBy(s.alice, "POST", "createclient", body));
    expect(result.status).toBe(200);
    const [stored] = await s.clientStorage.getClients();
    const secret = result.page?.data.clientSecret as string;
    s.neverLogged(secret);
    expect(await s.manager.validateClientSecret(stored as OAuthClient, secret)).toBe(true);
    const html = await s.h.render(result);
    expect(html).toContain(`<dd class="secret" id="client-secret">${secret}</dd>`);
    expect(html).toContain(`<dd class="secret">${stored?.client_id}</dd>`);
    expect(html).toContain("<dd>&lt;App&gt;</dd>");
    expect(html).toContain(
      `${NOTICE}The client was registered. Copy the client secret now: it is not shown again.</p>`,
    );
    expect(html).not.toContain(stored?.client_secret as string);
    const list = await s.h.render(await s.h.call(pageBy(s.alice, "GET", "selectclient")));
    expect(list).not.toContain(secret);
  });

  it("redirects to a safe next when there is no secret to show, and shows a continue link when there is", async () => {
    const pub = await s.h.call(pageBy(s.alice, "POST", "createclient", { client_name: "P", next: "/apps" }));
    expect(pub).toEqual({ status: 303, redirect: "/apps" });
    const conf = await s.h.call(
      pageBy(s.alice, "POST", "createclient", { client_name: "C", confidential: "on", next: "/apps" }),
    );
    s.neverLogged(conf.page?.data.clientSecret as string);
    expect(conf.status).toBe(200);
    expect(await s.h.render(conf)).toContain('<a href="/apps">Continue</a>');
    const unsafe = await s.h.call(
      pageBy(s.alice, "POST", "createclient", { client_name: "U", next: "//evil.com" }),
    );
    expect(unsafe.status).toBe(200);
  });

  it("re-shows the form with the error, its status and the values", async () => {
    const body = { client_name: "A", redirect_uris: "not-a-uri", refreshToken: "true" };
    const result = await s.h.call(pageBy(s.alice, "POST", "createclient", body));
    expect(result.status).toBe(401);
    const html = await s.h.render(result);
    expect(html).toContain("<li>Invalid redirect URI not-a-uri</li>");
    expect(html).toContain('value="not-a-uri"');
    expect(html).toContain(
      '<input id="refreshToken" name="refreshToken" type="checkbox" value="true" checked>',
    );
    expect(html).toContain('<input id="confidential" name="confidential" type="checkbox" value="true">');
    expect(await s.clientStorage.getClients()).toEqual([]);
  });

  it("lets admins choose the owner", async () => {
    const form = await s.h.render(await s.h.call(pageBy(s.root, "GET", "/admin/createclient")));
    expect(form).toContain(
      '<input id="userid" name="userid" type="text" value="" autocomplete="off" aria-describedby="userid-help">',
    );
    expect(form).toContain('<form method="post" action="/admin/createclient">');
    const body = { client_name: "A", userid: String(s.bob.user.id) };
    const result = await s.h.call(pageBy(s.root, "POST", "/admin/createclient", body));
    expect(result.page?.template).toBe("admin/createclient");
    expect((await s.clientStorage.getClients())[0]?.userid).toBe(s.bob.user.id);
    const bad = await s.h.call(
      pageBy(s.root, "POST", "/admin/createclient", { client_name: "B", userid: "999" }),
    );
    expect(bad.status).toBe(400);
    expect(await s.h.render(bad)).toContain("<li>userid names no user</li>");
  });
});

describe("updateclient/:client_id", () => {
  it("shows the client's values; unticked boxes save as false", async () => {
    const client = await s.clientOf(s.alice);
    const request = pageBy(s.alice, "GET", `updateclient/${client.client_id}`);
    const html = await s.h.render(await s.h.call(request));
    expectCsrfForm(html, `/updateclient/${client.client_id}`, request);
    expect(html).toContain(`value="${URI}"`);
    expect(html).toContain(
      '<input id="authorizationCode" name="authorizationCode" type="checkbox" value="true" checked>',
    );
    expect(html).toContain('<input id="resetSecret" name="resetSecret" type="checkbox" value="true">');
    const saved = await s.h.call(
      pageBy(s.alice, "POST", `updateclient/${client.client_id}`, {
        client_name: "New",
        redirect_uris: URI,
        confidential: "true",
      }),
    );
    expect(saved.status).toBe(200);
    expect(await s.manager.getClient(client.client_id)).toEqual({
      ...client,
      client_name: "New",
      valid_flow: [],
    });
    expect(await s.h.render(saved)).toContain(`${NOTICE}The client was saved.</p>`);
    expect(saved.page?.data.clientSecret).toBeUndefined();
  });

  it("shows a new secret once after a reset, and redirects to a safe next otherwise", async () => {
    const client = await s.clientOf(s.alice);
    const body = {
      client_name: "App",
      redirect_uris: URI,
      confidential: "true",
      resetSecret: "true",
      next: "/apps",
    };
    const reset = await s.h.call(pageBy(s.alice, "POST", `updateclient/${client.client_id}`, body));
    const secret = reset.page?.data.clientSecret as string;
    s.neverLogged(secret);
    expect(
      await s.manager.validateClientSecret(await s.clientStorage.getClientById(client.client_id), secret),
    ).toBe(true);
    expect(await s.h.render(reset)).toContain(`<dd class="secret" id="client-secret">${secret}</dd>`);
    const { resetSecret: _r, ...noReset } = body;
    expect(await s.h.call(pageBy(s.alice, "POST", `updateclient/${client.client_id}`, noReset))).toEqual({
      status: 303,
      redirect: "/apps",
    });
  });

  it("shows another user's client as an error page (401) and changes nothing", async () => {
    const client = await s.clientOf(s.bob);
    for (const method of ["GET", "POST"] as const) {
      const result = await s.h.call(
        pageBy(s.alice, method, `updateclient/${client.client_id}`, { client_name: "Mine" }),
      );
      expect(result.status).toBe(401);
      expect(result.page?.template).toBe("error");
      const html = await s.h.render(result);
      expect(html).toContain("<li>Client id is invalid</li>");
      expect(html).toContain('<a href="/selectclient">OAuth clients</a>');
    }
    expect(await s.manager.getClient(client.client_id)).toEqual(client);
  });

  it("re-shows the form with the error", async () => {
    const client = await s.clientOf(s.alice);
    const result = await s.h.call(
      pageBy(s.alice, "POST", `updateclient/${client.client_id}`, { client_name: "" }),
    );
    expect(result.status).toBe(400);
    expect(await s.h.render(result)).toContain("<li>client_name is required</li>");
    expect(await s.manager.getClient(client.client_id)).toEqual(client);
  });

  it("lets admins edit any client and move it to another owner", async () => {
    const client = await s.clientOf(s.alice);
    const form = await s.h.render(
      await s.h.call(pageBy(s.root, "GET", `/admin/updateclient/${client.client_id}`)),
    );
    expect(form).toContain(`<input id="userid" name="userid" type="text" value="${s.alice.user.id}"`);
    const body = {
      client_name: "App",
      redirect_uris: URI,
      confidential: "true",
      authorizationCode: "true",
      userid: String(s.bob.user.id),
    };
    const result = await s.h.call(pageBy(s.root, "POST", `/admin/updateclient/${client.client_id}`, body));
    expect(result.page?.template).toBe("admin/updateclient");
    expect(await s.manager.getClient(client.client_id)).toEqual({ ...client, userid: s.bob.user.id });
  });
});

describe("deleteclient/:client_id", () => {
  it("asks for confirmation, then deletes and goes to the list or a safe next", async () => {
    const client = await s.clientOf(s.alice);
    const request = pageBy(s.alice, "GET", `deleteclient/${client.client_id}`);
    const html = await s.h.render(await s.h.call(request));
    expectCsrfForm(html, `/deleteclient/${client.client_id}`, request);
    expect(html).toContain("<dd>App</dd>");
    expect(html).not.toContain('id="client-secret"');
    expect(
      await s.h.call(
        pageBy(s.alice, "POST", `deleteclient/${client.client_id}`, { next: "https://evil.com" }),
      ),
    ).toEqual({
      status: 303,
      redirect: "/selectclient",
    });
    expect(await s.clientStorage.getClients()).toEqual([]);
    const other = await s.clientOf(s.alice, "Other");
    expect(
      await s.h.call(pageBy(s.alice, "POST", `deleteclient/${other.client_id}`, { next: "/apps" })),
    ).toEqual({
      status: 303,
      redirect: "/apps",
    });
  });

  it("refuses another user's client, and lets an admin delete it", async () => {
    const client = await s.clientOf(s.bob);
    const refused = await s.h.call(pageBy(s.alice, "POST", `deleteclient/${client.client_id}`));
    expect(refused.status).toBe(401);
    expect(await s.manager.getClient(client.client_id)).toEqual(client);
    expect(await s.h.call(pageBy(s.root, "POST", `/admin/deleteclient/${client.client_id}`))).toEqual({
      status: 303,
      redirect: "/admin/selectclient",
    });
    expect(await s.clientStorage.getClients()).toEqual([]);
  });
});
