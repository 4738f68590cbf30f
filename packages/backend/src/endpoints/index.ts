/** The framework-neutral endpoint table. @module */
export * from "./endpoint.js";
export * from "./endpoint-helpers.js";
export * from "./endpoint-options.js";
export * from "./messages.js";
export * from "./page-renderer.js";
