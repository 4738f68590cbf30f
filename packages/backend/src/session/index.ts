/** Sessions, CSRF protection and the SessionManager with its flows. @module */
export * from "./background-work.js";
export * from "./cookie.js";
export * from "./csrf-token.js";
export type { TokensSent } from "./flows/account.js";
export type { SessionContext, SessionTokens } from "./flows/context.js";
export type { Csrf } from "./flows/session-data.js";
export type { UserIdAndData } from "./flows/signup.js";
export type { SavedRequest } from "./flows/step-up.js";
export * from "./session-cookie.js";
export * from "./session-manager.js";
