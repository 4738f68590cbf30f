/**
 * `verifyemail/:token`, `emailverified` and `api/verifyemail/:token`, called without HTTP, following
 * the links the SMTP fixture received: statuses, JSON, cookies, redirects, storage state (tokens are
 * single use) and the rendered pages.
 */
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { accountEndpoints } from "../../src/endpoints/handlers/account-endpoints.js";
import { emailVerificationEndpoints } from "../../src/endpoints/handlers/email-verification-endpoints.js";
import { emailedToken, mailsTo } from "../session/flow-context.js";
import {
  errorShape,
  expectTwoFactorLogin,
  makeEndpointHarness,
  useEndpointHarness,
  userJson,
} from "./endpoint-harness.js";

const endpoints = [...emailVerificationEndpoints, ...accountEndpoints];
const s = useEndpointHarness({ endpoints, userEditableFields: ["email"] });

const invalidToken = errorShape(ErrorCode.InvalidKey, "InvalidKey", "Email verification token is invalid");
const expiredToken = errorShape(ErrorCode.Expired, "Expired", "Email verification token has expired");

/** A user awaiting verification of their address, and the token of the link emailed to them. */
async function signedUp(username: string, fields: Record<string, unknown> = {}) {
  const { user } = await s.h.createUser({ username, state: UserState.awaitingEmailVerification, ...fields });
  await s.h.sessionManager.tokenEmailer?.sendEmailVerificationToken(user.id);
  const token = emailedToken(mailsTo(s.smtp, `${username}@example.com`).at(-1)!, "verifyemail");
  s.neverLogged(token);
  return { user, token };
}

/** The user as stored now. */
async function stored(user: User): Promise<User> {
  return (await s.h.userStorage.getUserById(user.id, { skipActiveCheck: true, skipEmailVerifiedCheck: true }))
    .user;
}

/** The email-verification keys of a user. */
async function verificationKeys(user: User) {
  const keys = await s.h.keyStorage.getAllForUser(user.id);
  return keys.filter((k) => k.value.startsWith(KeyPrefix.emailVerificationToken));
}

describe("api/verifyemail/:token", () => {
  it("activates the account and logs the user in: {ok, user} + new session; the previous one ends", async () => {
    const { user, token } = await signedUp("alice");
    const before = await s.h.anonymousSession();
    const result = await s.h.call(
      s.h.apiRequest("GET", `api/verifyemail/${token}`, {}, { sessionId: before.sessionId }),
    );
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, user: userJson(user) });
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    const sessionId = s.h.sessionIdOf(result);
    expect((await s.h.sessionManager.userForSessionId(sessionId)).user?.id).toBe(user.id);
    expect(await s.h.sessionExists(before.sessionId)).toBe(false);
    expect((await stored(user)).state).toBe(UserState.active);
    expect(await verificationKeys(user)).toEqual([]);
  });

  it("spends the token: a second use is 401 InvalidKey", async () => {
    const { token } = await signedUp("alice");
    expect((await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`))).status).toBe(200);
    const again = await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`));
    expect(again).toEqual({ status: 401, json: invalidToken });
  });

  it("refuses an unknown token with 401 InvalidKey and an expired one with 401 Expired, changing nothing", async () => {
    const { user, token } = await signedUp("alice");
    const unknown = await s.h.call(s.h.apiRequest("GET", "api/verifyemail/AAAAAAAAAAAAAAAAAAAAAA"));
    expect(unknown).toEqual({ status: 401, json: invalidToken });
    s.h.clock.advance(24 * 60 * 60 + 1);
    const expired = await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`));
    expect(expired).toEqual({ status: 401, json: expiredToken });
    expect((await stored(user)).state).toBe(UserState.awaitingEmailVerification);
  });

  it("does not skip the second factor: twoFactorRequired with the login's anonymous session", async () => {
    const { user, token } = await signedUp("bob", { factor2: "dummy" });
    const result = await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`));
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({
      ok: true,
      twoFactorRequired: true,
      user: { id: user.id, state: UserState.active },
    });
    await expectTwoFactorLogin(s.h, result, user, "dummy");
  });

  it("gives no session to a user who still has to set up the second factor", async () => {
    const { user, token } = await signedUp("carol", {
      state: UserState.awaitingTwoFactorSetupAndEmailVerification,
      factor2: "totp",
    });
    const result = await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`));
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({
      ok: true,
      user: { id: user.id, state: UserState.awaitingTwoFactorSetup },
    });
    expect(result.setCookies).toBeUndefined();
    expect((await stored(user)).state).toBe(UserState.awaitingTwoFactorSetup);
  });

  it("applies a changed address from updateuser; the logged-in user keeps their session", async () => {
    const { user } = await s.h.createUser({ username: "dave" });
    const { sessionId } = await s.h.userSession(user);
    const update = await s.h.call(
      s.h.apiRequest("POST", "api/updateuser", { user_email: "dave.new@example.com" }, { user, sessionId }),
    );
    expect(update.json).toEqual({ ok: true, emailVerificationRequired: true });
    const token = emailedToken(mailsTo(s.smtp, "dave.new@example.com").at(-1)!, "verifyemail");
    const result = await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`, {}, { user, sessionId }));
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ ok: true, user: { id: user.id, email: "dave.new@example.com" } });
    expect(result.setCookies).toBeUndefined();
    expect(await s.h.sessionExists(sessionId)).toBe(true);
    expect((await stored(user)).email).toBe("dave.new@example.com");
  });

  it("logs the user in when a changed address is verified from another browser", async () => {
    const { user } = await s.h.createUser({ username: "erin" });
    await s.h.sessionManager.updateUser(user, { ...user, email: "erin.new@example.com" });
    const token = emailedToken(mailsTo(s.smtp, "erin.new@example.com").at(-1)!, "verifyemail");
    const result = await s.h.call(s.h.apiRequest("GET", `api/verifyemail/${token}`));
    expect(result.json).toMatchObject({ ok: true, user: { email: "erin.new@example.com" } });
    expect((await s.h.sessionManager.userForSessionId(s.h.sessionIdOf(result))).user?.id).toBe(user.id);
  });
});

