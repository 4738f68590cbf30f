/**
 * Bounded JSON fetches from an authorization server: a timeout, a size limit, and every failure
 * reported as a `Connection` error.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** Largest response body read from an authorization server (discovery documents and JWK Sets are small). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

function connectionError(message: string, cause?: unknown): CrossauthError {
  const error = new CrossauthError(ErrorCode.Connection, message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

async function readBounded(response: Response, limit: number, what: string): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw connectionError(`${what} is too large`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw connectionError(`${what} is too large`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * GETs a JSON object.
 * @param url - absolute http(s) URL
 * @param timeoutMs - abort after this many milliseconds (connection and body together)
 * @param what - what is fetched, for messages (e.g. `"OpenID configuration"`)
 * @returns the parsed JSON object
 * @throws CrossauthError `Connection` when the URL is not http(s), the server is unreachable, does
 *   not answer in time, answers with a non-2xx status, a body over 1 MiB, or anything but a JSON object
 */
export async function fetchJson(
  url: string,
  timeoutMs: number,
  what: string,
): Promise<Record<string, unknown>> {
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw connectionError(`${what} URL is invalid`);
  }
  if (parsedUrl.protocol !== "https:" && parsedUrl.protocol !== "http:") {
    throw connectionError(`${what} URL must be http or https`);
  }
  const signal = AbortSignal.timeout(Math.max(1, Math.round(timeoutMs)));
  let text: string;
  try {
    const response = await fetch(parsedUrl, { headers: { accept: "application/json" }, signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw connectionError(`${what} fetch from ${parsedUrl.origin} failed with status ${response.status}`);
    }
    text = await readBounded(response, MAX_RESPONSE_BYTES, what);
  } catch (e) {
    if (e instanceof CrossauthError) throw e;
    const timedOut = signal.aborted;
    throw connectionError(
      timedOut
        ? `${what} fetch from ${parsedUrl.origin} timed out`
        : `${what} could not be fetched from ${parsedUrl.origin}`,
      e,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw connectionError(`${what} is not valid JSON`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw connectionError(`${what} is not a JSON object`);
  }
  return body as Record<string, unknown>;
}
