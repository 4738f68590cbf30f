/** Authenticators: the factors users log in with. @module */
export * from "./authenticator.js";
