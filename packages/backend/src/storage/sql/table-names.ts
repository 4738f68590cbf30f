/**
 * The configurable table and column names of the SQL schema, shared by the migrations and every
 * `Kysely*` storage.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/**
 * Names of the Crossauth tables and of the two configurable columns (wire-formats.md, "SQL schema").
 * Pass the same values to {@link migrateToLatest} and to the storages.
 */
export interface SqlTableNames {
  /** User table. Default `User`. */
  userTable?: string;
  /** User secrets table. Default `UserSecrets`. */
  userSecretsTable?: string;
  /** Key table (sessions, tokens, API keys). Default `Key`. */
  keyTable?: string;
  /** OAuth client table. Default `OAuthClient`. */
  clientTable?: string;
  /** OAuth client redirect URI table. Default `OAuthClientRedirectUri`. */
  redirectUriTable?: string;
  /** OAuth client valid flow table. Default `OAuthClientValidFlow`. */
  validFlowTable?: string;
  /** OAuth authorization table. Default `OAuthAuthorization`. */
  authorizationTable?: string;
  /** Column referencing the user id in the secrets, key, client and authorization tables. Default `userid`. */
  useridForeignKeyColumn?: string;
  /** Primary key column of the user table (an auto-increment integer in the migrations). Default `id`. */
  idColumn?: string;
}

/** The default names of {@link SqlTableNames}. */
export const defaultSqlTableNames: Readonly<Required<SqlTableNames>> = Object.freeze({
  userTable: "User",
  userSecretsTable: "UserSecrets",
  keyTable: "Key",
  clientTable: "OAuthClient",
  redirectUriTable: "OAuthClientRedirectUri",
  validFlowTable: "OAuthClientValidFlow",
  authorizationTable: "OAuthAuthorization",
  useridForeignKeyColumn: "userid",
  idColumn: "id",
});

/**
 * The names to use: the defaults overridden by any name given in `options` (other options ignored).
 * @param options - storage or migration options
 * @throws CrossauthError `Configuration` when a name is not a non-empty string
 */
export function resolveTableNames(options: SqlTableNames = {}): Required<SqlTableNames> {
  const names = { ...defaultSqlTableNames };
  for (const field of Object.keys(names) as (keyof SqlTableNames)[]) {
    const value = options[field];
    if (value === undefined) continue;
    if (typeof value !== "string" || value === "" || value.length > 64) {
      throw new CrossauthError(ErrorCode.Configuration, `${field} must be a name of 1 to 64 characters`);
    }
    names[field] = value;
  }
  return names;
}
