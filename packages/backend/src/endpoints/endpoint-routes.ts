/**
 * Which endpoints exist and where: the enabling rules of http-contract.md ("Which endpoints exist"),
 * full paths under the prefixes, and matching a request path against a route.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { SessionManager } from "../session/session-manager.js";
import type { EndpointDefinition, EndpointFeature, HttpMethod } from "./endpoint.js";
import type { EndpointOptions } from "./endpoint-options.js";

/** An enabled endpoint and the full path it is served at. */
export interface EndpointRoute {
  method: HttpMethod;
  /** Prefix + path, with `:param` segments, e.g. `/auth/verifyemail/:token`. */
  fullPath: string;
  definition: EndpointDefinition;
}

/** The features of OAuth client management, left out by `allMinusOAuth`. */
const OAUTH_FEATURES: ReadonlySet<EndpointFeature> = new Set<EndpointFeature>([
  "clientManagement",
  "adminClientManagement",
]);

/**
 * The features switched on by the session manager and the endpoint options: `session` and `signup`
 * always; `emailVerification` / `passwordReset` with the manager's switches; `factor2` when any second
 * factor is allowed; `admin` with `enableAdminEndpoints`; `clientManagement` with
 * `enableOAuthClientManagement`; `adminClientManagement` with both.
 */
export function enabledFeatures(
  sessionManager: SessionManager,
  options: EndpointOptions,
): ReadonlySet<EndpointFeature> {
  const features = new Set<EndpointFeature>(["session", "signup"]);
  if (sessionManager.enableEmailVerification) features.add("emailVerification");
  if (sessionManager.enablePasswordReset) features.add("passwordReset");
  if (sessionManager.allowedFactor2.length > 0) features.add("factor2");
  if (options.enableAdminEndpoints) features.add("admin");
  if (options.enableOAuthClientManagement) features.add("clientManagement");
  if (options.enableAdminEndpoints && options.enableOAuthClientManagement)
    features.add("adminClientManagement");
  return features;
}

/**
 * The definitions to serve. Without an explicit list (or with `all`), every definition whose feature is
 * on; `allMinusOAuth` leaves out client management. An explicit list serves exactly the named
 * endpoints (each name with all its methods).
 * @param definitions - every known definition
 * @param features - the enabled features
 * @param endpoints - the `endpoints` option
 * @throws CrossauthError `Configuration` when a listed name is unknown or its feature is off
 */
export function selectDefinitions(
  definitions: readonly EndpointDefinition[],
  features: ReadonlySet<EndpointFeature>,
  endpoints: EndpointOptions["endpoints"],
): EndpointDefinition[] {
  if (endpoints === undefined || endpoints === "all" || endpoints === "allMinusOAuth") {
    return definitions.filter(
      (d) => features.has(d.feature) && !(endpoints === "allMinusOAuth" && OAUTH_FEATURES.has(d.feature)),
    );
  }
  if (!Array.isArray(endpoints)) {
    throw new CrossauthError(
      ErrorCode.Configuration,
      "endpoints must be a list of names, all or allMinusOAuth",
    );
  }
  const names = new Set<string>();
  for (const name of endpoints) {
    if (typeof name !== "string")
      throw new CrossauthError(ErrorCode.Configuration, "Endpoint names must be text");
    const named = definitions.filter((d) => d.name === name);
    if (named.length === 0) throw new CrossauthError(ErrorCode.Configuration, `Unknown endpoint ${name}`);
    const off = named.find((d) => !features.has(d.feature));
    if (off) {
      throw new CrossauthError(
        ErrorCode.Configuration,
        `Endpoint ${name} needs the ${off.feature} feature, which is not enabled`,
      );
    }
    names.add(name);
  }
  return definitions.filter((d) => names.has(d.name));
}

/**
 * The full path of an endpoint: `prefix + (path ?? name)`; names starting `admin/` are served under
 * `adminPrefix` with that `admin/` removed.
 */
export function fullPath(definition: EndpointDefinition, options: EndpointOptions): string {
  const relative = definition.path ?? definition.name;
  if (!definition.name.startsWith("admin/")) return options.prefix + relative;
  return options.adminPrefix + (relative.startsWith("admin/") ? relative.slice("admin/".length) : relative);
}

/**
 * Builds the routes of the given definitions.
 * @throws CrossauthError `Configuration` when two endpoints would share a method and path
 */
export function buildRoutes(
  definitions: readonly EndpointDefinition[],
  options: EndpointOptions,
): EndpointRoute[] {
  const seen = new Map<string, string>();
  return definitions.map((definition) => {
    const path = fullPath(definition, options);
    const shape = `${definition.method} ${path.replace(/:[^/]+/g, ":")}`;
    const other = seen.get(shape);
    if (other !== undefined) {
      throw new CrossauthError(
        ErrorCode.Configuration,
        `Endpoints ${other} and ${definition.name} share the route ${definition.method} ${path}`,
      );
    }
    seen.set(shape, definition.name);
    return { method: definition.method, fullPath: path, definition };
  });
}

/**
 * Matches a request path against a route path with `:param` segments.
 * @param pattern - e.g. `/verifyemail/:token`
 * @param path - the request path, without query, e.g. `/verifyemail/abc`
 * @returns the decoded path parameters, or undefined when the path does not match
 */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const expected = pattern.split("/");
  const given = path.split("/");
  if (expected.length !== given.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of expected.entries()) {
    const actual = given[i] as string;
    if (!segment.startsWith(":")) {
      if (segment !== actual) return undefined;
      continue;
    }
    if (actual === "") return undefined;
    try {
      params[segment.slice(1)] = decodeURIComponent(actual);
    } catch {
      return undefined;
    }
  }
  return params;
}
