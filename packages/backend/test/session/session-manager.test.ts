/**
 * The SessionManager facade, end to end, on every storage backend: in memory, SQLite and PostgreSQL
 * (mandatory under CI=true). Emails go to a real SMTP listener and their links are followed.
 */

import {
  ApiKeyManager,
  DummyFactor2Authenticator,
  InMemoryKeyStorage,
  InMemoryUserStorage,
  type KeyStorage,
  KyselyKeyStorage,
  KyselyUserStorage,
  LocalPasswordAuthenticator,
  migrateToLatest,
  SessionCookie,
  SessionManager,
  type UserStorage,
} from "@crossauth/backend";
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SmtpFixture } from "../email/smtp-fixture.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { describeWithService } from "../helpers/services.js";
import { createTestDatabase, type TestDatabase, testDbKinds } from "../storage/sql/sql-test-setup.js";
import {
  DUMMY_CODE,
  emailedToken,
  TEST_EMAIL_FROM,
  TEST_PASSWORD,
  TEST_SECRET,
  TEST_SITE_URL,
} from "./flow-context.js";

interface Backend {
  keyStorage: KeyStorage;
  userStorage: UserStorage;
  close(): Promise<void>;
}

type BackendFactory = () => Promise<Backend>;

const memory: BackendFactory = async () => {
  const keyStorage = new InMemoryKeyStorage();
  return { keyStorage, userStorage: new InMemoryUserStorage({ keyStorage }), close: async () => undefined };
};

function sqlBackend(kind: "sqlite-memory" | "postgres"): BackendFactory {
  return async () => {
    const database: TestDatabase = await createTestDatabase(kind);
    await migrateToLatest(database.db);
    return {
      keyStorage: new KyselyKeyStorage(database.db),
      userStorage: new KyselyUserStorage(database.db),
      close: () => database.drop(),
    };
  };
}

