/**
 * JWT and JWK Set shapes shared by the OAuth modules.
 * @module
 */

/**
 * A JSON Web Key (RFC 7517 §4). Only the members Crossauth reads are named; others are kept as is.
 */
export interface Jwk {
  /** Key type (RFC 7517 §4.1): `RSA`, `EC`, `OKP` or `oct`. */
  kty: string;
  /** Key ID (RFC 7517 §4.5), matched against the `kid` header of a JWS. */
  kid?: string;
  /** Algorithm the key is meant for (RFC 7517 §4.4); when present, only it is accepted. */
  alg?: string;
  /** Public key use (RFC 7517 §4.2); keys whose use is not `sig` are ignored. */
  use?: string;
  /** Key operations (RFC 7517 §4.3); keys that list operations without `verify` are ignored. */
  key_ops?: string[];
  /** Curve of EC and OKP keys (RFC 7518 §6.2.1.1, RFC 8037 §2). */
  crv?: string;
  /** Other members (`n`, `e`, `x`, `y`, `k`...). */
  [member: string]: unknown;
}

/** A JSON Web Key Set (RFC 7517 §5), as served at an authorization server's `jwks_uri`. */
export interface Jwks {
  /** The keys (RFC 7517 §5.1). */
  keys: Jwk[];
}

/**
 * A JWT together with its decoded payload (the reference document's `JWT`).
 *
 * A plain holder: constructing one verifies nothing. Obtain trusted payloads from
 * `OAuthTokenConsumer.tokenAuthorized`.
 */
export class JWT {
  /** The token in compact serialization (RFC 7519 §3), when known. */
  readonly token: string | undefined;
  /** The claims set (RFC 7519 §4). */
  readonly payload: Record<string, unknown>;

  /**
   * @param token - the compact token, if any
   * @param payload - its claims; default `{}`
   */
  constructor(token?: string, payload: Record<string, unknown> = {}) {
    this.token = token;
    this.payload = payload;
  }
}