describe("verifyemail/:token page", () => {
  it("verifies, logs in and redirects to emailverified, which says so to the new session's user", async () => {
    const { user, token } = await signedUp("alice");
    const result = await s.h.call(s.h.pageRequest("GET", `verifyemail/${token}`));
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/emailverified");
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    const sessionId = s.h.sessionIdOf(result);
    const { user: sessionUser } = await s.h.sessionManager.userForSessionId(sessionId);
    expect(sessionUser?.id).toBe(user.id);
    const verified = await s.h.call(
      s.h.pageRequest("GET", "emailverified", {}, { user: sessionUser, sessionId }),
    );
    expect(verified.status).toBe(200);
    const html = await s.h.render(verified);
    expect(html).toContain("<title>Email verified · Crossauth</title>");
    expect(html).toContain(
      '<p class="notice" role="status" aria-live="polite">Your email address is verified.</p>',
    );
    expect(html).toContain('<a href="/">Continue</a>');
  });

  it("sends a user with a second factor to loginfactor2 with the login's anonymous session", async () => {
    const { user, token } = await signedUp("bob", { factor2: "dummy" });
    const result = await s.h.call(s.h.pageRequest("GET", `verifyemail/${token}`));
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/loginfactor2");
    await expectTwoFactorLogin(s.h, result, user, "dummy");
  });

  it("redirects without a session when the user may not have one yet", async () => {
    const { token } = await signedUp("carol", {
      state: UserState.awaitingTwoFactorSetupAndEmailVerification,
      factor2: "totp",
    });
    const result = await s.h.call(s.h.pageRequest("GET", `verifyemail/${token}`));
    expect(result).toEqual({ status: 303, redirect: "/emailverified" });
  });

  it("shows the error page with 401 for an unknown, used or expired token", async () => {
    const { token } = await signedUp("alice");
    await s.h.call(s.h.pageRequest("GET", `verifyemail/${token}`));
    const used = await s.h.call(s.h.pageRequest("GET", `verifyemail/${token}`));
    expect(used.status).toBe(401);
    expect(used.setCookies).toBeUndefined();
    expect(used.page?.template).toBe("verifyemail");
    const html = await s.h.render(used);
    expect(html).toContain("<title>Email verification · Crossauth</title>");
    expect(html).toContain("<li>Email verification token is invalid</li>");
    expect(html).toContain(
      "This verification link cannot be used: it may have expired or been used already.",
    );
    expect(html).toContain('<a href="/login">Log in</a>');
    const { token: second } = await signedUp("erin");
    s.h.clock.advance(24 * 60 * 60 + 1);
    const expired = await s.h.call(s.h.pageRequest("GET", `verifyemail/${second}`));
    expect(expired.status).toBe(401);
    expect(await s.h.render(expired)).toContain("<li>Email verification token has expired</li>");
  });

  it("shows emailverified to a visitor without a session with a link to log in", async () => {
    const html = await s.h.render(await s.h.call(s.h.pageRequest("GET", "emailverified")));
    expect(html).toContain('<a href="/login">Log in</a>');
  });

  it("serves every page under the configured prefix", async () => {
    const h = makeEndpointHarness({
      endpoints,
      smtpPort: s.smtp.port,
      endpointOptions: { prefix: "/auth/" },
    });
    try {
      const { user } = await h.createUser({ username: "gina", state: UserState.awaitingEmailVerification });
      await h.sessionManager.tokenEmailer?.sendEmailVerificationToken(user.id);
      const token = emailedToken(mailsTo(s.smtp, "gina@example.com").at(-1)!, "verifyemail");
      const result = await h.call(h.pageRequest("GET", `verifyemail/${token}`));
      expect(result.status).toBe(303);
      expect(result.redirect).toBe("/auth/emailverified");
      const failed = await h.render(await h.call(h.pageRequest("GET", `verifyemail/${token}`)));
      expect(failed).toContain('<a href="/auth/login">Log in</a>');
    } finally {
      h.close();
    }
  });
});