function sessionManagerSuite(factory: BackendFactory): () => void {
  return () => {
    let backend: Backend;
    let smtp: SmtpFixture;
    let manager: SessionManager;
    let t: number;

    beforeAll(async () => {
      backend = await factory();
      smtp = await SmtpFixture.start();
    }, 60_000);
    afterAll(async () => {
      await backend.close();
      await smtp.close();
    });
    beforeEach(() => {
      t = Date.UTC(2030, 0, 1);
      const now = () => new Date(t);
      manager = new SessionManager(
        backend.keyStorage,
        {
          localpassword: new LocalPasswordAuthenticator(backend.userStorage, { pbkdf2Iterations: 1000 }),
          dummy: new DummyFactor2Authenticator(DUMMY_CODE, { now: () => t }),
        },
        {
          userStorage: backend.userStorage,
          secret: TEST_SECRET,
          allowedFactor2: ["dummy"],
          siteUrl: TEST_SITE_URL,
          smtpHost: "127.0.0.1",
          smtpPort: smtp.port,
          emailFrom: TEST_EMAIL_FROM,
          now,
        },
      );
    });

    let counter = 0;
    const unique = (name: string) => `${name}${++counter}`;

    async function signUp(username: string, extra: Record<string, unknown> = {}): Promise<User> {
      const user = await manager.createUser(
        {
          username,
          email: `${username}@example.com`,
          state: UserState.active,
          factor1: "localpassword",
          ...extra,
        },
        { password: TEST_PASSWORD },
        { password: TEST_PASSWORD },
      );
      return user;
    }

    it("signs up, verifies the emailed link, logs in and out", async () => {
      const username = unique("alice");
      const user = await signUp(username);
      expect(user.state).toBe(UserState.awaitingEmailVerification);
      await expectCrossauthRejection(
        manager.login(username, { password: TEST_PASSWORD }),
        ErrorCode.EmailNotVerified,
      );

      const token = emailedToken(smtp.last(), "verifyemail");
      const verified = await manager.applyEmailVerificationToken(token);
      expect(verified.state).toBe(UserState.active);
      await expectCrossauthRejection(manager.applyEmailVerificationToken(token), ErrorCode.InvalidKey);

      const tokens = await manager.login(username, { password: TEST_PASSWORD });
      expect(tokens.user?.username).toBe(username);
      const sessionId = manager.getSessionId(tokens.sessionCookie?.value ?? "");
      expect((await manager.userForSessionId(sessionId)).user?.username).toBe(username);
      manager.validateDoubleSubmitCsrfToken(tokens.csrfCookie?.value, tokens.csrfFormOrHeaderValue);

      await manager.logout(sessionId);
      await expectCrossauthRejection(manager.userForSessionId(sessionId), ErrorCode.InvalidSession);
    });

    it("refuses a wrong password and an unknown user alike", async () => {
      const username = unique("bob");
      await signUp(username);
      await manager.applyEmailVerificationToken(emailedToken(smtp.last(), "verifyemail"));
      const wrong = await expectCrossauthRejection(
        manager.login(username, { password: "Wrong-Pass-1" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      const unknown = await expectCrossauthRejection(
        manager.login(unique("nobody"), { password: TEST_PASSWORD }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      expect(unknown.message).toBe(wrong.message);
    });

    it("logs in with a second factor and rotates the session", async () => {
      const username = unique("carol");
      const user = await signUp(username, { factor2: "dummy" });
      await manager.applyEmailVerificationToken(emailedToken(smtp.last(), "verifyemail"));
      const first = await manager.login(username, { password: TEST_PASSWORD });
      expect(first.twoFactorRequired).toBe(true);
      expect(first.user).toBeUndefined();
      const anonymousId = first.sessionId ?? "";
      await expectCrossauthRejection(
        manager.completeTwoFactorLogin({ otp: "9999" }, anonymousId),
        ErrorCode.InvalidToken,
      );
      const second = await manager.completeTwoFactorLogin({ otp: DUMMY_CODE }, anonymousId);
      expect(second.user?.username).toBe(username);
      await expectCrossauthRejection(manager.userForSessionId(anonymousId), ErrorCode.InvalidSession);
      const sessions = await backend.keyStorage.getAllForUser(user.id);
      expect(sessions.map((k) => k.value)).toEqual([SessionCookie.hashSessionId(second.sessionId ?? "")]);
    });

    it("resets a forgotten password from the emailed link, once, ending other sessions", async () => {
      const username = unique("dave");
      const user = await signUp(username);
      await manager.applyEmailVerificationToken(emailedToken(smtp.last(), "verifyemail"));
      const before = await manager.login(username, { password: TEST_PASSWORD });
      const sent = smtp.messages.length;

      await manager.requestPasswordReset(`${username}@example.com`);
      await manager.requestPasswordReset("nobody@example.com");
      await manager.whenIdle();
      expect(smtp.messages.length).toBe(sent + 1);
      const token = emailedToken(smtp.last(), "resetpassword");

      const results = await Promise.allSettled([
        manager.resetSecret(token, 1, { password: "New-Password-2" }, { password: "New-Password-2" }),
        manager.resetSecret(token, 1, { password: "New-Password-2" }, { password: "New-Password-2" }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      await expectCrossauthRejection(
        manager.userForSessionId(before.sessionId ?? ""),
        ErrorCode.InvalidSession,
      );
      await expectCrossauthRejection(
        manager.login(username, { password: TEST_PASSWORD }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      expect((await manager.login(username, { password: "New-Password-2" })).user?.id).toEqual(user.id);
    });

    it("expires idle and old sessions by the injected clock", async () => {
      const username = unique("erin");
      await signUp(username);
      await manager.applyEmailVerificationToken(emailedToken(smtp.last(), "verifyemail"));
      const tokens = await manager.login(username, { password: TEST_PASSWORD });
      t += 30 * 24 * 3600 * 1000 + 1;
      await expectCrossauthRejection(manager.userForSessionId(tokens.sessionId ?? ""), ErrorCode.Expired);
    });

    it("deletes a user with its sessions, tokens and API keys", async () => {
      const username = unique("frank");
      const user = await signUp(username);
      await manager.applyEmailVerificationToken(emailedToken(smtp.last(), "verifyemail"));
      const session = await manager.login(username, { password: TEST_PASSWORD });
      const apiKeys = new ApiKeyManager(backend.keyStorage, { secret: TEST_SECRET });
      const { token } = await apiKeys.createKey("ci", user.id, { scope: ["read"] });
      expect((await apiKeys.validateToken(`ApiKey ${token}`)).userid).toEqual(user.id);
      await manager.requestPasswordReset(`${username}@example.com`);
      await manager.whenIdle();

      await manager.deleteUserByUsername(username);

      expect(await backend.keyStorage.getAllForUser(user.id)).toEqual([]);
      await expectCrossauthRejection(
        manager.userForSessionId(session.sessionId ?? ""),
        ErrorCode.InvalidSession,
      );
      await expectCrossauthRejection(apiKeys.validateToken(token), ErrorCode.InvalidKey);
      await expectCrossauthRejection(backend.userStorage.getUserById(user.id), ErrorCode.UserNotExist);
      expect(
        (await backend.keyStorage.getAllForUser(user.id)).filter((k) =>
          k.value.startsWith(KeyPrefix.passwordResetToken),
        ),
      ).toEqual([]);
    });
  };
}

describe("SessionManager on in-memory storage", sessionManagerSuite(memory));
describe("SessionManager on SQLite", sessionManagerSuite(sqlBackend("sqlite-memory")));
const postgres = testDbKinds.find((k) => k.kind === "postgres")?.service;
describeWithService(
  postgres?.name ?? "PostgreSQL",
  postgres?.available ?? false,
  "SessionManager on PostgreSQL",
  sessionManagerSuite(sqlBackend("postgres")),
);
