/** API keys. @module */
export * from "./api-key-manager.js";
