/**
 * Step-up 2FA without HTTP: which requests `stepUpIfNeeded` holds, what it saves, and the `factor2`,
 * `api/factor2`, `cancelfactor2` and `api/cancelfactor2` endpoints that complete (replaying the held
 * request through `redispatch`) or discard it. The protected endpoint used is `changefactor2`.
 */
import { ErrorCode, type User } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { defaultEndpointDefinitions } from "../../src/endpoints/default-endpoints.js";
import type { EndpointDefinition } from "../../src/endpoints/endpoint.js";
import { stepUpIfNeeded } from "../../src/endpoints/step-up.js";
import { sessionDataKey, symmetricDecrypt } from "../../src/index.js";
import { DUMMY_CODE, emailedCode, mailsTo, TEST_SECRET } from "../session/flow-context.js";
import {
  type EndpointHarness,
  errorShape,
  makeEndpointHarness,
  useEndpointHarness,
} from "./endpoint-harness.js";

const s = useEndpointHarness();

function definition(name: string, method: "GET" | "POST" = "POST"): EndpointDefinition {
  const found = defaultEndpointDefinitions.find((d) => d.name === name && d.method === method);
  if (!found) throw new Error(`No ${method} ${name}`);
  return found;
}

/** A logged-in user with a second factor, and request options for their session. */
async function loggedIn(h: EndpointHarness, factor2 = "dummy") {
  const { user, secrets } = await h.createUser({ username: "alice", factor2 });
  const session = await h.userSession(user);
  return { user, secrets, opts: { user, sessionId: session.sessionId } };
}

/** Holds `api/changefactor2` (or the page) for the user; checks the answer. */
async function hold(h: EndpointHarness, opts: { user: User; sessionId: string }, kind: "api" | "page") {
  const path = kind === "api" ? "api/changefactor2" : "changefactor2";
  const build = kind === "api" ? h.apiRequest : h.pageRequest;
  const request = build("POST", path, { factor2: "totp", csrfToken: "masked.value" }, opts);
  const result = await h.call(request, { stepUp: true });
  if (kind === "api") expect(result).toEqual({ status: 200, json: { ok: true, factor2Required: true } });
  else expect(result).toEqual({ status: 303, redirect: "/factor2" });
  return request;
}

