/** Storage interfaces and the helpers every implementation shares. @module */
export * from "./key-data.js";
export { KeyStorage } from "./key-storage.js";
export * from "./ldap/index.js";
export * from "./memory/index.js";
export {
  OAuthAuthorizationStorage,
  type OAuthAuthorizationStorageOptions,
} from "./oauth-authorization-storage.js";
export {
  type NewOAuthClient,
  OAuthClientStorage,
  type OAuthClientStorageOptions,
  validateOAuthFlows,
  validateRedirectUris,
} from "./oauth-client-storage.js";
export * from "./redis/index.js";
export * from "./sql/index.js";
export { checkUserState } from "./user-state-check.js";
export {
  type KeyAndOwner,
  UserStorage,
  type UserStorageGetOptions,
  type UserStorageOptions,
} from "./user-storage.js";
