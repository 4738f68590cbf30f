/**
 * Options of `OAuthTokenConsumer`. Each can also come from a `CROSSAUTH_*` environment variable
 * (option in UPPER_SNAKE); options given in code win.
 * @module
 */
import type { OpenIdConfiguration } from "@crossauth/common";
import type { KeyStorage } from "../storage/key-storage.js";
import type { Jwks } from "./jwt.js";

/** Options of `OAuthTokenConsumer`. */
export interface OAuthTokenConsumerOptions {
  /**
   * The authorization server's base URL: the only accepted `iss` (RFC 7519 §4.1.1), and where
   * discovery happens. Required (env `CROSSAUTH_AUTH_SERVER_BASE_URL`).
   */
  authServerBaseUrl?: string;
  /**
   * JWS algorithm of the configured key (e.g. `RS256`, `ES256`, `HS256`); when set, that key accepts
   * only this algorithm. Ignored without `jwtSecretKey(File)` / `jwtPublicKey(File)`
   * (env `CROSSAUTH_JWT_KEY_TYPE`).
   */
  jwtKeyType?: string;
  /** HMAC secret shared with the authorization server, at least 32 bytes (env `CROSSAUTH_JWT_SECRET_KEY`). */
  jwtSecretKey?: string;
  /** File holding the HMAC secret (env `CROSSAUTH_JWT_SECRET_KEY_FILE`). */
  jwtSecretKeyFile?: string;
  /** PEM public key of the authorization server (env `CROSSAUTH_JWT_PUBLIC_KEY`). */
  jwtPublicKey?: string;
  /** File holding the PEM public key (env `CROSSAUTH_JWT_PUBLIC_KEY_FILE`). */
  jwtPublicKeyFile?: string;
  /** Allowed clock skew for `exp` and `nbf`, in seconds; default 10 (env `CROSSAUTH_CLOCK_TOLERANCE`). */
  clockTolerance?: number;
  /**
   * Whether access tokens must also be present (as `access:` + hash(jti)) and unexpired in
   * `keyStorage`, so that revoked tokens stop working; default false (env `CROSSAUTH_PERSIST_ACCESS_TOKEN`).
   */
  persistAccessToken?: boolean;
  /** Storage of persisted access tokens; required with `persistAccessToken`. */
  keyStorage?: KeyStorage;
  /**
   * A static OpenID configuration, instead of fetching it from
   * `<authServerBaseUrl>/.well-known/openid-configuration` (env `CROSSAUTH_OIDC_CONFIG`, JSON).
   */
  oidcConfig?: OpenIdConfiguration;
  /**
   * A static JWK Set, instead of fetching it from the configuration's `jwks_uri`. Symmetric (`oct`)
   * keys are accepted only here (env `CROSSAUTH_JWKS`, JSON).
   */
  jwks?: Jwks;
  /**
   * Minimum time between two JWK Set downloads triggered by unknown `kid`s, in seconds; default 30
   * (env `CROSSAUTH_JWKS_REFRESH_INTERVAL`).
   */
  jwksRefreshInterval?: number;
  /** Timeout of each fetch from the authorization server, in seconds; default 10 (env `CROSSAUTH_FETCH_TIMEOUT`). */
  fetchTimeout?: number;
  /** Clock, for tests; default the system clock. */
  now?: () => Date;
}
