/**
 * `OAuthTokenConsumer`: validates JWTs issued by an OAuth authorization server (RFC 9068 access
 * tokens, and refresh or ID tokens carrying a `type` claim) — for resource servers and clients.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j, type OpenIdConfiguration } from "@crossauth/common";
import { decodeJwt, type JWTPayload } from "jose";
import { ParamType, setParameter } from "../config/index.js";
import { hash } from "../crypto/index.js";
import type { KeyStorage } from "../storage/key-storage.js";
import { checkJwks, checkOpenIdConfiguration, fetchJwks, fetchOpenIdConfiguration } from "./discovery.js";
import type { Jwks } from "./jwt.js";
import { JwtKeyStore } from "./key-store.js";
import { checkStaticKeySource, loadStaticKey, type StaticKeySource } from "./static-key.js";
import type { OAuthTokenConsumerOptions } from "./token-consumer-options.js";
import { decodeTokenHeader, MAX_TOKEN_LENGTH, type TokenType, validateToken } from "./token-validation.js";
import { importJwkSet, type VerificationKey, type VerificationKeyInfo } from "./verification-key.js";

const TOKEN_TYPES: readonly string[] = ["access", "refresh", "id"];

function configError(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.Configuration, message);
}

/** Reads every option (code, else `CROSSAUTH_*` variable, else default) into a plain record. */
function readSettings(options: OAuthTokenConsumerOptions): Record<string, unknown> {
  const opts = options as Record<string, unknown>;
  const s: Record<string, unknown> = {
    clockTolerance: 10,
    persistAccessToken: false,
    jwksRefreshInterval: 30,
    fetchTimeout: 10,
  };
  setParameter("authServerBaseUrl", ParamType.String, s, opts, "AUTH_SERVER_BASE_URL", true);
  for (const [name, env] of [
    ["jwtKeyType", "JWT_KEY_TYPE"],
    ["jwtSecretKey", "JWT_SECRET_KEY"],
    ["jwtSecretKeyFile", "JWT_SECRET_KEY_FILE"],
    ["jwtPublicKey", "JWT_PUBLIC_KEY"],
    ["jwtPublicKeyFile", "JWT_PUBLIC_KEY_FILE"],
  ] as const) {
    setParameter(name, ParamType.String, s, opts, env);
  }
  setParameter("clockTolerance", ParamType.Number, s, opts, "CLOCK_TOLERANCE");
  setParameter("persistAccessToken", ParamType.Boolean, s, opts, "PERSIST_ACCESS_TOKEN");
  setParameter("oidcConfig", ParamType.Json, s, opts, "OIDC_CONFIG");
  setParameter("jwks", ParamType.Json, s, opts, "JWKS");
  setParameter("jwksRefreshInterval", ParamType.Number, s, opts, "JWKS_REFRESH_INTERVAL");
  setParameter("fetchTimeout", ParamType.Number, s, opts, "FETCH_TIMEOUT");
  return s;
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw configError(`${name} must be a non-negative number`);
  }
  return value;
}

/**
 * Validates OAuth JWTs: {@link tokenAuthorized} returns a token's payload when every rule passes
 * (see `validateToken`), `undefined` otherwise — it never throws.
 *
 * Keys come from, in order: a configured key (`jwtSecretKey(File)` / `jwtPublicKey(File)`), used
 * for every token; a static `jwks`; or the authorization server's JWK Set, found through OpenID
 * discovery and refreshed (rate-limited) when a token names an unknown `kid`.
 */
export class OAuthTokenConsumer {
  /** The value the `aud` claim must be or contain. */
  readonly audience: string;
  /** The only accepted issuer, and the base of discovery. */
  readonly authServerBaseUrl: string;
  /** Allowed clock skew in seconds. */
  readonly clockTolerance: number;
  /** Whether access tokens must be live in key storage. */
  readonly persistAccessToken: boolean;
  private readonly keyStorage: KeyStorage | undefined;
  private readonly staticKeySource: StaticKeySource | undefined;
  private readonly staticJwks: Jwks | undefined;
  private readonly fetchTimeoutMs: number;
  private readonly now: () => Date;
  private readonly store: JwtKeyStore;
  private config: OpenIdConfiguration | undefined;
  private staticKeyLoad: Promise<void> | undefined;
  private staticKeyReady = false;

