/** Crypto primitives of wire-formats.md. @module */
export * from "./base64.js";
export { Crypto } from "./crypto.js";
export * from "./password-hash.js";
export * from "./pbkdf2-pool.js";
export * from "./random.js";
export * from "./signing.js";
export * from "./symmetric.js";
