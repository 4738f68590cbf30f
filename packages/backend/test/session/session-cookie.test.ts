import { InMemoryKeyStorage, InMemoryUserStorage, SessionCookie } from "@crossauth/backend";
import { ErrorCode, type Key, UserState } from "@crossauth/common";
import { beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const secret = "ABCDEFGHIJKLMNOPQRSTUVWX";
const start = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));

/** A clock the test moves by hand. */
function manualClock() {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance: (seconds: number) => {
      t += seconds * 1000;
    },
  };
}

describe("SessionCookie", () => {
  let keys: InMemoryKeyStorage;
  let users: InMemoryUserStorage;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(() => {
    keys = new InMemoryKeyStorage();
    users = new InMemoryUserStorage({ keyStorage: keys });
    clock = manualClock();
  });

  const sessions = (options: Record<string, unknown> = {}) =>
    new SessionCookie(keys, { secret, userStorage: users, now: clock.now, ...options });

  it("matches the session vector of wire-formats.md", () => {
    const id = Buffer.from([...Array(16).keys()]).toString("base64url");
    expect(id).toBe("AAECAwQFBgcICQoLDA0ODw");
    const key: Key = { value: id, userid: 1, created: start, expires: null };
    expect(sessions().makeCookie(key).value).toBe(
      "AAECAwQFBgcICQoLDA0ODw.zQOcfYCDdrLmNsSMOXk97RxNA2Zjy1bsmH9rnjnFwHw",
    );
    expect(SessionCookie.hashSessionId(id)).toBe("s:XSYR1aTdK0Cyd9_bXs9bSYGRUNfVxi9O75YMsMJNsgw");
  });

  it("stores only the hash of a new session id, with expiry and last activity", async () => {
    const key = await sessions().createSessionKey(null);
    expect(key.value).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const stored = await keys.getKey(SessionCookie.hashSessionId(key.value));
    expect(stored.created.getTime()).toBe(start.getTime());
    expect(stored.expires?.getTime()).toBe(start.getTime() + 30 * 24 * 3600 * 1000);
    expect(stored.lastactive?.getTime()).toBe(start.getTime());
    expect(stored.userid ?? null).toBeNull();
    await expectCrossauthRejection(keys.getKey(`s:${key.value}`), ErrorCode.InvalidKey);
  });

  it("round-trips cookie → id → session and user", async () => {
    const user = await users.createUser({
      username: "bob",
      state: UserState.active,
      factor1: "localpassword",
    });
    const s = sessions();
    const key = await s.createSessionKey(user.id);
    const cookie = s.makeCookie(key);
    const id = s.unsignCookie(cookie.value);
    expect(id).toBe(key.value);
    const found = await s.getUserForSessionId(id);
    expect(found.user?.username).toBe("bob");
    expect(found.key.value).toBe(SessionCookie.hashSessionId(id));
  });

  it("gives logged-in users a persistent cookie and anonymous sessions a browser-session cookie", async () => {
    const s = sessions();
    const anon = await s.createSessionKey(null);
    expect(s.makeCookieString(s.makeCookie(anon))).toMatch(
      /^SESSIONID=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(s.makeCookieString(s.makeCookie({ ...anon, userid: 7 }))).toMatch(
      /^SESSIONID=[^;]+; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(s.makeCookie({ ...anon, userid: 7 }, false).options.maxAge).toBeUndefined();
    expect(sessions({ persist: false }).makeCookie({ ...anon, userid: 7 }).options.maxAge).toBeUndefined();
  });

  it("rejects a tampered or foreign cookie with InvalidSession", async () => {
    const s = sessions();
    const value = s.makeCookie(await s.createSessionKey(null)).value;
    const other = new SessionCookie(keys, { secret: "another secret" }).makeCookie({
      value: "AAECAwQFBgcICQoLDA0ODw",
      created: start,
      expires: null,
    }).value;
    for (const bad of [`${value}x`, value.replace(".", ""), other, "", "a.b"]) {
      expect(() => s.unsignCookie(bad)).toThrowError(
        expect.objectContaining({ code: ErrorCode.InvalidSession }),
      );
    }
  });

  it("throws InvalidSession for an unknown session", async () => {
    await expectCrossauthRejection(
      sessions().getSessionKey("AAECAwQFBgcICQoLDA0ODw"),
      ErrorCode.InvalidSession,
    );
  });

  it("expires sessions at maxAge and deletes them", async () => {
    const s = sessions({ maxAge: 3600 });
    const key = await s.createSessionKey(null);
    clock.advance(3600);
    expect((await s.getSessionKey(key.value)).value).toBe(SessionCookie.hashSessionId(key.value));
    clock.advance(1);
    await expectCrossauthRejection(s.getSessionKey(key.value), ErrorCode.Expired);
    await expectCrossauthRejection(keys.getKey(SessionCookie.hashSessionId(key.value)), ErrorCode.InvalidKey);
  });

  it("expires idle sessions, counting from creation and from each use", async () => {
    const s = sessions({ idleTimeout: 300 });
    const key = await s.createSessionKey(null);
    clock.advance(299);
    await s.getSessionKey(key.value);
    clock.advance(299);
    await s.getSessionKey(key.value);
    clock.advance(301);
    await expectCrossauthRejection(s.getSessionKey(key.value), ErrorCode.Expired);

    const unused = await s.createSessionKey(null);
    clock.advance(301);
    await expectCrossauthRejection(s.getSessionKey(unused.value), ErrorCode.Expired);
  });

  it("writes last activity at most once a minute", async () => {
    const s = sessions({ idleTimeout: 3600 });
    const key = await s.createSessionKey(null);
    const stored = SessionCookie.hashSessionId(key.value);
    clock.advance(59);
    await s.getSessionKey(key.value);
    expect((await keys.getKey(stored)).lastactive?.getTime()).toBe(start.getTime());
    clock.advance(1);
    await s.getSessionKey(key.value);
    expect((await keys.getKey(stored)).lastactive?.getTime()).toBe(start.getTime() + 60_000);
  });

  it("applies the filter function", async () => {
    const s = sessions({ filterFunction: (k: Key) => k.userid !== null && k.userid !== undefined });
    const anon = await s.createSessionKey(null);
    await expectCrossauthRejection(s.getSessionKey(anon.value), ErrorCode.InvalidSession);
  });

  it("reports a session whose user may no longer log in", async () => {
    const user = await users.createUser({
      username: "carol",
      state: UserState.active,
      factor1: "localpassword",
    });
    const s = sessions();
    const key = await s.createSessionKey(user.id);
    await users.updateUser({ id: user.id, state: UserState.disabled });
    await expectCrossauthRejection(s.getUserForSessionId(key.value), ErrorCode.UserNotActive);
  });

  it("updates a session by raw id or stored value, and ends a user's other sessions", async () => {
    const user = await users.createUser({
      username: "dave",
      state: UserState.active,
      factor1: "localpassword",
    });
    const s = sessions();
    const a = await s.createSessionKey(user.id);
    const b = await s.createSessionKey(user.id);
    const c = await s.createSessionKey(user.id);
    await s.updateSessionKey({ value: a.value, data: '{"x":1}' });
    await s.updateSessionKey({ value: SessionCookie.hashSessionId(b.value), data: '{"y":2}' });
    expect((await keys.getKey(SessionCookie.hashSessionId(a.value))).data).toBe('{"x":1}');
    expect((await keys.getKey(SessionCookie.hashSessionId(b.value))).data).toBe('{"y":2}');
    await s.deleteAllForUser(user.id, b.value);
    expect((await keys.getAllForUser(user.id)).map((k) => k.value)).toEqual([
      SessionCookie.hashSessionId(b.value),
    ]);
    await expectCrossauthRejection(s.getSessionKey(c.value), ErrorCode.InvalidSession);
  });

  it("reads its settings from the environment", () => {
    process.env.CROSSAUTH_SESSION_IDLE_TIMEOUT = "900";
    process.env.CROSSAUTH_SESSION_COOKIE_NAME = "SID";
    try {
      const s = new SessionCookie(keys, { secret });
      expect(s.idleTimeout).toBe(900);
      expect(s.cookieName).toBe("SID");
    } finally {
      delete process.env.CROSSAUTH_SESSION_IDLE_TIMEOUT;
      delete process.env.CROSSAUTH_SESSION_COOKIE_NAME;
    }
  });
});
