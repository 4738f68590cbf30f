/**
 * Data types shared by every Crossauth package: users, secrets, keys, OAuth clients, OpenID
 * configuration and OAuth request bodies. Field names follow the database columns and the wire
 * formats (snake_case where the reference uses it).
 * @module
 */

/** User states Crossauth recognises. Applications may define more. */
export const UserState = Object.freeze({
  active: "active",
  disabled: "disabled",
  awaitingTwoFactorSetup: "awaitingtwofactorsetup",
  awaitingEmailVerification: "awaitingemailverification",
  awaitingTwoFactorSetupAndEmailVerification: "awaitingtwofactorsetupandemailverification",
  passwordChangeNeeded: "passwordchangeneeded",
  passwordResetNeeded: "passwordresetneeded",
  factor2ResetNeeded: "factor2resetneeded",
  passwordAndFactor2ResetNeeded: "passwordandfactor2resetneeded",
} as const);
/** A user state string. */
export type UserStateValue = (typeof UserState)[keyof typeof UserState];

/** Prefixes of key values in key storage (wire-formats.md, "Keys in key storage"). */
export const KeyPrefix = Object.freeze({
  session: "s:",
  passwordResetToken: "p:",
  emailVerificationToken: "e:",
  apiKey: "api:",
  authorizationCode: "authz:",
  accessToken: "access:",
  refreshToken: "refresh:",
  mfaToken: "omfa:",
  deviceCode: "dc:",
  userCode: "uc:",
} as const);
/** A key prefix string. */
export type KeyPrefixValue = (typeof KeyPrefix)[keyof typeof KeyPrefix];

/** OAuth flows a client may be allowed (wire-formats.md, `OAuthClientValidFlow`). */
export const OAuthFlows = Object.freeze({
  authorizationCode: "authorizationCode",
  authorizationCodeWithPKCE: "authorizationCodeWithPKCE",
  clientCredentials: "clientCredentials",
  refreshToken: "refreshToken",
  deviceCode: "deviceCode",
  password: "password",
  passwordMfa: "passwordMfa",
  oidcAuthorizationCode: "oidcAuthorizationCode",
} as const);
/** An OAuth flow name. */
export type OAuthFlow = (typeof OAuthFlows)[keyof typeof OAuthFlows];

/**
 * A user as stored, without generated fields such as `id`. Applications may add fields (extra columns).
 */
export interface UserInputFields {
  /** The username: an email address or anything else the application uses. */
  username: string;
  /** A {@link UserState} value or an application-defined state. */
  state: string;
  /** Name of the authenticator for the first factor, e.g. `localpassword`. */
  factor1: string;
  /** Name of the authenticator for the second factor; `""` or absent for none. */
  factor2?: string;
  /** Email address, when it is not the username. */
  email?: string;
  /** Phone number (E.164) for SMS codes. */
  phone?: string | null;
  /** Whether the user may use admin functions. */
  admin?: boolean;
  /** Application-defined fields. */
  [field: string]: unknown;
}

/** A user as stored, with its id and the normalized lookup columns. */
export interface User extends UserInputFields {
  /** The user id: auto-generated in SQL storage. */
  id: string | number;
  /** Username normalized for lookups (NFD, combining marks removed, lower case). */
  username_normalized?: string;
  /** Email normalized for lookups (NFD, combining marks removed, lower case). */
  email_normalized?: string;
}

/** {@link UserInputFields} with every field optional, for updates. */
export type PartialUserInputFields = Partial<UserInputFields>;

/** {@link User} with every field but `id` optional, for updates. */
export type PartialUser = Partial<User> & { id?: string | number };

/**
 * A user's secrets, kept apart from {@link User} so they never reach a front end by accident.
 */
export interface UserSecretsInputFields {
  /** Password hash (`pbkdf2:...`, wire-formats.md), never the plaintext once stored. */
  password?: string;
  /** TOTP shared secret (base32). */
  totpsecret?: string;
  /** A transient one-time code. */
  otp?: string;
  /** Expiry of the transient code, in milliseconds since the epoch. */
  expiry?: number;
  /** Application-defined secret fields. */
  [field: string]: unknown;
}

/** A user's secrets with the id of the user they belong to. */
export interface UserSecrets extends UserSecretsInputFields {
  userid: string | number;
}

/** {@link UserSecrets} with every field optional, for updates. */
export type PartialUserSecrets = Partial<UserSecrets>;

/** A user together with its secrets. */
export interface UserAndSecrets {
  user: User;
  secrets: UserSecrets;
}

/**
 * A key in key storage: a session id, an email token, an API key, an OAuth token...
 * The stored `value` is a prefix plus the hash of the secret (wire-formats.md).
 */
