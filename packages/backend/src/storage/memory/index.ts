/** In-memory storages, for tests and demos: data lives only as long as the process. @module */
export { InMemoryKeyStorage } from "./in-memory-key-storage.js";
export { InMemoryOAuthAuthorizationStorage } from "./in-memory-oauth-authorization-storage.js";
export {
  InMemoryOAuthClientStorage,
  type InMemoryOAuthClientStorageOptions,
} from "./in-memory-oauth-client-storage.js";
export { InMemoryUserStorage, type InMemoryUserStorageOptions } from "./in-memory-user-storage.js";
