/**
 * Options of the endpoint table: where endpoints are served, where pages go after an action, which
 * endpoints exist and which are protected by step-up 2FA.
 * @module
 */
import { CrossauthError, ErrorCode, type User } from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";

/** Endpoints protected by step-up 2FA by default (http-contract.md). */
export const DEFAULT_STEP_UP_ENDPOINTS: readonly string[] = Object.freeze([
  "changepassword",
  "updateuser",
  "changefactor2",
  "requestpasswordreset",
  "resetpassword",
  "api/changepassword",
  "api/updateuser",
  "api/changefactor2",
  "api/requestpasswordreset",
  "api/resetpassword",
]);

/** Options as the application passes them. Each also reads `CROSSAUTH_<NAME>`. */
export interface EndpointOptionsInput {
  /** Prefix of every endpoint; default `/` (env `CROSSAUTH_PREFIX`). */
  prefix?: string;
  /** Prefix of admin endpoints; default `/admin/` (env `CROSSAUTH_ADMIN_PREFIX`). */
  adminPrefix?: string;
  /** Where pages go after login, signup and similar when no safe `next` is given; default `/`. */
  loginRedirect?: string;
  /** Where pages go after logout; default `/`. */
  logoutRedirect?: string;
  /** Site name shown in page titles; default `Crossauth` (env `CROSSAUTH_SITE_NAME`). */
  siteName?: string;
  /** Explicit endpoint list, or `all` / `allMinusOAuth` (env `CROSSAUTH_ENDPOINTS`, JSON array or name). */
  endpoints?: string[] | "all" | "allMinusOAuth";
  /** Serve the admin endpoints (default true; env `CROSSAUTH_ENABLE_ADMIN_ENDPOINTS`). */
  enableAdminEndpoints?: boolean;
  /** Serve OAuth client management (default false until issue 7; env `CROSSAUTH_ENABLE_OAUTH_CLIENT_MANAGEMENT`). */
  enableOAuthClientManagement?: boolean;
  /** Endpoints protected by step-up 2FA (env `CROSSAUTH_FACTOR2_PROTECTED_ENDPOINTS`, JSON array). */
  factor2ProtectedEndpoints?: string[];
  /** Who is an admin; default `user.admin === true`. */
  isAdminFn?: (user: User) => boolean;
  /** Whether users may sign up with a second factor chosen at sign-up; default true. */
  allowFactor2AtSignup?: boolean;
}

/** Options after defaults and environment variables are applied. */
export interface EndpointOptions {
  prefix: string;
  adminPrefix: string;
  loginRedirect: string;
  logoutRedirect: string;
  siteName: string;
  endpoints: string[] | "all" | "allMinusOAuth" | undefined;
  enableAdminEndpoints: boolean;
  enableOAuthClientManagement: boolean;
  factor2ProtectedEndpoints: readonly string[];
  isAdminFn: (user: User) => boolean;
  allowFactor2AtSignup: boolean;
}

function normalizePrefix(prefix: string, name: string): string {
  if (!prefix.startsWith("/")) throw new CrossauthError(ErrorCode.Configuration, `${name} must start with /`);
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/**
 * Applies defaults and `CROSSAUTH_*` variables to endpoint options. The input is not modified.
 * @throws CrossauthError `Configuration` for badly typed values or a prefix not starting with `/`
 */
export function readEndpointOptions(input: EndpointOptionsInput = {}): EndpointOptions {
  const o: Record<string, unknown> = {
    prefix: "/",
    adminPrefix: "/admin/",
    loginRedirect: "/",
    logoutRedirect: "/",
    siteName: "Crossauth",
    enableAdminEndpoints: true,
    enableOAuthClientManagement: false,
    factor2ProtectedEndpoints: [...DEFAULT_STEP_UP_ENDPOINTS],
    allowFactor2AtSignup: true,
  };
  const opts = input as Record<string, unknown>;
  setParameter("prefix", ParamType.String, o, opts, "PREFIX");
  setParameter("adminPrefix", ParamType.String, o, opts, "ADMIN_PREFIX");
  setParameter("loginRedirect", ParamType.String, o, opts, "LOGIN_REDIRECT");
  setParameter("logoutRedirect", ParamType.String, o, opts, "LOGOUT_REDIRECT");
  setParameter("siteName", ParamType.String, o, opts, "SITE_NAME");
  setParameter("enableAdminEndpoints", ParamType.Boolean, o, opts, "ENABLE_ADMIN_ENDPOINTS");
  setParameter("enableOAuthClientManagement", ParamType.Boolean, o, opts, "ENABLE_OAUTH_CLIENT_MANAGEMENT");
  setParameter("factor2ProtectedEndpoints", ParamType.JsonArray, o, opts, "FACTOR2_PROTECTED_ENDPOINTS");
  setParameter("allowFactor2AtSignup", ParamType.Boolean, o, opts, "ALLOW_FACTOR2_AT_SIGNUP");
  let endpoints = input.endpoints;
  const envEndpoints = process.env.CROSSAUTH_ENDPOINTS;
  if (endpoints === undefined && envEndpoints) {
    endpoints = envEndpoints === "all" || envEndpoints === "allMinusOAuth" ? envEndpoints : undefined;
    if (endpoints === undefined) {
      const holder: Record<string, unknown> = {};
      setParameter("endpoints", ParamType.JsonArray, holder, {}, "ENDPOINTS");
      endpoints = holder.endpoints as string[];
    }
  }
  return {
    prefix: normalizePrefix(o.prefix as string, "prefix"),
    adminPrefix: normalizePrefix(o.adminPrefix as string, "adminPrefix"),
    loginRedirect: o.loginRedirect as string,
    logoutRedirect: o.logoutRedirect as string,
    siteName: o.siteName as string,
    endpoints,
    enableAdminEndpoints: o.enableAdminEndpoints as boolean,
    enableOAuthClientManagement: o.enableOAuthClientManagement as boolean,
    factor2ProtectedEndpoints: Object.freeze([...(o.factor2ProtectedEndpoints as string[])]),
    isAdminFn: input.isAdminFn ?? ((user: User) => user.admin === true),
    allowFactor2AtSignup: o.allowFactor2AtSignup as boolean,
  };
}
