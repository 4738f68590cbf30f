/**
 * JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) accepted for each kind of verification key.
 * A key accepts only the algorithms of its own family: `none` is never accepted, and an HMAC
 * algorithm is never accepted with a public key (the "HS256 signed with the RSA public key" attack).
 * @module
 */
import type { KeyObject } from "node:crypto";

/** Every JWS algorithm Crossauth verifies. `none` is deliberately absent. */
export const JWS_ALGORITHMS = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "HS256",
  "HS384",
  "HS512",
] as const);

/** A JWS algorithm Crossauth verifies. */
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** The JWK key type (RFC 7518 §6.1, RFC 8037 §2) of a verification key. */
export type JwkKeyType = "RSA" | "EC" | "OKP" | "oct";

const RSA: readonly JwsAlgorithm[] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const RSA_PSS: readonly JwsAlgorithm[] = ["PS256", "PS384", "PS512"];
const HMAC: readonly JwsAlgorithm[] = ["HS256", "HS384", "HS512"];
/** Node's curve names → the one ECDSA algorithm of each curve (RFC 7518 §3.4). */
const EC_BY_CURVE: Readonly<Record<string, JwsAlgorithm>> = {
  prime256v1: "ES256",
  secp384r1: "ES384",
  secp521r1: "ES512",
};
/** Minimum HMAC key length in bytes for each algorithm: the hash size (RFC 7518 §3.2). */
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
/** Smallest RSA modulus accepted (RFC 7518 §3.3, §3.5). */
export const MIN_RSA_BITS = 2048;

/**
 * Whether a value names an algorithm Crossauth verifies.
 * @param alg - anything, e.g. a JWS header's `alg`
 */
export function isJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === "string" && (JWS_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * Whether an algorithm is an HMAC (symmetric) one.
 * @param alg - a JWS algorithm name
 */
export function isHmacAlgorithm(alg: string): boolean {
  return (HMAC as readonly string[]).includes(alg);
}

/**
 * The JWK key type of a Node key object.
 * @param key - a public or secret key
 * @returns the type, or `undefined` for keys that cannot verify JWS (private keys, unsupported kinds)
 */
export function keyTypeOf(key: KeyObject): JwkKeyType | undefined {
  if (key.type === "secret") return "oct";
  if (key.type !== "public") return undefined;
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return "RSA";
    case "ec":
      return "EC";
    case "ed25519":
      return "OKP";
    default:
      return undefined;
  }
}

/**
 * The algorithms a key may verify: RSA → RS256/384/512 and PS256/384/512 (PS only for RSA-PSS keys);
 * EC → the one ES algorithm of its curve (P-256 → ES256, P-384 → ES384, P-521 → ES512);
 * Ed25519 → EdDSA; a secret → the HS algorithms whose hash is no longer than the secret.
 * @param key - a public or secret key
 * @returns the algorithms; empty when the key cannot be used (private key, unsupported curve or type,
 *   RSA modulus under 2048 bits, secret under 32 bytes)
 */
export function algorithmsForKey(key: KeyObject): JwsAlgorithm[] {
  const type = keyTypeOf(key);
  if (type === "oct") {
    const bytes = key.symmetricKeySize ?? 0;
    return HMAC.filter((alg) => bytes >= (HMAC_MIN_BYTES[alg] ?? Number.POSITIVE_INFINITY));
  }
  if (type === "RSA") {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return [];
    return [...(key.asymmetricKeyType === "rsa-pss" ? RSA_PSS : RSA)];
  }
  if (type === "EC") {
    const alg = EC_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ""];
    return alg ? [alg] : [];
  }
  if (type === "OKP") return ["EdDSA"];
  return [];
}
