/**
 * Paths of the routes the benchmark drives, shared by the servers and the driver.
 * @module
 */

/** The bare Fastify route (scenario 1). */
export const BASELINE_PATH = "/bench/json";
/** The bench's protected route on the reference server (`requireUser`). */
export const PROTECTED_PATH = "/bench/protected";
/** The reference server's JSON login. */
export const LOGIN_PATH = "/api/login";
/** The reference server's CSRF token endpoint. */
export const CSRF_PATH = "/api/getcsrftoken";
/** Better Auth's mount point on Fastify, as its documentation shows. */
export const BETTER_AUTH_BASE = "/api/auth";
/** Better Auth's session endpoint. */
export const BETTER_AUTH_SESSION_PATH = `${BETTER_AUTH_BASE}/get-session`;
/** Better Auth's email and password sign-in. */
export const BETTER_AUTH_SIGN_IN_PATH = `${BETTER_AUTH_BASE}/sign-in/email`;
/** Better Auth's session cookie name (default prefix `better-auth`). */
export const BETTER_AUTH_COOKIE = "better-auth.session_token";
/** Password of every seeded user. */
export const BENCH_PASSWORD = "Bench-password-1";
