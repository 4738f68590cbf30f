/** Sessions and CSRF protection. @module */
export * from "./cookie.js";
export * from "./csrf-token.js";
export * from "./session-cookie.js";
