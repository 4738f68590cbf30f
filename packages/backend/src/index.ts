/**
 * `@crossauth/backend`: framework-independent Node.js code of Crossauth — crypto, configuration,
 * and (as they land) storage, authenticators, sessions and endpoints.
 * @packageDocumentation
 */

export * from "./apikey/index.js";
export * from "./authenticators/index.js";
export * from "./config/index.js";
export * from "./crypto/index.js";
export * from "./email/index.js";
export * from "./endpoints/index.js";
export * from "./oauth/index.js";
export * from "./session/index.js";
export * from "./storage/index.js";
