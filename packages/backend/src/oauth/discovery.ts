/**
 * OpenID Provider discovery (OpenID Connect Discovery 1.0 §4, RFC 8414 §3) and JWK Set download
 * (RFC 7517 §5).
 * @module
 */
import { CrossauthError, ErrorCode, type OpenIdConfiguration } from "@crossauth/common";
import { fetchJson } from "./http-fetch.js";
import type { Jwks } from "./jwt.js";

/** Path of the discovery document under the issuer (OpenID Connect Discovery 1.0 §4). */
export const OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration";

/**
 * The discovery URL of an issuer: the issuer without trailing slashes, then
 * `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4.1).
 * @param issuer - the authorization server's base URL
 */
export function openIdConfigurationUrl(issuer: string): string {
  return issuer.replace(/\/+$/, "") + OPENID_CONFIGURATION_PATH;
}

/**
 * Checks a discovery document: its `issuer` must be identical to the expected issuer (OpenID
 * Connect Discovery 1.0 §4.3: otherwise the document must not be used), and `jwks_uri` an http(s) URL.
 * @param config - the document
 * @param issuer - the configured `authServerBaseUrl`
 * @param code - the error code to raise (`Connection` for a fetched document, `Configuration` for one
 *   given in code)
 * @returns the document, typed
 * @throws CrossauthError with `code` when it is not an object, its issuer differs or `jwks_uri` is bad
 */
export function checkOpenIdConfiguration(
  config: unknown,
  issuer: string,
  code: ErrorCode,
): OpenIdConfiguration {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new CrossauthError(code, "OpenID configuration is not an object");
  }
  const doc = config as Record<string, unknown>;
  if (doc.issuer !== issuer) {
    throw new CrossauthError(code, "OpenID configuration issuer does not match authServerBaseUrl");
  }
  let jwksUri: URL | undefined;
  try {
    jwksUri = typeof doc.jwks_uri === "string" ? new URL(doc.jwks_uri) : undefined;
  } catch {
    jwksUri = undefined;
  }
  if (!jwksUri || (jwksUri.protocol !== "https:" && jwksUri.protocol !== "http:")) {
    throw new CrossauthError(code, "OpenID configuration has no valid jwks_uri");
  }
  return doc as unknown as OpenIdConfiguration;
}

/**
 * Downloads and checks an issuer's discovery document.
 * @param issuer - the authorization server's base URL (`authServerBaseUrl`)
 * @param timeoutMs - fetch timeout in milliseconds
 * @throws CrossauthError `Connection` when the fetch fails or the document is invalid
 */
export async function fetchOpenIdConfiguration(
  issuer: string,
  timeoutMs: number,
): Promise<OpenIdConfiguration> {
  const doc = await fetchJson(openIdConfigurationUrl(issuer), timeoutMs, "OpenID configuration");
  return checkOpenIdConfiguration(doc, issuer, ErrorCode.Connection);
}

/**
 * Checks the shape of a JWK Set: an object whose `keys` is an array of objects.
 * @param jwks - the set
 * @param code - the error code to raise
 * @throws CrossauthError with `code` otherwise
 */
export function checkJwks(jwks: unknown, code: ErrorCode): Jwks {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((k) => k === null || typeof k !== "object" || Array.isArray(k))) {
    throw new CrossauthError(code, "JWK Set must have a keys array of objects");
  }
  return jwks as Jwks;
}

/**
 * Downloads a JWK Set.
 * @param jwksUri - the `jwks_uri` of the discovery document
 * @param timeoutMs - fetch timeout in milliseconds
 * @throws CrossauthError `Connection` when the fetch fails or the body is not a JWK Set
 */
export async function fetchJwks(jwksUri: string, timeoutMs: number): Promise<Jwks> {
  return checkJwks(await fetchJson(jwksUri, timeoutMs, "JWK Set"), ErrorCode.Connection);
}
