/**
 * Verification keys: a Node key object with its key ID and the algorithms it may verify, imported
 * from a JWK (RFC 7517), a PEM public key or an HMAC secret.
 * @module
 */
import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import { algorithmsForKey, type JwkKeyType, type JwsAlgorithm, keyTypeOf } from "./algorithms.js";
import type { Jwk, Jwks } from "./jwt.js";

/** A key that verifies JWS signatures, pinned to the algorithms of its type. */
export interface VerificationKey {
  /** Key ID (RFC 7517 §4.5); absent for a configured single key. */
  readonly kid: string | undefined;
  /** JWK key type. */
  readonly keyType: JwkKeyType;
  /** The only algorithms this key verifies. Never empty, never `none`. */
  readonly algorithms: readonly JwsAlgorithm[];
  /** The key itself (public, or secret for HMAC). */
  readonly key: KeyObject;
}

/** A {@link VerificationKey} without the key material, as exposed by `OAuthTokenConsumer.keys`. */
export type VerificationKeyInfo = Omit<VerificationKey, "key">;

function invalidKey(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.InvalidKey, message);
}

/**
 * Wraps a key object, computing its algorithms and narrowing them to `pinned` when given.
 * @param key - a public or secret key
 * @param kid - its key ID
 * @param pinned - an algorithm the key is declared for (a JWK's `alg`, or `jwtKeyType`)
 * @throws CrossauthError `InvalidKey` for a key that verifies nothing, `UnsupportedAlgorithm` when
 *   `pinned` is not one of the key's algorithms
 */
export function verificationKey(key: KeyObject, kid?: string, pinned?: string): VerificationKey {
  const keyType = keyTypeOf(key);
  const algorithms = algorithmsForKey(key);
  if (!keyType || algorithms.length === 0) {
    throw invalidKey("Key cannot verify JWT signatures (unsupported type, curve or size)");
  }
  if (pinned === undefined)
    return Object.freeze({ kid, keyType, algorithms: Object.freeze(algorithms), key });
  const alg = algorithms.find((a) => a === pinned);
  if (!alg) {
    throw new CrossauthError(
      ErrorCode.UnsupportedAlgorithm,
      `Algorithm ${pinned} does not fit a ${keyType} key`,
    );
  }
  return Object.freeze({ kid, keyType, algorithms: Object.freeze([alg]), key });
}

/**
 * Imports one JWK for signature verification.
 *
 * Keys whose `use` is not `sig` or whose `key_ops` lack `verify` are refused; private members
 * (`d`, ...) are never kept (the public part is derived). A JWK with `alg` accepts only that algorithm.
 * @param jwk - the key
 * @param allowSymmetric - whether `oct` keys are accepted (true only for keys given in code: a
 *   symmetric key published on a JWKS endpoint would let anyone forge tokens)
 * @throws CrossauthError `InvalidKey` for an unusable or malformed key, `UnsupportedAlgorithm` when
 *   its `alg` does not fit its type
 */
export function importJwk(jwk: Jwk, allowSymmetric: boolean): VerificationKey {
  if (jwk === null || typeof jwk !== "object" || typeof jwk.kty !== "string") {
    throw invalidKey("JWK has no key type");
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== "string") throw invalidKey("JWK kid must be a string");
  if (jwk.alg !== undefined && typeof jwk.alg !== "string") throw invalidKey("JWK alg must be a string");
  if (jwk.use !== undefined && jwk.use !== "sig") throw invalidKey("JWK is not a signature key");
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) {
    throw invalidKey("JWK may not be used to verify");
  }
  let key: KeyObject;
  try {
    if (jwk.kty === "oct") {
      if (!allowSymmetric) throw invalidKey("Symmetric keys are not accepted from a JWKS endpoint");
      if (typeof jwk.k !== "string") throw invalidKey("Symmetric JWK has no key");
      key = createSecretKey(Buffer.from(jwk.k, "base64url"));
    } else {
      key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
    }
  } catch (e) {
    if (e instanceof CrossauthError) throw e;
    throw invalidKey("JWK could not be parsed");
  }
  return verificationKey(key, jwk.kid, jwk.alg);
}

/**
 * Imports the usable keys of a JWK Set; each key that cannot be used is skipped with a warning.
 * @param jwks - the set (its shape already checked)
 * @param allowSymmetric - whether `oct` keys are accepted (see {@link importJwk})
 * @returns the usable keys, possibly none
 */
export function importJwkSet(jwks: Jwks, allowSymmetric: boolean): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const jwk of jwks.keys) {
    try {
      keys.push(importJwk(jwk, allowSymmetric));
    } catch (e) {
      const error = CrossauthError.asCrossauthError(e);
      const kid = typeof jwk?.kid === "string" ? jwk.kid.slice(0, 64) : undefined;
      CrossauthLogger.logger.warn(j({ msg: "Skipping JWK", kid, reason: error.message }));
    }
  }
  if (keys.length === 0) CrossauthLogger.logger.warn(j({ msg: "JWK Set has no usable signature keys" }));
  return keys;
}

/**
 * Imports a PEM public key (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`) or X.509 certificate.
 * @param pem - the PEM text
 * @param pinned - the configured algorithm (`jwtKeyType`), if any
 * @throws CrossauthError `Configuration` when the text is not a public key or verifies nothing;
 *   `UnsupportedAlgorithm` when `pinned` does not fit the key
 */
export function importPublicKeyPem(pem: string, pinned?: string): VerificationKey {
  if (/PRIVATE KEY/.test(pem)) {
    throw new CrossauthError(ErrorCode.Configuration, "JWT public key must not be a private key");
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new CrossauthError(ErrorCode.Configuration, "JWT public key is not a valid PEM public key");
  }
  try {
    return verificationKey(key, undefined, pinned);
  } catch (e) {
    const error = CrossauthError.asCrossauthError(e);
    if (error.code === ErrorCode.InvalidKey) throw new CrossauthError(ErrorCode.Configuration, error.message);
    throw error;
  }
}

/**
 * Imports an HMAC secret (its UTF-8 bytes are the key).
 * @param secret - the secret
 * @param pinned - the configured algorithm (`jwtKeyType`), if any
 * @throws CrossauthError `Configuration` for a secret under 32 bytes (RFC 7518 §3.2: at least the
 *   hash size); `UnsupportedAlgorithm` when `pinned` is not an HS algorithm the secret is long enough for
 */
export function importSecretKey(secret: string, pinned?: string): VerificationKey {
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  try {
    return verificationKey(key, undefined, pinned);
  } catch (e) {
    const error = CrossauthError.asCrossauthError(e);
    if (error.code === ErrorCode.InvalidKey) {
      throw new CrossauthError(ErrorCode.Configuration, "JWT secret key must be at least 32 bytes");
    }
    throw error;
  }
}
