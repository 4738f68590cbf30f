/**
 * Test helper: the reference server over a temporary SQLite file, with captured log lines and
 * captured console emails, plus small HTTP helpers (CSRF token, login, cookies).
 */
import { UserState } from "@crossauth/common";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { vi } from "vitest";
import { readServerConfig } from "../src/config.js";
import { type CreateServerOptions, createServer } from "../src/server.js";
import { EnvFixture } from "./env-fixture.js";

/** A password the default policy accepts. */
export const PASSWORD = "Correct-Horse-9";

/** What a test needs: the server, its environment, logs and printed emails. */
export interface ServerFixture {
  app: FastifyInstance;
  env: EnvFixture;
  /** Log lines, parsed. */
  logs: Record<string, unknown>[];
  /** What was written to standard output (the console email transport). */
  printed: string[];
  /** Closes the server and restores the environment. */
  close(): Promise<void>;
}

/** Captures standard output (where console emails go) until `vi.restoreAllMocks()`. */
export function captureStdout(): string[] {
  const printed: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  return printed;
}

/**
 * Starts the server in a fresh environment.
 * @param vars - environment variables to set
 * @param options - createServer options (the log stream is set here)
 * @param env - an environment to reuse (e.g. to restart over the same data directory)
 */
export async function startServer(
  vars: Record<string, string> = {},
  options: CreateServerOptions = {},
  env: EnvFixture = new EnvFixture(vars),
): Promise<ServerFixture> {
  const logs: Record<string, unknown>[] = [];
  const printed = captureStdout();
  let app: FastifyInstance;
  try {
    app = await createServer(readServerConfig(), {
      ...options,
      logStream: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
  } catch (e) {
    vi.restoreAllMocks();
    env.restore();
    throw e;
  }
  return {
    app,
    env,
    logs,
    printed,
    async close() {
      await app.close();
      vi.restoreAllMocks();
      env.restore();
    },
  };
}

/** The `Set-Cookie` header lines of a response. */
export function setCookies(response: LightMyRequestResponse): string[] {
  const header = response.headers["set-cookie"];
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

/** A `Cookie` header made from a response's cookies (and earlier ones). */
export function cookieHeader(response: LightMyRequestResponse, earlier: Record<string, string> = {}): string {
  const jar = { ...earlier };
  for (const c of response.cookies) jar[c.name] = c.value;
  return Object.entries(jar)
    .filter(([, value]) => value !== "")
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

/** A CSRF cookie and the matching header value, from `GET /api/getcsrftoken`. */
export async function csrf(app: FastifyInstance): Promise<{ cookie: string; token: string }> {
  const response = await app.inject({ method: "GET", url: "/api/getcsrftoken" });
  const token = (response.json() as { csrfToken: string }).csrfToken;
  return { cookie: cookieHeader(response), token };
}

/** Posts JSON with a valid CSRF token (and extra cookies). */
export async function postJson(
  app: FastifyInstance,
  url: string,
  body: Record<string, unknown>,
  cookies = "",
): Promise<LightMyRequestResponse> {
  const { cookie, token } = await csrf(app);
  return app.inject({
    method: "POST",
    url,
    headers: {
      "content-type": "application/json",
      "x-crossauth-csrf": token,
      cookie: cookies ? `${cookie}; ${cookies}` : cookie,
    },
    payload: JSON.stringify(body),
  });
}

/** Creates an active user with a password, directly in storage. */
export async function createUser(app: FastifyInstance, username: string, email = `${username}@example.com`) {
  const { userStorage, passwordAuthenticator } = app.crossauthServices;
  const password = await passwordAuthenticator.createPasswordForStorage(PASSWORD);
  return userStorage.createUser(
    { username, email, state: UserState.active, factor1: "localpassword" },
    { password },
  );
}

/** Logs in through `api/login`; returns the response and the cookies to send afterwards. */
export async function login(app: FastifyInstance, username: string) {
  const response = await postJson(app, "/api/login", { username, password: PASSWORD });
  return { response, cookies: cookieHeader(response) };
}