  /**
   * @param audience - the `aud` this consumer accepts (e.g. the resource server's URL)
   * @param options - see {@link OAuthTokenConsumerOptions}
   * @throws CrossauthError `Configuration` without an audience or `authServerBaseUrl`, for an invalid
   *   URL, negative durations, `persistAccessToken` without `keyStorage`, several configured keys, a
   *   bad `jwtKeyType`, or an `oidcConfig` / `jwks` that does not check out
   */
  constructor(audience: string, options: OAuthTokenConsumerOptions = {}) {
    if (typeof audience !== "string" || audience === "")
      throw configError("OAuthTokenConsumer needs an audience");
    const s = readSettings(options);
    this.audience = audience;
    this.authServerBaseUrl = s.authServerBaseUrl as string;
    if (!URL.canParse(this.authServerBaseUrl)) throw configError("authServerBaseUrl is not a valid URL");
    this.clockTolerance = nonNegative(s.clockTolerance, "clockTolerance");
    this.fetchTimeoutMs = nonNegative(s.fetchTimeout, "fetchTimeout") * 1000;
    if (this.fetchTimeoutMs === 0) throw configError("fetchTimeout must be positive");
    this.persistAccessToken = s.persistAccessToken === true;
    this.keyStorage = options.keyStorage;
    if (this.persistAccessToken && !this.keyStorage) throw configError("persistAccessToken needs keyStorage");
    this.now = options.now ?? (() => new Date());
    const source = s as StaticKeySource;
    this.staticKeySource = checkStaticKeySource(source) ? source : undefined;
    if (s.oidcConfig) {
      this.config = checkOpenIdConfiguration(s.oidcConfig, this.authServerBaseUrl, ErrorCode.Configuration);
    }
    this.staticJwks = s.jwks ? checkJwks(s.jwks, ErrorCode.Configuration) : undefined;
    this.store = new JwtKeyStore({
      fetchKeys: () => this.fetchKeys(),
      minRefreshIntervalMs: nonNegative(s.jwksRefreshInterval, "jwksRefreshInterval") * 1000,
      now: this.now,
    });
  }

  /** The OpenID configuration in use, once loaded. */
  get oidcConfig(): OpenIdConfiguration | undefined {
    return this.config;
  }

  /** The loaded verification keys: `kid`, key type and accepted algorithms (not the key material). */
  get keys(): VerificationKeyInfo[] {
    return this.store.keys.map(({ kid, keyType, algorithms }) => ({ kid, keyType, algorithms }));
  }

  /**
   * Sets the OpenID configuration, or fetches it from `<authServerBaseUrl>/.well-known/openid-configuration`
   * (OpenID Connect Discovery 1.0 §4). Its `issuer` must equal `authServerBaseUrl`.
   * @param oidcConfig - the configuration, or undefined to fetch it
   * @returns the configuration now in use
   * @throws CrossauthError `Connection` when the fetch fails or the fetched document is invalid;
   *   `Configuration` when a given document is invalid
   */
  async loadConfig(oidcConfig?: OpenIdConfiguration): Promise<OpenIdConfiguration> {
    this.config = oidcConfig
      ? checkOpenIdConfiguration(oidcConfig, this.authServerBaseUrl, ErrorCode.Configuration)
      : await fetchOpenIdConfiguration(this.authServerBaseUrl, this.fetchTimeoutMs);
    return this.config;
  }

  /**
   * Sets the verification keys from a JWK Set, or fetches it from the configuration's `jwks_uri`.
   * Replaces the previous keys. Unusable keys are skipped with a warning.
   * @param jwks - the keys (symmetric ones allowed), or undefined to fetch them (symmetric ones refused)
   * @throws CrossauthError `Connection` when the configuration is not loaded, or the fetch fails or
   *   returns no JWK Set; `Configuration` when a given set is malformed
   */
  async loadJwks(jwks?: Jwks): Promise<void> {
    if (jwks) {
      this.store.replace(importJwkSet(checkJwks(jwks, ErrorCode.Configuration), true));
      return;
    }
    if (!this.config)
      throw new CrossauthError(ErrorCode.Connection, "OpenID configuration has not been loaded");
    this.store.replace(importJwkSet(await fetchJwks(this.config.jwks_uri, this.fetchTimeoutMs), false));
  }

  /**
   * Loads the verification keys: the configured key (reading its file), else the `jwks` option, else
   * the authorization server's (fetching its configuration first when needed).
   * @throws CrossauthError `Configuration` for a bad configured key or file; `Connection` when a
   *   fetch fails
   */
  async loadKeys(): Promise<void> {
    if (this.staticKeySource) {
      const key = await loadStaticKey(this.staticKeySource);
      if (key) this.store.setStaticKey(key);
      this.staticKeyReady = true;
      return;
    }
    if (this.staticJwks) return this.loadJwks(this.staticJwks);
    if (!this.config) await this.loadConfig();
    await this.loadJwks();
  }

