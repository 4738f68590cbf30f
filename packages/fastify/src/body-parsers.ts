/**
 * The body policy of Crossauth endpoints: only `application/json` objects and
 * `application/x-www-form-urlencoded` forms; anything malformed is a 400 `BadRequest`, never a 500.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** A field name that would reach `Object.prototype` if a handler copied the body carelessly. */
const FORBIDDEN_FIELD = "__proto__";

function badRequest(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.BadRequest, message);
}

function decodeFormComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    throw badRequest("The form body is malformed");
  }
}

/**
 * Parses an `application/x-www-form-urlencoded` body. A field given more than once becomes an array
 * of its values (handlers refuse non-text values with `FormEntry`).
 * @param text - the body
 * @returns the fields, as own properties of a plain object
 * @throws CrossauthError `BadRequest` for bad percent-encoding or a `__proto__` field
 */
export function parseFormBody(text: string): Record<string, unknown> {
  const fields = new Map<string, string | string[]>();
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeFormComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeFormComponent(eq < 0 ? "" : pair.slice(eq + 1));
    if (name === FORBIDDEN_FIELD) throw badRequest("The form body has a forbidden field name");
    const existing = fields.get(name);
    if (existing === undefined) fields.set(name, value);
    else if (Array.isArray(existing)) existing.push(value);
    else fields.set(name, [existing, value]);
  }
  return Object.fromEntries(fields);
}

/**
 * Parses an `application/json` body, which must be an object. An empty body is `{}`.
 * @param text - the body
 * @throws CrossauthError `BadRequest` for malformed JSON, a value that is not an object, or a
 *   `__proto__` key
 */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let forbidden = false;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (key === FORBIDDEN_FIELD) forbidden = true;
      return v;
    });
  } catch {
    throw badRequest("The JSON body is malformed");
  }
  if (forbidden) throw badRequest("The JSON body has a forbidden key");
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("The JSON body must be an object");
  }
  return value as Record<string, unknown>;
}

/**
 * The error shape and status for a failure before a handler ran (body parsing, limits, content type):
 * 413 and 415 keep their status with code `BadRequest`; other client errors are 400 `BadRequest`;
 * anything else is a 500 `UnknownError` with a generic message.
 * @param error - what Fastify or a parser raised
 */
export function requestErrorResponse(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof CrossauthError) return { status: error.httpStatus, body: error.toJSON() };
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (status === 413) return { status, body: badRequest("The request body is too large").toJSON() };
  if (status === 415) {
    return {
      status,
      body: badRequest(
        "Unsupported content type: send application/json or application/x-www-form-urlencoded",
      ).toJSON(),
    };
  }
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status: 400, body: badRequest("The request is invalid").toJSON() };
  }
  return { status: 500, body: new CrossauthError(ErrorCode.UnknownError).toJSON() };
}
