/**
 * The endpoint table without HTTP: which endpoints exist for each feature switch and explicit list,
 * full paths under custom prefixes, route matching, cookie headers and merging of pipeline output.
 */

import { InMemoryOAuthClientStorage, OAuthClientManager } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterEach, describe, expect, it } from "vitest";
import {
  apiOk,
  defaultEndpointDefinitions,
  type EndpointDefinition,
  type EndpointOptionsInput,
  EndpointTable,
  PageRenderer,
} from "../../src/index.js";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";
import {
  type EndpointHarness,
  type EndpointHarnessOptions,
  makeEndpointHarness,
} from "./endpoint-harness.js";
import { featureDefinitions, featureEndpointName, probe, raw, setCookieValue } from "./table-fixture.js";

const harnesses: EndpointHarness[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

function harness(options: Partial<EndpointHarnessOptions> = {}): EndpointHarness {
  const h = makeEndpointHarness({ endpoints: [], ...options });
  harnesses.push(h);
  return h;
}

/** The names a table serves, sorted, without duplicates. */
function namesOf(table: EndpointTable): string[] {
  return [...new Set(table.routes().map((r) => r.definition.name))].sort();
}

function featureTable(
  managerOptions: Partial<EndpointHarnessOptions>,
  options: EndpointOptionsInput = {},
): EndpointTable {
  return new EndpointTable(harness(managerOptions).sessionManager, options, {
    definitions: featureDefinitions,
    clientManager: new OAuthClientManager(new InMemoryOAuthClientStorage()),
  });
}

const names = (...features: Parameters<typeof featureEndpointName>[0][]) =>
  features.map(featureEndpointName).sort();

describe("enabling rules", () => {
  it("serves session, signup, factor2, email verification, password reset and admin by default", () => {
    expect(namesOf(featureTable({}))).toEqual(
      names("session", "signup", "factor2", "emailVerification", "passwordReset", "admin"),
    );
  });

  it("leaves out each group whose switch is off", () => {
    expect(namesOf(featureTable({ enableEmailVerification: false }))).not.toContain("api/emailVerification");
    expect(namesOf(featureTable({ enablePasswordReset: false }))).not.toContain("api/passwordReset");
    expect(namesOf(featureTable({ allowedFactor2: [] }))).not.toContain("api/factor2");
    expect(namesOf(featureTable({}, { enableAdminEndpoints: false }))).toEqual(
      names("session", "signup", "factor2", "emailVerification", "passwordReset"),
    );
  });

  it("adds client management with enableOAuthClientManagement, admin client management only with admin too", () => {
    expect(namesOf(featureTable({}, { enableOAuthClientManagement: true }))).toEqual(
      names(
        "session",
        "signup",
        "factor2",
        "emailVerification",
        "passwordReset",
        "admin",
        "clientManagement",
        "adminClientManagement",
      ),
    );
    const noAdmin = namesOf(
      featureTable({}, { enableOAuthClientManagement: true, enableAdminEndpoints: false }),
    );
    expect(noAdmin).toContain("api/clientManagement");
    expect(noAdmin).not.toContain("admin/api/adminClientManagement");
  });

  it("refuses to serve client endpoints without a client manager", () => {
    expectCrossauthError(
      () =>
        new EndpointTable(
          harness().sessionManager,
          { enableOAuthClientManagement: true },
          { definitions: featureDefinitions },
        ),
      ErrorCode.Configuration,
    );
  });

  it("serves every enabled endpoint for all, and all but client management for allMinusOAuth", () => {
    const on = { enableOAuthClientManagement: true };
    expect(namesOf(featureTable({}, { ...on, endpoints: "all" }))).toEqual(namesOf(featureTable({}, on)));
    expect(namesOf(featureTable({}, { ...on, endpoints: "allMinusOAuth" }))).toEqual(
      names("session", "signup", "factor2", "emailVerification", "passwordReset", "admin"),
    );
    expect(namesOf(featureTable({ allowedFactor2: [] }, { endpoints: "all" }))).not.toContain("api/factor2");
  });

  it("serves exactly an explicit list, with every method of each name", () => {
    const definitions = [
      probe("login", "GET", "page", "any", false),
      probe("login", "POST", "page", "any", true),
      probe("api/login", "POST", "api", "any", true),
    ];
    const table = new EndpointTable(
      harness().sessionManager,
      { endpoints: ["login", "login"] },
      { definitions },
    );
    expect(table.routes().map((r) => `${r.method} ${r.fullPath}`)).toEqual(["GET /login", "POST /login"]);
  });

  it("refuses an unknown name in an explicit list", () => {
    const e = expectCrossauthError(
      () => featureTable({}, { endpoints: ["api/session", "api/nosuch"] }),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("Unknown endpoint api/nosuch");
  });

  it("refuses a listed endpoint whose feature is off, for each switch", () => {
    const cases: [Partial<EndpointHarnessOptions>, EndpointOptionsInput, string][] = [
      [{ enableEmailVerification: false }, {}, "api/emailVerification"],
      [{ enablePasswordReset: false }, {}, "api/passwordReset"],
      [{ allowedFactor2: [] }, {}, "api/factor2"],
      [{}, { enableAdminEndpoints: false }, "admin/api/admin"],
      [{}, {}, "api/clientManagement"],
      [
        {},
        { enableOAuthClientManagement: true, enableAdminEndpoints: false },
        "admin/api/adminClientManagement",
      ],
    ];
    for (const [managerOptions, options, name] of cases) {
      const e = expectCrossauthError(
        () => featureTable(managerOptions, { ...options, endpoints: [name] }),
        ErrorCode.Configuration,
      );
      expect(e.message).toMatch(
        new RegExp(`^Endpoint ${name} needs the \\w+ feature, which is not enabled$`),
      );
    }
  });

  it("refuses two endpoints on the same method and route", () => {
    const definitions = [
      probe("a", "GET", "api", "any", false, "session", { path: "x/:id" }),
      probe("b", "GET", "api", "any", false, "session", { path: "x/:other" }),
    ];
    const e = expectCrossauthError(
      () => new EndpointTable(harness().sessionManager, {}, { definitions }),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("Endpoints a and b share the route GET /x/:other");
  });

  it("serves the shipped endpoints by default", () => {
    const table = new EndpointTable(harness().sessionManager);
    const shipped = new Set(
      defaultEndpointDefinitions
        .filter((d) => d.feature !== "clientManagement" && d.feature !== "adminClientManagement")
        .map((d) => d.name),
    );
    expect(namesOf(table)).toEqual([...shipped].sort());
    for (const name of ["api/login", "api/logout", "login", "api/getcsrftoken", "api/verifyemail"]) {
      expect(shipped.has(name)).toBe(true);
    }
  });

  it("leaves out the shipped email-verification and password-reset endpoints when they are off", () => {
    const table = new EndpointTable(
      harness({ enableEmailVerification: false, enablePasswordReset: false }).sessionManager,
    );
    for (const name of ["api/verifyemail", "verifyemail", "requestpasswordreset", "api/resetpassword"]) {
      expect(namesOf(table)).not.toContain(name);
    }
    expect(namesOf(table)).toContain("api/login");
  });
});

describe("paths", () => {
  const definitions: EndpointDefinition[] = [
    probe("login", "GET", "page", "any", false),
    probe("api/verifyemail", "GET", "api", "any", false, "emailVerification", {
      path: "api/verifyemail/:token",
    }),
    probe("admin/api/createuser", "POST", "api", "admin", true, "admin"),
    probe("admin/updateuser", "GET", "page", "admin", false, "admin", { path: "admin/updateuser/:id" }),
    probe("admin/selectuser", "GET", "page", "admin", false, "admin", { path: "selectuser" }),
  ];

  it("serves names under the prefix and admin names under the admin prefix without admin/", () => {
    const table = new EndpointTable(
      harness().sessionManager,
      { prefix: "/auth", adminPrefix: "/manage/" },
      { definitions },
    );
    expect(table.routes().map((r) => [r.method, r.fullPath, r.definition.name])).toEqual([
      ["GET", "/auth/login", "login"],
      ["GET", "/auth/api/verifyemail/:token", "api/verifyemail"],
      ["POST", "/manage/api/createuser", "admin/api/createuser"],
      ["GET", "/manage/updateuser/:id", "admin/updateuser"],
      ["GET", "/manage/selectuser", "admin/selectuser"],
    ]);
  });

  it("uses the default prefixes / and /admin/", () => {
    const table = new EndpointTable(harness().sessionManager, {}, { definitions });
    expect(table.routes().map((r) => r.fullPath)).toEqual([
      "/login",
      "/api/verifyemail/:token",
      "/admin/api/createuser",
      "/admin/updateuser/:id",
      "/admin/selectuser",
    ]);
  });

  it("matches methods and paths, decoding parameters", () => {
    const table = new EndpointTable(harness().sessionManager, { prefix: "/auth/" }, { definitions });
    expect(table.match("GET", "/auth/api/verifyemail/a%2Fb")?.params).toEqual({ token: "a/b" });
    expect(table.match("GET", "/auth/api/verifyemail/")).toBeUndefined();
    expect(table.match("GET", "/auth/api/verifyemail/%E0%A4%A")).toBeUndefined();
    expect(table.match("POST", "/auth/login")).toBeUndefined();
    expect(table.match("GET", "/login")).toBeUndefined();
    expect(table.match("GET", "/admin/updateuser/7")?.route.definition.name).toBe("admin/updateuser");
  });

  it("answers undefined from dispatch when nothing matches, and passes path parameters to handlers", async () => {
    const table = new EndpointTable(harness().sessionManager, {}, { definitions });
    expect(await table.dispatch(raw("GET", "/nowhere"))).toBeUndefined();
    const result = await table.dispatch(raw("GET", "/api/verifyemail/tok"));
    expect((result?.json?.seen as Record<string, unknown> | undefined)?.params).toEqual({ token: "tok" });
  });

  it("refuses a prefix that does not start with /", () => {
    expectCrossauthError(
      () => new EndpointTable(harness().sessionManager, { prefix: "auth" }, { definitions }),
      ErrorCode.Configuration,
    );
  });

  it("returns a copy of its routes and does not modify the options", () => {
    const options = Object.freeze({ prefix: "/auth", endpoints: Object.freeze(["login"]) as string[] });
    const table = new EndpointTable(harness().sessionManager, options, { definitions });
    table.routes().pop();
    expect(table.routes()).toHaveLength(1);
    expect(options).toEqual({ prefix: "/auth", endpoints: ["login"] });
  });
});

describe("response cookies and headers", () => {
  it("writes clear cookies with the configured attributes, then set cookies", () => {
    const h = harness();
    const table = new EndpointTable(h.sessionManager, {}, { definitions: [] });
    const csrf = h.sessionManager.createCsrfToken().csrfCookie;
    expect(table.setCookieHeaders({ clearCookies: ["SESSIONID", "OTHER"], setCookies: [csrf] })).toEqual([
      "SESSIONID=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax",
      "OTHER=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
      `CSRFTOKEN=${csrf.value}; Path=/; HttpOnly; Secure; SameSite=Lax`,
    ]);
  });

  it("lets the handler's cookies win and gives a CSRF cookie set by the handler its own header value", async () => {
    const h = harness();
    const fresh = h.sessionManager.createCsrfToken();
    const definitions = [
      probe("api/rotate", "GET", "api", "any", false, "session", {
        handler: async () => ({ ...apiOk({}, [fresh.csrfCookie]), clearCookies: ["SESSIONID"] }),
      }),
      probe("api/rotate", "POST", "api", "any", false, "session", {
        handler: async () => apiOk({}, [fresh.csrfCookie]),
      }),
      probe("api/forget", "GET", "api", "any", false, "session", {
        handler: async () => ({ ...apiOk({}), clearCookies: ["CSRFTOKEN"] }),
      }),
    ];
    const table = new EndpointTable(h.sessionManager, {}, { definitions });
    const result = await table.dispatch(raw("GET", "/api/rotate", { cookies: { SESSIONID: "bad" } }));
    expect(result?.setCookies).toEqual([fresh.csrfCookie]);
    expect(result?.clearCookies).toEqual(["SESSIONID"]);
    const header = result?.headers?.["X-CROSSAUTH-CSRF"];
    expect(() =>
      h.sessionManager.validateDoubleSubmitCsrfToken(fresh.csrfCookie.value, header),
    ).not.toThrow();
    const posted = await table.dispatch(raw("POST", "/api/rotate"));
    const postHeader = posted?.headers?.["X-CROSSAUTH-CSRF"];
    expect(() =>
      h.sessionManager.validateDoubleSubmitCsrfToken(fresh.csrfCookie.value, postHeader),
    ).not.toThrow();
    const forget = await table.dispatch(raw("GET", "/api/forget"));
    expect(forget?.clearCookies).toEqual(["CSRFTOKEN"]);
    expect(setCookieValue(forget, "CSRFTOKEN")).toBeUndefined();
    expect(forget?.headers).toBeUndefined();
  });

  it("uses a given page renderer, or builds one from options", () => {
    const h = harness();
    const pages = new PageRenderer({ messages: { loginTitle: "Sign in" } });
    expect(new EndpointTable(h.sessionManager, {}, { pages, definitions: [] }).pages).toBe(pages);
    const built = new EndpointTable(h.sessionManager, {}, { pages: { messages: { loginTitle: "Enter" } } });
    expect(built.pages.messages.loginTitle).toBe("Enter");
    expect(built.services.pages).toBe(built.pages);
  });
});
