/**
 * `KyselyOAuthAuthorizationStorage`: the scopes users (or clients) have authorized, in SQL.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { Kysely } from "kysely";
import { OAuthAuthorizationStorage } from "../oauth-authorization-storage.js";
import { withDbErrors } from "./db-errors.js";
import { type SqlDialectName, sqlDialect } from "./dialect.js";
import { inTransaction, lockRows, ownerIs } from "./sql-helpers.js";
import { resolveTableNames, type SqlTableNames } from "./table-names.js";

/** Options of {@link KyselyOAuthAuthorizationStorage}: the table names. */
export interface KyselyOAuthAuthorizationStorageOptions extends SqlTableNames {}

/**
 * {@link OAuthAuthorizationStorage} over the `OAuthAuthorization` table (name configurable). Updates
 * lock the client's row, so concurrent replacements of one set never mix.
 */
export class KyselyOAuthAuthorizationStorage extends OAuthAuthorizationStorage {
  private readonly names: Required<SqlTableNames>;
  private readonly dialect: SqlDialectName;

  /**
   * @param db - the database, migrated with {@link migrateToLatest} (same table names)
   * @param options - see {@link KyselyOAuthAuthorizationStorageOptions}
   * @throws CrossauthError `Configuration` for bad options or an unsupported dialect
   */
  constructor(
    private readonly db: Kysely<any>,
    options: KyselyOAuthAuthorizationStorageOptions = {},
  ) {
    super();
    this.names = resolveTableNames(options);
    this.dialect = sqlDialect(db);
  }

  /** Scopes authorized for a client by a user, or for the client itself when `userid` is null/absent. */
  async getAuthorizations(clientId: string, userid?: string | number | null): Promise<(string | null)[]> {
    const { authorizationTable, useridForeignKeyColumn: uid } = this.names;
    const rows = await withDbErrors(() =>
      this.db
        .selectFrom(authorizationTable)
        .select("scope")
        .where("client_id", "=", clientId)
        .where(ownerIs(uid, userid ?? null))
        .orderBy("id")
        .execute(),
    );
    return rows.map((r) => (r.scope as string | null) ?? null);
  }

  /**
   * Replaces the set of scopes for (client, user) in one transaction; duplicates are stored once.
   * @throws CrossauthError `InvalidClientId` for an unknown client, `ConstraintViolation` for an
   *   unknown user, `Connection`
   */
  async updateAuthorizations(
    clientId: string,
    userid: string | number | null,
    authorizations: (string | null)[],
  ): Promise<void> {
    const { authorizationTable, clientTable, useridForeignKeyColumn: uid } = this.names;
    const scopes = [...new Set(authorizations)];
    await inTransaction(this.db, async (trx) => {
      const client = trx.selectFrom(clientTable).select("client_id").where("client_id", "=", clientId);
      if (!(await lockRows(client, this.dialect).executeTakeFirst()))
        throw new CrossauthError(ErrorCode.InvalidClientId);
      await trx
        .deleteFrom(authorizationTable)
        .where("client_id", "=", clientId)
        .where(ownerIs(uid, userid))
        .execute();
      if (scopes.length === 0) return;
      const rows = scopes.map((scope) => ({ client_id: clientId, [uid]: userid, scope }));
      await trx.insertInto(authorizationTable).values(rows).execute();
    });
  }
}
