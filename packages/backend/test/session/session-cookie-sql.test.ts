/**
 * SessionCookie over the SQL storages: the session check reads the key and its user in one query
 * (UserStorage.getKeyAndOwner), with the same answers as the two-lookup path.
 */
import {
  cachedStatements,
  KyselyKeyStorage,
  KyselyUserStorage,
  migrateToLatest,
  SessionCookie,
} from "@crossauth/backend";
import { ErrorCode, UserState } from "@crossauth/common";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const secret = "ABCDEFGHIJKLMNOPQRSTUVWX";
const start = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));

describe("SessionCookie on SQLite", () => {
  let db: Kysely<any>;
  let queries: string[];
  let t: number;
  let users: KyselyUserStorage;
  let keys: KyselyKeyStorage;

  beforeEach(async () => {
    queries = [];
    t = start.getTime();
    db = new Kysely<any>({
      dialect: new SqliteDialect({ database: cachedStatements(new Database(":memory:")) }),
      log: (event) => {
        queries.push(event.query.sql);
      },
    });
    await migrateToLatest(db);
    users = new KyselyUserStorage(db);
    keys = new KyselyKeyStorage(db);
  });
  afterEach(async () => {
    await db.destroy();
  });

  const sessions = (options: Record<string, unknown> = {}) =>
    new SessionCookie(keys, { secret, userStorage: users, now: () => new Date(t), ...options });

  async function loggedIn(state: string = UserState.active) {
    const user = await users.createUser({ username: "bob", state, factor1: "localpassword" });
    const session = sessions();
    const key = await session.createSessionKey(user.id);
    return { user, session, id: key.value };
  }

  it("checks a session with one query once the user storage knows the user table", async () => {
    const { user, session, id } = await loggedIn();
    const first = await session.getUserForSessionId(id);
    expect(first.user?.username).toBe("bob");
    queries = [];
    const second = await session.getUserForSessionId(id);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/left join "User"/);
    expect(second.user).toEqual((await users.getUserById(user.id, { skipSecrets: true })).user);
    expect(second.key.value).toBe(SessionCookie.hashSessionId(id));
  });

  it("gives the same errors as the two-lookup path: unknown, expired (deleted), filtered, user state", async () => {
    const { user, session, id } = await loggedIn();
    await session.getUserForSessionId(id);
    await expectCrossauthRejection(
      session.getUserForSessionId("unknown-session-id-xx"),
      ErrorCode.InvalidSession,
    );
    await expectCrossauthRejection(
      sessions({ filterFunction: () => false }).getUserForSessionId(id),
      ErrorCode.InvalidSession,
    );
    await users.updateUser({ id: user.id, state: UserState.disabled });
    await expectCrossauthRejection(session.getUserForSessionId(id), ErrorCode.UserNotActive);
    expect((await session.getUserForSessionId(id, { skipActiveCheck: true })).user?.state).toBe("disabled");
    t += 31 * 24 * 3600 * 1000;
    await expectCrossauthRejection(session.getUserForSessionId(id), ErrorCode.Expired);
    await expectCrossauthRejection(keys.getKey(SessionCookie.hashSessionId(id)), ErrorCode.InvalidKey);
  });

  it("answers an anonymous session with no user, and records activity at most once a minute", async () => {
    const { session } = await loggedIn();
    await users.getUserByUsername("bob");
    const anonymous = await session.createSessionKey(null);
    expect((await session.getUserForSessionId(anonymous.value)).user).toBeUndefined();
    t += 61_000;
    queries = [];
    const later = await session.getUserForSessionId(anonymous.value);
    expect(later.key.lastactive?.getTime()).toBe(t);
    expect(queries.filter((q) => q.startsWith("update"))).toHaveLength(1);
    expect((await keys.getKey(SessionCookie.hashSessionId(anonymous.value))).lastactive?.getTime()).toBe(t);
  });
});
