/**
 * The request log of the reference server: Fastify's pino logger, one JSON line per request, with
 * cookies, authorization headers and the tokens carried in URLs kept out.
 * @module
 */
import type { FastifyRequest } from "fastify";

/** Header paths pino censors, should a serializer ever include headers. */
export const REDACTED_LOG_PATHS: readonly string[] = Object.freeze([
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-crossauth-csrf"]',
  'res.headers["set-cookie"]',
]);

/** Endpoints whose last path segment is a single-use token (email links). */
const TOKEN_IN_PATH = /\/(verifyemail|resetpassword)\/[^/?#]+/gi;
/** Query parameters whose values are never logged. */
const SECRET_QUERY_NAME = /token|code|password|secret|otp|key|csrf/i;

/**
 * A URL safe to log: email-link tokens in the path and the values of secret-looking query
 * parameters replaced by `[REDACTED]`.
 * @param url - path and query of a request
 */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf("?");
  const path = (queryAt < 0 ? url : url.slice(0, queryAt)).replace(TOKEN_IN_PATH, "/$1/[REDACTED]");
  if (queryAt < 0) return path;
  const query = url
    .slice(queryAt + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_QUERY_NAME.test(name) ? `${name}=[REDACTED]` : pair;
    })
    .join("&");
  return `${path}?${query}`;
}

/** What the log says about a request: never its headers, cookies or body. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    remoteAddress: request.ip,
    userAgent: request.headers["user-agent"],
  };
}

/** A destination for log lines (tests capture them). */
export interface LogStream {
  write(line: string): void;
}

/**
 * Fastify `logger` options: the level, the request serializer and the redaction paths.
 * @param level - a pino level
 * @param stream - where lines go; default standard output
 */
export function loggerOptions(level: string, stream?: LogStream): Record<string, unknown> {
  return {
    level,
    redact: { paths: [...REDACTED_LOG_PATHS], censor: "[REDACTED]" },
    serializers: { req: serializeRequest },
    ...(stream ? { stream } : {}),
  };
}
