/**
 * `@crossauth/fastify`: a thin Fastify plugin serving every Crossauth endpoint as a page and as JSON,
 * with session, CSRF and API-key hooks and guards for the application's own routes, and an OAuth
 * resource server (bearer access tokens).
 * @packageDocumentation
 */
import "./types.js";

export * from "./body-parsers.js";
export * from "./guards.js";
export * from "./http-mapping.js";
export * from "./plugin.js";
export * from "./resource-server.js";
