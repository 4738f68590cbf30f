/**
 * What the Crossauth plugin adds to Fastify's types: request decorations, the instance's endpoint
 * table, and the route config flag of Crossauth's own routes.
 * @module
 */
import type { EndpointTable } from "@crossauth/backend";
import type { ApiKey, User } from "@crossauth/common";

declare module "fastify" {
  interface FastifyRequest {
    /** The logged-in user (session cookie or API key with an owner). */
    user: User | undefined;
    /** A fresh masked CSRF value for forms and the `X-CROSSAUTH-CSRF` header. */
    csrfToken: string | undefined;
    /** How the request was authenticated (`oauth`: a bearer access token, see `resourceServerPlugin`). */
    authType: "cookie" | "apiKey" | "oauth" | undefined;
    /** The API key that authenticated the request. */
    apiKey: ApiKey | undefined;
    /** Scopes granted by the API key or the access token. */
    scope: string[] | undefined;
  }
  interface FastifyInstance {
    /** The Crossauth endpoint table (options, routes, page renderer). */
    crossauth: EndpointTable;
  }
  interface FastifyContextConfig {
    /** Set on Crossauth's own endpoint routes, which authenticate in the endpoint pipeline. */
    crossauthEndpoint?: boolean;
  }
}
