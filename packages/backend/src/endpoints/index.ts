/** The framework-neutral endpoint table. @module */

export * from "./default-endpoints.js";
export * from "./endpoint.js";
export * from "./endpoint-helpers.js";
export * from "./endpoint-options.js";
export * from "./endpoint-routes.js";
export * from "./endpoint-table.js";
export { accountEndpoints } from "./handlers/account-endpoints.js";
export { emailVerificationEndpoints } from "./handlers/email-verification-endpoints.js";
export { passwordResetEndpoints } from "./handlers/password-reset-endpoints.js";
export * from "./messages.js";
export * from "./page-renderer.js";
export * from "./request-pipeline.js";
