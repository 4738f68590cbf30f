/**
 * Scenario 7, the peer: Better Auth with email and password, rate limit off, on a better-sqlite3
 * database, mounted on Fastify the way its documentation shows (a catch-all `/api/auth/*` route that
 * turns the Fastify request into a Fetch `Request` for `auth.handler`).
 *
 * With `BENCH_BA_MODE=seed` it creates the database instead (Better Auth's own migrations), signs one
 * user up through Better Auth, copies that user's rows to `BENCH_USERS` users (same password hash)
 * and adds `BENCH_SESSIONS` sessions, then reports a pool of session cookies and exits. The cookies
 * of the added sessions are signed as the cookies Better Auth sets are observed to be (token, `.`,
 * base64 HMAC-SHA256 of the token with the secret); each pool is checked against `get-session`
 * before use, and when that check fails the pool is made of real sign-ins instead.
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import Database from "better-sqlite3";
import Fastify from "fastify";
import {
  BENCH_PASSWORD,
  BETTER_AUTH_BASE,
  BETTER_AUTH_COOKIE,
  BETTER_AUTH_SESSION_PATH,
  BETTER_AUTH_SIGN_IN_PATH,
} from "../paths.js";
import { tellBench } from "../protocol.js";
import { failStartup, LOOPBACK, listenForBench, portFromEnv } from "./listen.js";

/** What the seeding run reports. */
export interface BetterAuthSeedInfo {
  users: number;
  sessions: number;
  /** `Cookie` header values of live sessions. */
  cookies: string[];
  /** Emails of seeded users (all with {@link BENCH_PASSWORD}). */
  emails: string[];
  /** How the cookie pool was made. */
  cookieSource: "signed" | "sign-in";
  /** Milliseconds one sign-in took while seeding. */
  signInMs: number;
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
}