describe("stepUpIfNeeded", () => {
  it("holds a protected POST of a user with a second factor, saving it without the CSRF field", async () => {
    const { h } = s;
    const { user, opts } = await loggedIn(h);
    await hold(h, opts, "api");
    const pre2fa = (await h.sessionData(opts.sessionId)).pre2fa as { body: string };
    expect(pre2fa).toMatchObject({
      userid: user.id,
      factor2: "dummy",
      url: "/api/changefactor2",
      contentType: "application/json",
    });
    // The held body is sealed at rest: it may contain passwords.
    expect(pre2fa.body).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(JSON.parse(symmetricDecrypt(pre2fa.body, sessionDataKey(TEST_SECRET)))).toEqual({
      factor2: "totp",
    });
    expect((await h.userStorage.getUserById(user.id)).user.factor2).toBe("dummy");
    expect((await h.sessionData(opts.sessionId))["2fa"]).toBeUndefined();
  });

  it("emails the code of an email factor", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h, "email");
    await hold(h, opts, "page");
    const code = emailedCode(mailsTo(s.smtp, "alice@example.com").at(-1)!);
    s.neverLogged(code);
    expect(code).toMatch(/^\d{6}$/);
  });

  it("lets through GETs, unprotected endpoints, anonymous users, users without a factor and API keys", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    const { user: plain } = await h.createUser({ username: "bob" });
    const plainSession = await h.userSession(plain);
    const cases: [ReturnType<EndpointHarness["apiRequest"]>, EndpointDefinition][] = [
      [h.pageRequest("GET", "changefactor2", {}, opts), definition("changefactor2", "GET")],
      [h.apiRequest("POST", "api/logout", {}, opts), definition("api/logout")],
      [h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }), definition("api/changefactor2")],
      [
        h.apiRequest(
          "POST",
          "api/changefactor2",
          { factor2: "totp" },
          { user: plain, sessionId: plainSession.sessionId },
        ),
        definition("api/changefactor2"),
      ],
      [
        h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, { ...opts, authType: "apiKey" }),
        definition("api/changefactor2"),
      ],
      [
        h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, { user: opts.user }),
        definition("api/changefactor2"),
      ],
    ];
    for (const [request, def] of cases)
      expect(await stepUpIfNeeded(request, h.services, def)).toBeUndefined();
    expect((await h.sessionData(opts.sessionId)).pre2fa).toBeUndefined();
  });

  it("protects exactly the endpoints of factor2ProtectedEndpoints", async () => {
    const h = makeEndpointHarness({
      smtpPort: s.smtp.port,
      endpointOptions: { factor2ProtectedEndpoints: ["api/logout"] },
    });
    try {
      const { opts } = await loggedIn(h);
      const change = h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, opts);
      expect(await stepUpIfNeeded(change, h.services, definition("api/changefactor2"))).toBeUndefined();
      const logout = h.apiRequest("POST", "api/logout", {}, opts);
      expect(await stepUpIfNeeded(logout, h.services, definition("api/logout"))).toEqual({
        status: 200,
        json: { ok: true, factor2Required: true },
      });
    } finally {
      h.close();
    }
  });

  it("answers with the error when the code cannot be sent, holding nothing", async () => {
    const h = makeEndpointHarness();
    try {
      const { opts } = await loggedIn(h, "email");
      const api = await h.call(h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, opts), {
        stepUp: true,
      });
      expect(api.status).toBe(500);
      expect(api.json).toMatchObject({ ok: false, errorCodeName: "Configuration" });
      const page = await h.call(h.pageRequest("POST", "changefactor2", { factor2: "totp" }, opts), {
        stepUp: true,
      });
      expect(page.status).toBe(500);
      expect(page.page?.template).toBe("factor2");
      expect((await h.sessionData(opts.sessionId)).pre2fa).toBeUndefined();
    } finally {
      h.close();
    }
  });
});

describe("api/factor2", () => {
  it("a wrong code is 401 and keeps the request held; the right one runs it and answers as it does", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    await hold(h, opts, "api");
    const wrong = await h.call(h.apiRequest("POST", "api/factor2", { otp: "9999" }, opts));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ ok: false, errorCode: ErrorCode.InvalidToken });
    expect((await h.sessionData(opts.sessionId)).pre2fa).toBeDefined();
    const right = await h.call(h.apiRequest("POST", "api/factor2", { otp: DUMMY_CODE }, opts));
    expect(right.status).toBe(200);
    const json = right.json as Record<string, unknown>;
    expect(json).toEqual({
      ok: true,
      username: "alice",
      factor2: "totp",
      totpsecret: expect.any(String),
      qr: expect.stringMatching(/^data:image\/png;base64,/),
    });
    s.neverLogged(json.totpsecret as string);
    const data = await h.sessionData(opts.sessionId);
    expect(data.pre2fa).toBeUndefined();
    expect(data["2fa"]).toMatchObject({ factor2: "totp", totpsecret: json.totpsecret });
  });

  it("a TOTP user completes step-up with a code from the app", async () => {
    const { h } = s;
    const { secrets, opts } = await loggedIn(h, "totp");
    s.neverLogged(secrets.totpsecret as string);
    await hold(h, opts, "api");
    const code = await h.totp(secrets.totpsecret as string);
    const result = await h.call(h.apiRequest("POST", "api/factor2", { otp: code }, opts));
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ ok: true, factor2: "totp" });
  });

  it("without a held request is 401 Unauthorized", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    const result = await h.call(h.apiRequest("POST", "api/factor2", { otp: DUMMY_CODE }, opts));
    expect(result.status).toBe(401);
    expect(result.json).toEqual(
      errorShape(ErrorCode.Unauthorized, "Unauthorized", "No two-factor authentication in progress"),
    );
  });

  it("a missing code is 400 FormEntry", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    await hold(h, opts, "api");
    const result = await h.call(h.apiRequest("POST", "api/factor2", {}, opts));
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ errorCodeName: "FormEntry", errorMessage: "otp is required" });
  });

  it("is 400 BadRequest when the held request's endpoint no longer exists", async () => {
    const h = makeEndpointHarness({
      endpoints: defaultEndpointDefinitions.filter((d) => d.name !== "api/changefactor2"),
      smtpPort: s.smtp.port,
    });
    try {
      const { opts } = await loggedIn(h);
      const request = h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, opts);
      expect(await stepUpIfNeeded(request, h.services, definition("api/changefactor2"))).toMatchObject({
        json: { factor2Required: true },
      });
      const result = await h.call(h.apiRequest("POST", "api/factor2", { otp: DUMMY_CODE }, opts));
      expect(result.status).toBe(400);
      expect(result.json).toMatchObject({
        errorCodeName: "BadRequest",
        errorMessage: "The held request can no longer be run",
      });
    } finally {
      h.close();
    }
  });
});

