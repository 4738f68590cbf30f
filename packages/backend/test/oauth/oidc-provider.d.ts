/** The part of `oidc-provider` (which ships no types) the OAuth tests use. */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** An OpenID provider (node-oidc-provider v8). */
  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    /** The Node request handler. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
