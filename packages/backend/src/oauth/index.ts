/**
 * OAuth: `OAuthTokenConsumer` (JWT validation with OpenID discovery and JWKS key rotation) and its
 * building blocks. The only module of the backend that uses `jose`.
 * @module
 */
export {
  algorithmsForKey,
  isJwsAlgorithm,
  JWS_ALGORITHMS,
  type JwkKeyType,
  type JwsAlgorithm,
} from "./algorithms.js";
export {
  checkJwks,
  checkOpenIdConfiguration,
  fetchJwks,
  fetchOpenIdConfiguration,
  OPENID_CONFIGURATION_PATH,
  openIdConfigurationUrl,
} from "./discovery.js";
export { JWT, type Jwk, type Jwks } from "./jwt.js";
export { JwtKeyStore, type JwtKeyStoreOptions, type RefreshOutcome } from "./key-store.js";
export * from "./oauth-client-manager.js";
export { OAuthTokenConsumer } from "./token-consumer.js";
export type { OAuthTokenConsumerOptions } from "./token-consumer-options.js";
export {
  decodeTokenHeader,
  MAX_TOKEN_LENGTH,
  type TokenRules,
  type TokenType,
  validateToken,
} from "./token-validation.js";
export {
  importJwk,
  importJwkSet,
  importPublicKeyPem,
  importSecretKey,
  type VerificationKey,
  type VerificationKeyInfo,
} from "./verification-key.js";
