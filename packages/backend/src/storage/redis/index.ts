/** Redis storage: key storage shared by many application instances. @module */
export { RedisKeyStorage, type RedisKeyStorageOptions } from "./redis-key-storage.js";