export interface Key {
  /** The stored value: prefix + hash of the secret. Unique. */
  value: string;
  /** Owner, or null for an anonymous key. */
  userid?: string | number | null;
  /** When the key was created. */
  created: Date;
  /** When the key expires, or null for never. */
  expires: Date | null;
  /** When the key was last used (sessions), or null. */
  lastactive?: Date | null;
  /** JSON object as a string (`"{}"` when empty). */
  data?: string;
  /** Extra columns, e.g. `name` for API keys. */
  [field: string]: unknown;
}

/** {@link Key} with every field optional, for updates. */
export type PartialKey = Partial<Key>;

/** An API key: a key with a name unique to its user. */
export interface ApiKey extends Key {
  /** A name for the key, unique per user. */
  name: string;
}

/** One entry of a multi-field key-data update: a dotted path and the value to set there. */
export interface KeyDataEntry {
  /** Dotted path into the data object, e.g. `oauth.state`. */
  dataName: string;
  /** Value to set; absent in a delete. */
  value?: unknown;
}

/** An OAuth client as stored. */
export interface OAuthClient {
  /** The client id: generated, immutable. */
  client_id: string;
  /** A display name, unique per owner. */
  client_name: string;
  /** Whether the client can keep a secret. */
  confidential: boolean;
  /** The secret's password hash, or null/absent for public clients. */
  client_secret?: string | null;
  /** Registered redirect URIs. */
  redirect_uri: string[];
  /** Allowed flows (see {@link OAuthFlows}). */
  valid_flow: string[];
  /** Owner user id, or null/absent for an unowned client. */
  userid?: string | number | null;
  /** Application-defined fields. */
  [field: string]: unknown;
}

/** {@link OAuthClient} with every field optional, for updates. */
export type PartialOAuthClient = Partial<OAuthClient>;

/** Grant types of OpenID discovery. */
export type GrantType =
  | "authorization_code"
  | "implicit"
  | "client_credentials"
  | "password"
  | "refresh_token"
  | "urn:ietf:params:oauth:grant-type:device_code"
  | "http://auth0.com/oauth/grant-type/mfa-otp"
  | "http://auth0.com/oauth/grant-type/mfa-oob";
/** Response modes of OpenID discovery. */
export type ResponseMode = "query" | "fragment" | "form_post";
/** Subject identifier types of OpenID discovery. */
export type SubjectType = "pairwise" | "public";
/** Claim types of OpenID discovery. */
export type ClaimType = "normal" | "aggregated" | "distributed";
/** Token endpoint authentication methods of OpenID discovery. */
export type TokenEndpointAuthMethod =
  | "client_secret_post"
  | "client_secret_basic"
  | "client_secret_jwt"
  | "private_key_jwt"
  | "none";

/** The document served at `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3). */
export interface OpenIdConfiguration {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  jwks_uri: string;
  registration_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported: string[];
  response_modes_supported: ResponseMode[];
  grant_types_supported: GrantType[];
  acr_values_supported?: string[];
  subject_types_supported: SubjectType[];
  id_token_signing_alg_values_supported: string[];
  id_token_encryption_alg_values_supported?: string[];
  id_token_encryption_enc_values_supported?: string[];
  userinfo_signing_alg_values_supported?: string[];
  userinfo_encryption_alg_values_supported?: string[];
  userinfo_encryption_enc_values_supported?: string[];
  request_object_signing_alg_values_supported?: string[];
  request_object_encryption_alg_values_supported?: string[];
  request_object_encryption_enc_values_supported?: string[];
  token_endpoint_auth_methods_supported?: TokenEndpointAuthMethod[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  display_values_supported?: string[];
  claim_types_supported?: ClaimType[];
  claims_supported?: string[];
  service_documentation?: string;
  claims_locales_supported?: string[];
  ui_locales_supported?: string[];
  claims_parameter_supported?: boolean;
  request_parameter_supported?: boolean;
  request_uri_parameter_supported?: boolean;
  require_request_uri_registration?: boolean;
  op_policy_uri?: string;
  op_tos_uri?: string;
  check_session_iframe?: string;
  end_session_endpoint?: string;
}

/** Body of a request to the OAuth token endpoint. */
export interface TokenBodyType {
  grant_type: string;
  client_id: string;
  client_secret?: string;
  code?: string;
  code_verifier?: string;
  scope?: string;
  username?: string;
  password?: string;
  mfa_token?: string;
  oobCode?: string;
  binding_code?: string;
  otp?: string;
  refresh_token?: string;
  device_code?: string;
}

/** Query of a request to the OAuth authorize endpoint. */
export interface AuthorizeQueryType {
  response_type: string;
  client_id?: string;
  redirect_uri?: string;
  scope?: string;
  state?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  user?: User;
}
