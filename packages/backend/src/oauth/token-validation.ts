/**
 * The rules an OAuth JWT must pass (RFC 7519 §7.2, RFC 9068 §4, RFC 8725 §3): a supported `alg`
 * that fits the key, a valid signature, `exp`/`nbf` within the clock tolerance, the expected `iss`
 * and `aud`, the requested `type`, and — for persisted access tokens — a live entry in key storage.
 * @module
 */
import { CrossauthError, ErrorCode, KeyPrefix } from "@crossauth/common";
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";
import { hash } from "../crypto/index.js";
import type { KeyStorage } from "../storage/key-storage.js";
import { isJwsAlgorithm } from "./algorithms.js";
import type { VerificationKey } from "./verification-key.js";

/** Longest token considered; anything longer is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** The kinds of token a consumer validates; the payload's `type` claim must equal the one requested. */
export type TokenType = "access" | "refresh" | "id";

/** What a token is checked against. */
export interface TokenRules {
  /** Required `iss` (RFC 7519 §4.1.1): the authorization server's base URL. */
  issuer: string;
  /** Value `aud` must be or contain (RFC 7519 §4.1.3). */
  audience: string;
  /** Allowed clock skew for `exp` and `nbf`, in seconds. */
  clockTolerance: number;
  /** Required `type` claim. */
  tokenType: TokenType;
  /** The time to check `exp`, `nbf` and storage expiry against. */
  now: Date;
  /** When set, access tokens must have a live `access:` + hash(jti) entry here. */
  keyStorage?: KeyStorage | undefined;
  /** Finds the verification key for a token's `kid` and `alg`. */
  keyFor: (kid: string | undefined, alg: string) => Promise<VerificationKey>;
}

function refused(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.InvalidToken, message);
}

/**
 * Decodes a JWS compact token's protected header without verifying anything.
 * @param token - the token
 * @returns the header
 * @throws CrossauthError `InvalidToken` when the token is not three base64url parts with a JSON header
 */
export function decodeTokenHeader(token: string): Record<string, unknown> {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || token.split(".").length !== 3) {
    throw refused("Token is not a compact JWS");
  }
  try {
    return decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    throw refused("Token header cannot be decoded");
  }
}

/** Turns jose's verification errors into Crossauth errors with messages free of token content. */
function fromJoseError(e: unknown): CrossauthError {
  if (e instanceof CrossauthError) return e;
  if (e instanceof errors.JWTExpired) return new CrossauthError(ErrorCode.Expired, "Token has expired");
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return refused("Token is not yet valid");
    return refused(`Token ${e.claim} claim is ${e.reason === "missing" ? "missing" : "not accepted"}`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return refused("Token signature is invalid");
  if (e instanceof errors.JOSEAlgNotAllowed) return refused("Token algorithm is not accepted");
  return refused("Token is malformed");
}

async function checkPersisted(payload: JWTPayload, keyStorage: KeyStorage, now: Date): Promise<void> {
  if (typeof payload.jti !== "string" || payload.jti === "") throw refused("Token has no jti to look up");
  let expires: Date | null;
  try {
    ({ expires } = await keyStorage.getKey(KeyPrefix.accessToken + hash(payload.jti)));
  } catch (e) {
    const error = CrossauthError.asCrossauthError(e);
    if (error.code === ErrorCode.Connection) throw error;
    throw refused("Access token is not in key storage (revoked)");
  }
  if (expires && now.getTime() > expires.getTime()) {
    throw new CrossauthError(ErrorCode.Expired, "Access token has expired in key storage");
  }
}

/**
 * Validates a token against {@link TokenRules}. The header's `alg` must be a supported algorithm
 * (never `none`) allowed for the key found by `kid`; jose then verifies the signature with that
 * key and only its algorithms, and the claims: `exp` is required.
 * @param token - the JWT in compact serialization
 * @param rules - what to check against
 * @returns the verified payload
 * @throws CrossauthError `InvalidToken` for any failed rule, `Expired` for an expired token (by
 *   `exp` or in key storage), `Connection` when keys or storage cannot be reached
 */
export async function validateToken(token: string, rules: TokenRules): Promise<JWTPayload> {
  const header = decodeTokenHeader(token);
  const { alg, kid } = header;
  if (!isJwsAlgorithm(alg)) throw refused("Token algorithm is not accepted");
  if (kid !== undefined && typeof kid !== "string") throw refused("Token kid is not a string");
  const key = await rules.keyFor(kid, alg);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key.key, {
      algorithms: [...key.algorithms],
      issuer: rules.issuer,
      audience: rules.audience,
      clockTolerance: rules.clockTolerance,
      currentDate: rules.now,
      requiredClaims: ["exp"],
    }));
  } catch (e) {
    throw fromJoseError(e);
  }
  if (payload.type !== rules.tokenType) throw refused("Token type claim does not match");
  if (rules.keyStorage && rules.tokenType === "access")
    await checkPersisted(payload, rules.keyStorage, rules.now);
  return payload;
}