function envInt(name: string): number {
  const value = Number(env(name));
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random 32-character alphanumeric id, like the ids Better Auth generates. */
function randomId(): string {
  const bytes = randomBytes(32);
  let id = "";
  for (const b of bytes) id += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return id;
}

const database = new Database(env("BENCH_BA_DB"));
const baseURL = `http://${LOOPBACK}:${portFromEnv()}`;
const secret = env("BENCH_BA_SECRET");
const options = {
  database,
  secret,
  baseURL,
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
};
const auth = betterAuth(options);

/** A session cookie as Better Auth signs it (checked against get-session before it is used). */
function signedCookie(token: string): string {
  const signature = createHmac("sha256", secret).update(token).digest("base64");
  return `${BETTER_AUTH_COOKIE}=${encodeURIComponent(`${token}.${signature}`)}`;
}

/** Signs in through Better Auth and returns the session cookie. */
async function signIn(email: string): Promise<string> {
  const response = await auth.handler(
    new Request(`${baseURL}${BETTER_AUTH_SIGN_IN_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: baseURL },
      body: JSON.stringify({ email, password: BENCH_PASSWORD }),
    }),
  );
  const setCookie = response.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0] ?? "";
  if (response.status !== 200 || !cookie.startsWith(`${BETTER_AUTH_COOKIE}=`)) {
    throw new Error(`Better Auth sign-in failed: ${response.status} ${await response.text()}`);
  }
  return cookie;
}

/** Whether get-session finds a session for the cookie. */
async function sessionFound(cookie: string): Promise<boolean> {
  const response = await auth.handler(
    new Request(`${baseURL}${BETTER_AUTH_SESSION_PATH}`, { headers: { cookie } }),
  );
  if (response.status !== 200) return false;
  const body = (await response.json()) as { session?: unknown } | null;
  return body !== null && typeof body === "object" && body.session !== undefined && body.session !== null;
}

async function seed(): Promise<BetterAuthSeedInfo> {
  const users = Math.max(1, envInt("BENCH_USERS"));
  const sessions = envInt("BENCH_SESSIONS");
  const pool = Math.max(1, envInt("BENCH_POOL"));
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const first = "user000000@example.com";
  await auth.api.signUpEmail({ body: { email: first, password: BENCH_PASSWORD, name: "user000000" } });
  const template = database.prepare(`select * from "account" where "providerId" = 'credential'`).get() as
    | { password: string }
    | undefined;
  if (!template) throw new Error("Better Auth sign-up stored no credential account");
  // The sign-up session is dropped: only the sessions added below are counted.
  database.prepare(`delete from "session"`).run();
  const now = new Date();
  const iso = now.toISOString();
  const expires = new Date(now.getTime() + 7 * 24 * 3600 * 1000).toISOString();
  const userIds = [
    (database.prepare(`select "id" from "user"`).get() as { id: string }).id,
    ...Array.from({ length: users - 1 }, randomId),
  ];
  const emails = userIds.map((_, i) => `user${String(i).padStart(6, "0")}@example.com`);
  const insertUser = database.prepare(
    `insert into "user" ("id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt") values (?, ?, ?, 0, null, ?, ?)`,
  );
  const insertAccount = database.prepare(
    `insert into "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt") values (?, ?, 'credential', ?, ?, ?, ?)`,
  );
  const insertSession = database.prepare(
    `insert into "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId") values (?, ?, ?, ?, ?, '', '', ?)`,
  );
  const step = Math.max(1, Math.floor(sessions / pool));
  const tokens: string[] = [];
  database.transaction(() => {
    for (let i = 1; i < users; i++) {
      const id = userIds[i] as string;
      insertUser.run(id, `user${String(i).padStart(6, "0")}`, emails[i], iso, iso);
      insertAccount.run(randomId(), id, id, template.password, iso, iso);
    }
    for (let i = 0; i < sessions; i++) {
      const token = randomId();
      insertSession.run(randomId(), expires, token, iso, iso, userIds[i % users]);
      if (i % step === 0 && tokens.length < pool) tokens.push(token);
    }
  })();
  const started = performance.now();
  const signInCookie = await signIn(emails[users - 1] as string);
  const signInMs = performance.now() - started;
  let cookies = tokens.map(signedCookie);
  let cookieSource: BetterAuthSeedInfo["cookieSource"] = "signed";
  if (cookies.length === 0 || !(await sessionFound(cookies[0] as string))) {
    cookieSource = "sign-in";
    cookies = [signInCookie];
    for (let i = 0; cookies.length < Math.min(pool, 20) && i < users; i++) {
      cookies.push(await signIn(emails[i] as string));
    }
  }
  if (!(await sessionFound(cookies[cookies.length - 1] as string))) {
    throw new Error("Better Auth get-session does not find the seeded sessions");
  }
  return { users, sessions, cookies, emails: emails.slice(0, 1000), cookieSource, signInMs };
}

try {
  if (process.env.BENCH_BA_MODE === "seed") {
    const info = await seed();
    database.close();
    await tellBench({ type: "bench:seeded", info });
    process.exit(0);
  }
  // As in Better Auth's Fastify integration guide (logger off, as on the other servers).
  const fastify = Fastify({ logger: false });
  fastify.route({
    method: ["GET", "POST"],
    url: `${BETTER_AUTH_BASE}/*`,
    async handler(request, reply) {
      try {
        const url = new URL(request.url, `http://${request.headers.host}`);
        const headers = new Headers();
        for (const [key, value] of Object.entries(request.headers)) {
          if (value) headers.append(key, value.toString());
        }
        const req = new Request(url.toString(), {
          method: request.method,
          headers,
          ...(request.body ? { body: JSON.stringify(request.body) } : {}),
        });
        const response = await auth.handler(req);
        reply.status(response.status);
        response.headers.forEach((value, key) => {
          reply.header(key, value);
        });
        return reply.send(response.body ? await response.text() : null);
      } catch (error) {
        fastify.log.error({ err: error }, "Authentication Error");
        return reply.status(500).send({ error: "Internal authentication error", code: "AUTH_FAILURE" });
      }
    },
  });
  fastify.addHook("onClose", async () => {
    database.close();
  });
  await fastify.ready();
  await listenForBench(fastify);
} catch (e) {
  await failStartup(e);
}