  /**
   * Validates a token: signature by the key matching its `kid` (or the one configured key) with an
   * algorithm of that key's type; `exp`/`nbf` within `clockTolerance`; `iss` equal to
   * `authServerBaseUrl`; `aud` containing the audience; `type` equal to `tokenType`; and, for access
   * tokens with `persistAccessToken`, `access:` + hash(jti) live in key storage.
   *
   * Never throws: a refused token gives `undefined` and a log line with the reason and the hash of
   * its `jti` (never the token). Keys are loaded on first use.
   * @param token - the JWT in compact serialization
   * @param tokenType - the required `type` claim
   * @returns the payload, or `undefined`
   */
  async tokenAuthorized(token: string, tokenType: TokenType): Promise<JWTPayload | undefined> {
    try {
      if (!TOKEN_TYPES.includes(tokenType))
        throw new CrossauthError(ErrorCode.BadRequest, "Unknown token type");
      await this.ensureStaticKeys();
      const payload = await validateToken(token, {
        issuer: this.authServerBaseUrl,
        audience: this.audience,
        clockTolerance: this.clockTolerance,
        tokenType,
        now: this.now(),
        keyStorage: this.persistAccessToken ? this.keyStorage : undefined,
        keyFor: (kid, alg) => this.store.keyFor(kid, alg),
      });
      CrossauthLogger.logger.debug(
        j({ msg: "Token accepted", tokenType, ...this.jtiHash(token, tokenType) }),
      );
      return payload;
    } catch (e) {
      this.logRefusal(e, token, tokenType);
      return undefined;
    }
  }

  /**
   * Decodes a token's JOSE header without verifying anything.
   * @param token - a JWT in compact serialization
   * @returns the header (`alg`, `kid`, `typ`...)
   * @throws CrossauthError `InvalidToken` when the token is malformed
   */
  static decodeHeader(token: string): Record<string, unknown> {
    return decodeTokenHeader(token);
  }

  /**
   * The standard Crossauth hash (SHA-256, base64url): how `jti`s are stored and logged.
   * @param plaintext - text to hash
   */
  static hash(plaintext: string): string {
    return hash(plaintext);
  }

  /**
   * Instance alias of {@link OAuthTokenConsumer.hash}.
   * @param plaintext - text to hash
   */
  hash(plaintext: string): string {
    return hash(plaintext);
  }

  /** Keys for a refresh: the static `jwks` again, else discovery (when needed) and the JWK Set. */
  private async fetchKeys(): Promise<VerificationKey[]> {
    if (this.staticJwks) return importJwkSet(this.staticJwks, true);
    const config = this.config ?? (await this.loadConfig());
    return importJwkSet(await fetchJwks(config.jwks_uri, this.fetchTimeoutMs), false);
  }

  /** Loads the configured key once (retrying after a failure, e.g. a key file not yet mounted). */
  private async ensureStaticKeys(): Promise<void> {
    if (!this.staticKeySource || this.staticKeyReady) return;
    this.staticKeyLoad ??= this.loadKeys().catch((e: unknown) => {
      this.staticKeyLoad = undefined;
      throw e;
    });
    await this.staticKeyLoad;
  }

  private jtiHash(token: string, tokenType: string): Record<string, string> {
    try {
      const jti = decodeJwt(token).jti;
      const field = TOKEN_TYPES.includes(tokenType) ? `${tokenType}TokenHash` : "tokenHash";
      return typeof jti === "string" ? { [field]: hash(jti) } : {};
    } catch {
      return {};
    }
  }

  private logRefusal(e: unknown, token: string, tokenType: string): void {
    const error = CrossauthError.asCrossauthError(e);
    const record = j({
      msg: "Token refused",
      tokenType: TOKEN_TYPES.includes(tokenType) ? tokenType : undefined,
      reason: error.message,
      errorCode: error.code,
      errorCodeName: error.codeName,
      ...(typeof token === "string" && token.length <= MAX_TOKEN_LENGTH
        ? this.jtiHash(token, tokenType)
        : {}),
    });
    if (error.code === ErrorCode.Connection || error.code === ErrorCode.Configuration) {
      CrossauthLogger.logger.error(record);
    } else if (error.code === ErrorCode.Expired) {
      CrossauthLogger.logger.debug(record);
    } else {
      CrossauthLogger.logger.warn(record);
    }
  }
}
