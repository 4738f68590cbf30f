/**
 * The README's "your own Fastify app" example, as written there, works.
 */
import {
  connectDatabase,
  KyselyKeyStorage,
  KyselyUserStorage,
  LocalPasswordAuthenticator,
  migrateToLatest,
  SessionManager,
} from "@crossauth/backend";
import { crossauthPlugin, requireUser } from "@crossauth/fastify";
import Fastify from "fastify";
import { afterAll, describe, expect, it } from "vitest";

describe("README example", () => {
  const db = connectDatabase(":memory:");
  const app = Fastify();
  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  it("serves login and protects an app route", async () => {
    await migrateToLatest(db);
    const userStorage = new KyselyUserStorage(db, { userEditableFields: ["email"] });
    const passwords = new LocalPasswordAuthenticator(userStorage, { pbkdf2Iterations: 1000 });
    const sessionManager = new SessionManager(
      new KyselyKeyStorage(db),
      { localpassword: passwords },
      { userStorage, secret: "ABCDEFGHIJKLMNOPQRSTUVWX", siteUrl: "https://example.com" },
    );
    await app.register(crossauthPlugin, { sessionManager });
    app.get("/account", { preHandler: requireUser }, async (request) => ({ user: request.user?.username }));

    await userStorage.createUser(
      { username: "alice", email: "alice@example.com", state: "active", factor1: "localpassword" },
      { password: await passwords.createPasswordForStorage("Secret-Pass-1") },
    );
    expect((await app.inject({ method: "GET", url: "/account" })).statusCode).toBe(401);

    const csrf = await app.inject({ method: "GET", url: "/api/getcsrftoken" });
    const csrfCookie = csrf.cookies.find((c) => c.name === "CSRFTOKEN")?.value ?? "";
    const login = await app.inject({
      method: "POST",
      url: "/api/login",
      headers: { "x-crossauth-csrf": (csrf.json() as { csrfToken: string }).csrfToken },
      cookies: { CSRFTOKEN: csrfCookie },
      payload: { username: "alice", password: "Secret-Pass-1" },
    });
    expect(login.statusCode).toBe(200);
    const session = login.cookies.find((c) => c.name === "SESSIONID")?.value ?? "";
    const account = await app.inject({ method: "GET", url: "/account", cookies: { SESSIONID: session } });
    expect(account.statusCode).toBe(200);
    expect(account.json()).toEqual({ user: "alice" });
  });
});