describe("factor2 page", () => {
  it("GET shows the step-up form with the code field, the CSRF field and a cancel button", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h, "email");
    await hold(h, opts, "page");
    s.neverLogged(emailedCode(mailsTo(s.smtp, "alice@example.com").at(-1)!));
    const request = h.pageRequest("GET", "factor2", {}, opts);
    const result = await h.call(request);
    expect(result.status).toBe(200);
    const html = await h.render(result);
    expect(html).toContain("To continue, confirm it&#39;s you with your second factor.");
    expect(html).toContain("We sent you a code. Enter it below.");
    expect(html).toContain('<form method="post" action="/factor2">');
    expect(html).toContain('<label for="otp">Code</label>');
    expect(html).toContain('autocomplete="one-time-code" required inputmode="numeric"');
    expect(html).toContain('<form method="post" action="/cancelfactor2">');
    expect(html.split(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`)).toHaveLength(3);
  });

  it("GET without a held request shows the error with 401", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    const result = await h.call(h.pageRequest("GET", "factor2", {}, opts));
    expect(result.status).toBe(401);
    expect(await h.render(result)).toContain("<li>No two-factor authentication in progress</li>");
  });

  it("POST with the right code runs the held page request: its redirect to configurefactor2", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    await hold(h, opts, "page");
    const wrong = await h.call(h.pageRequest("POST", "factor2", { otp: "1111" }, opts));
    expect(wrong.status).toBe(401);
    expect(await h.render(wrong)).toContain('<form method="post" action="/factor2">');
    const right = await h.call(h.pageRequest("POST", "factor2", { otp: DUMMY_CODE }, opts));
    expect(right).toEqual({ status: 303, redirect: "/configurefactor2" });
    expect((await h.sessionData(opts.sessionId))["2fa"]).toMatchObject({ factor2: "totp" });
  });
});

describe("cancelfactor2", () => {
  it("api discards the held request; a second cancel is 401", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    await hold(h, opts, "api");
    const result = await h.call(h.apiRequest("POST", "api/cancelfactor2", {}, opts));
    expect(result).toEqual({ status: 200, json: { ok: true } });
    expect((await h.sessionData(opts.sessionId)).pre2fa).toBeUndefined();
    const again = await h.call(h.apiRequest("POST", "api/cancelfactor2", {}, opts));
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ errorCodeName: "Unauthorized" });
    const after = await h.call(h.apiRequest("POST", "api/factor2", { otp: DUMMY_CODE }, opts));
    expect(after.status).toBe(401);
  });

  it("page discards it and goes back to the page of the held request", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    await hold(h, opts, "page");
    const result = await h.call(h.pageRequest("POST", "cancelfactor2", {}, opts));
    expect(result).toEqual({ status: 303, redirect: "/changefactor2" });
    expect((await h.sessionData(opts.sessionId)).pre2fa).toBeUndefined();
    expect((await h.userStorage.getUserById(opts.user.id)).user.factor2).toBe("dummy");
  });

  it("page without a held request shows the error with 401", async () => {
    const { h } = s;
    const { opts } = await loggedIn(h);
    const result = await h.call(h.pageRequest("POST", "cancelfactor2", {}, opts));
    expect(result.status).toBe(401);
    expect(await h.render(result)).toContain("<li>No two-factor authentication in progress</li>");
  });
});
