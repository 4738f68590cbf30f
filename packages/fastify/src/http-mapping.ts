/**
 * Between Fastify and the framework-neutral endpoint table: a Fastify request as a raw endpoint
 * request, and an endpoint result as a Fastify reply.
 * @module
 */
import {
  type EndpointResult,
  type EndpointTable,
  parseCookieHeader,
  type RawEndpointRequest,
} from "@crossauth/backend";
import type { FastifyReply, FastifyRequest } from "fastify";

/** Headers every Crossauth response carries: no sniffing, no framing, no caching, same-origin referrers. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; " +
    "base-uri 'none'; frame-ancestors 'none'",
  "cache-control": "no-store",
});

/** The first value of each query parameter (`__proto__` is ignored). */
function queryOf(url: string): Record<string, string> {
  const q = url.indexOf("?");
  const query: Record<string, string> = {};
  if (q < 0) return query;
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
    if (name !== "__proto__" && !Object.hasOwn(query, name)) query[name] = value;
  }
  return query;
}

/** Request headers with lower-case names; repeated headers joined with `, `. */
function headersOf(request: FastifyRequest): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/**
 * A Fastify request as the endpoint table wants it. Methods other than POST are treated as GET (HEAD
 * is answered by the GET route); a missing or non-object body is `{}`; cookies are parsed from the `Cookie` header (first occurrence of a name wins).
 * @param request - the Fastify request
 * @param params - path parameters of the matched route
 */
export function rawRequestOf(
  request: FastifyRequest,
  params: Record<string, string> = {},
): RawEndpointRequest {
  const url = request.url;
  const q = url.indexOf("?");
  const body = request.body;
  return {
    method: request.method === "POST" ? "POST" : "GET",
    path: q < 0 ? url : url.slice(0, q),
    url,
    params,
    query: queryOf(url),
    body:
      body !== null && typeof body === "object" && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : {},
    headers: headersOf(request),
    cookies: Object.fromEntries(parseCookieHeader(request.headers.cookie)),
  };
}

/**
 * Adds a result's headers and `Set-Cookie` values (with the configured cookie attributes) to a reply.
 * @param reply - the Fastify reply
 * @param table - the endpoint table (knows the cookie attributes)
 * @param result - cookies and headers to send
 */
export function applyCookiesAndHeaders(
  reply: FastifyReply,
  table: EndpointTable,
  result: Pick<EndpointResult, "setCookies" | "clearCookies" | "headers">,
): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
  const cookies = table.setCookieHeaders(result);
  if (cookies.length > 0) reply.header("set-cookie", cookies);
}

/**
 * Sends an endpoint result: a rendered page (`text/html; charset=utf-8`), a redirect with `Location`,
 * or JSON; with its status, headers and cookies.
 * @throws CrossauthError `Configuration` when a page template cannot be rendered (nothing is sent)
 */
export async function sendResult(
  reply: FastifyReply,
  table: EndpointTable,
  result: EndpointResult,
): Promise<FastifyReply> {
  const html = result.page ? await table.pages.render(result.page.template, result.page.data) : undefined;
  reply.code(result.status);
  applyCookiesAndHeaders(reply, table, result);
  if (result.redirect !== undefined) return reply.header("location", result.redirect).send();
  if (html !== undefined) return reply.type("text/html; charset=utf-8").send(html);
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(result.json ?? {}));
}
