/**
 * `signup` and `api/signup`, called without HTTP: users and states created, verification emails,
 * sessions, the second factor's set-up data, redirects, errors and the rendered form.
 */
import { ErrorCode, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { signupEndpoints } from "../../src/endpoints/handlers/signup-endpoints.js";
import { emailedCode, linkToken, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import {
  type EndpointHarness,
  type EndpointHarnessOptions,
  errorShape,
  makeEndpointHarness,
  useEndpointHarness,
} from "./endpoint-harness.js";

const s = useEndpointHarness({ userEditableFields: ["phone", "first_name", "admin"] });

const UNSAFE_NEXTS = ["//evil.com", "https://evil.com", "/\\evil.com"];

/** A harness for one test with different options, closed afterwards. */
async function withHarness(
  options: Omit<EndpointHarnessOptions, "smtpPort">,
  body: (h: EndpointHarness) => Promise<void>,
): Promise<void> {
  const h = makeEndpointHarness({ smtpPort: s.smtp.port, ...options });
  try {
    await body(h);
  } finally {
    h.close();
  }
}

const alice = {
  username: "alice",
  password: TEST_PASSWORD,
  repeat_password: TEST_PASSWORD,
  user_email: "alice@example.com",
};

describe("signup page (GET)", () => {
  it("shows labelled fields for username, email, editable fields, passwords and the second factor", async () => {
    const request = s.h.pageRequest("GET", "signup", {}, { query: { next: "/welcome" } });
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    const html = await s.h.render(result);
    expect(html).toContain('<form method="post" action="/signup">');
    expect(html).toContain(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`);
    expect(html).toContain('<input type="hidden" name="next" value="/welcome">');
    expect(html).toContain('<label for="username">Username</label>');
    expect(html).toContain('autocomplete="username"');
    expect(html).toContain('<label for="user_email">Email</label>');
    expect(html).toContain(
      '<input id="user_email" name="user_email" type="email" value="" autocomplete="email" required>',
    );
    expect(html).toContain('<label for="user_phone">Phone number</label>');
    expect(html).toContain('type="tel" value="" autocomplete="tel">');
    expect(html).toContain('<label for="user_first_name">First name</label>');
    expect(html).not.toContain("user_admin");
    expect(html).toContain(
      '<input id="password" name="password" type="password" value="" autocomplete="new-password" required>',
    );
    expect(html).toContain('<label for="repeat_password">Repeat password</label>');
    expect(html).toContain('<label for="factor2">Two-factor authentication</label>');
    expect(html).toContain('<option value="none" selected>None</option>');
    expect(html).toContain('<option value="totp">Authenticator app</option>');
    expect(html).toContain('<option value="email">Email</option>');
    expect(html).toContain('href="/login?next=%2Fwelcome"');
  });

  it("offers no second factor when allowFactor2AtSignup is off", async () => {
    await withHarness({ endpointOptions: { allowFactor2AtSignup: false } }, async (h) => {
      const html = await h.render(await h.call(h.pageRequest("GET", "signup")));
      expect(html).not.toContain('name="factor2"');
    });
  });
});

describe("api/signup without a second factor", () => {
  it("creates a user awaiting email verification, emails the link, and starts no session", async () => {
    const { h } = s;
    const result = await h.call(
      h.apiRequest("POST", "api/signup", { ...alice, user_phone: "+441234567890" }),
    );
    expect(result).toEqual({ status: 200, json: { ok: true, emailVerificationNeeded: true } });
    const { user } = await h.userStorage.getUserByUsername("alice", { skipEmailVerifiedCheck: true });
    expect(user).toMatchObject({
      state: UserState.awaitingEmailVerification,
      email: "alice@example.com",
      phone: "+441234567890",
      factor1: "localpassword",
      factor2: "",
    });
    const token = linkToken(mailsTo(s.smtp, "alice@example.com").at(-1)?.parsed.text ?? "", "verifyemail");
    s.neverLogged(token);
  });

  it("logs the user in when nothing is pending, ending the previous session", async () => {
    await withHarness({ enableEmailVerification: false }, async (h) => {
      const before = await h.anonymousSession();
      const result = await h.call(h.apiRequest("POST", "api/signup", alice, { sessionId: before.sessionId }));
      expect(result.status).toBe(200);
      const { user } = await h.userStorage.getUserByUsername("alice");
      expect(result.json).toEqual({ ok: true, emailVerificationNeeded: false, user });
      expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
      expect((await h.sessionManager.userForSessionId(h.sessionIdOf(result))).user?.id).toBe(user.id);
      expect(await h.sessionExists(before.sessionId)).toBe(false);
      expect(user.state).toBe(UserState.active);
    });
  });

  it("never sets admin, state or unlisted fields from the body", async () => {
    await withHarness(
      { enableEmailVerification: false, userEditableFields: ["admin", "state"] },
      async (h) => {
        const result = await h.call(
          h.apiRequest("POST", "api/signup", {
            ...alice,
            user_admin: "true",
            user_state: "disabled",
            user_color: "red",
          }),
        );
        expect(result.status).toBe(200);
        const { user } = await h.userStorage.getUserByUsername("alice");
        expect(user.admin).toBe(false);
        expect(user.state).toBe(UserState.active);
        expect(user).not.toHaveProperty("color");
      },
    );
  });

  it.each([
    [
      "different passwords",
      { ...alice, repeat_password: "Other-Pass-99" },
      401,
      ErrorCode.PasswordMatch,
      "PasswordMatch",
    ],
    ["no password", { ...alice, password: "" }, 400, ErrorCode.FormEntry, "FormEntry"],
    ["a bad email", { ...alice, user_email: "not-an-address" }, 400, ErrorCode.InvalidEmail, "InvalidEmail"],
    [
      "a second factor that is not allowed",
      { ...alice, factor2: "sms" },
      400,
      ErrorCode.BadRequest,
      "BadRequest",
    ],
    ["a non-text field", { ...alice, user_phone: { a: 1 } }, 400, ErrorCode.FormEntry, "FormEntry"],
  ])("refuses %s with the error shape and creates nobody", async (_what, body, status, code, name) => {
    const result = await s.h.call(s.h.apiRequest("POST", "api/signup", body));
    expect(result.status).toBe(status);
    expect(result.json).toMatchObject({ ok: false, errorCode: code, errorCodeName: name });
    expect(result.setCookies).toBeUndefined();
    await expect(s.h.userStorage.getUserByUsername("alice", { skipActiveCheck: true })).rejects.toMatchObject(
      {
        codeName: "UserNotExist",
      },
    );
  });

  it("refuses a taken username with 400 UserExists", async () => {
    await s.h.createUser({ username: "alice", email: "first@example.com" });
    const result = await s.h.call(s.h.apiRequest("POST", "api/signup", alice));
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ errorCode: ErrorCode.UserExists, errorCodeName: "UserExists" });
  });

  it("refuses a second factor when allowFactor2AtSignup is off", async () => {
    await withHarness({ endpointOptions: { allowFactor2AtSignup: false } }, async (h) => {
      const result = await h.call(h.apiRequest("POST", "api/signup", { ...alice, factor2: "totp" }));
      expect(result.status).toBe(400);
      expect(result.json).toEqual(
        errorShape(ErrorCode.BadRequest, "BadRequest", "A second factor cannot be chosen at sign-up"),
      );
    });
  });
});

describe("api/signup with a second factor", () => {
  it("TOTP: creates the user awaiting set-up, returns the QR code and secret, and a new anonymous session", async () => {
    const { h } = s;
    const result = await h.call(h.apiRequest("POST", "api/signup", { ...alice, factor2: "totp" }));
    expect(result.status).toBe(200);
    const { user, secrets } = await h.userStorage.getUserByUsername("alice", {
      skipActiveCheck: true,
      skipEmailVerifiedCheck: true,
    });
    expect(user.state).toBe(UserState.awaitingTwoFactorSetupAndEmailVerification);
    expect(secrets.totpsecret).toBeUndefined();
    const json = result.json as Record<string, unknown>;
    expect(json).toEqual({
      ok: true,
      userid: user.id,
      factor2: "totp",
      emailVerificationNeeded: true,
      username: "alice",
      totpsecret: expect.stringMatching(/^[A-Z2-7]{32}$/),
      qr: expect.stringMatching(/^data:image\/png;base64,/),
    });
    s.neverLogged(json.totpsecret as string);
    const sessionId = h.sessionIdOf(result);
    expect((await h.sessionManager.userForSessionId(sessionId)).user).toBeUndefined();
    expect((await h.sessionData(sessionId))["2fa"]).toMatchObject({
      userid: user.id,
      factor2: "totp",
      totpsecret: json.totpsecret,
    });
  });

  it("uses the request's anonymous session when it has one", async () => {
    const { h } = s;
    const session = await h.anonymousSession();
    const result = await h.call(
      h.apiRequest("POST", "api/signup", { ...alice, factor2: "dummy" }, { sessionId: session.sessionId }),
    );
    expect(result.status).toBe(200);
    expect(result.setCookies).toBeUndefined();
    expect(result.json).toMatchObject({
      ok: true,
      factor2: "dummy",
      emailVerificationNeeded: true,
      username: "alice",
    });
    expect((await h.sessionData(session.sessionId))["2fa"]).toMatchObject({
      factor2: "dummy",
      username: "alice",
    });
  });

  it("a logged-in user signing up someone new gets a new anonymous session and the old one ends", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "bob" });
    const session = await h.userSession(user);
    const result = await h.call(
      h.apiRequest(
        "POST",
        "api/signup",
        { ...alice, factor2: "dummy" },
        { user, sessionId: session.sessionId },
      ),
    );
    expect(result.status).toBe(200);
    const sessionId = h.sessionIdOf(result);
    expect(sessionId).not.toBe(session.sessionId);
    expect(await h.sessionExists(session.sessionId)).toBe(false);
  });

  it("email: the set-up code is emailed and emailVerificationNeeded is false", async () => {
    const { h } = s;
    const result = await h.call(h.apiRequest("POST", "api/signup", { ...alice, factor2: "email" }));
    expect(result.json).toMatchObject({ ok: true, factor2: "email", emailVerificationNeeded: false });
    const code = emailedCode(mailsTo(s.smtp, "alice@example.com").at(-1)!);
    s.neverLogged(code);
    expect(JSON.stringify(result.json)).not.toContain(code);
  });
});

describe("signup page (POST)", () => {
  it("shows a notice when the email address must be verified", async () => {
    const result = await s.h.call(s.h.pageRequest("POST", "signup", alice));
    expect(result.status).toBe(200);
    expect(result.setCookies).toBeUndefined();
    const html = await s.h.render(result);
    expect(html).toContain("We sent you an email. Follow the link in it to verify your address.");
    expect(html).not.toContain("<form");
    expect(html).toContain('href="/login"');
  });

  it("logs the user in and redirects to a safe next, else loginRedirect", async () => {
    await withHarness({ enableEmailVerification: false }, async (h) => {
      const result = await h.call(h.pageRequest("POST", "signup", { ...alice, next: "/welcome" }));
      expect(result.status).toBe(303);
      expect(result.redirect).toBe("/welcome");
      expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
      for (const [i, next] of UNSAFE_NEXTS.entries()) {
        const other = { ...alice, username: `user${i}`, user_email: `user${i}@example.com`, next };
        const unsafe = await h.call(h.pageRequest("POST", "signup", other));
        expect(unsafe.status).toBe(303);
        expect(unsafe.redirect).toBe("/");
      }
    });
  });

  it("with a second factor, redirects to configurefactor2 with the set-up session", async () => {
    const result = await s.h.call(
      s.h.pageRequest("POST", "signup", { ...alice, factor2: "totp", next: "/welcome" }),
    );
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/configurefactor2?next=%2Fwelcome");
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
  });

  it.each(UNSAFE_NEXTS)("with a second factor, drops the unsafe next %s", async (next) => {
    const result = await s.h.call(s.h.pageRequest("POST", "signup", { ...alice, factor2: "dummy", next }));
    expect(result.redirect).toBe("/configurefactor2");
  });

  it("shows the form again with the error, the escaped values and the choice, never the passwords", async () => {
    const body = {
      ...alice,
      username: "<img src=x onerror=alert(1)>",
      user_first_name: 'Al "the" <b>',
      repeat_password: "Mismatch-Typed-7",
      factor2: "email",
    };
    const result = await s.h.call(s.h.pageRequest("POST", "signup", body));
    expect(result.status).toBe(401);
    const html = await s.h.render(result);
    expect(html).toContain("<li>Passwords do not match</li>");
    expect(html).toContain('value="&lt;img src=x onerror=alert(1)&gt;"');
    expect(html).toContain('value="Al &quot;the&quot; &lt;b&gt;"');
    expect(html).not.toContain("<img src=x");
    expect(html).toContain('<option value="email" selected>Email</option>');
    expect(html).not.toContain(TEST_PASSWORD);
    expect(html).not.toContain("Mismatch-Typed-7");
  });
});

describe("definitions", () => {
  it("declare methods, kinds, CSRF, access and features", () => {
    expect(signupEndpoints.map((d) => [d.name, d.method, d.kind, d.csrf, d.access, d.feature])).toEqual([
      ["signup", "GET", "page", false, "any", "signup"],
      ["signup", "POST", "page", true, "any", "signup"],
      ["api/signup", "POST", "api", true, "any", "signup"],
    ]);
  });
});
