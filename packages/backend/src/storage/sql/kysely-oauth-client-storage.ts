/**
 * `KyselyOAuthClientStorage`: OAuth clients with their redirect URIs and flows in SQL.
 * @module
 */
import { CrossauthError, ErrorCode, type OAuthClient, type PartialOAuthClient } from "@crossauth/common";
import type { Kysely } from "kysely";
import { randomValue } from "../../crypto/index.js";
import {
  type NewOAuthClient,
  OAuthClientStorage,
  validateOAuthFlows,
  validateRedirectUris,
} from "../oauth-client-storage.js";
import { withDbErrors } from "./db-errors.js";
import { boolFromDb, type SqlDialectName, sqlDialect, toDbRow } from "./dialect.js";
import { byCodePoint, inTransaction, lockRows, ownerIs, paginate } from "./sql-helpers.js";
import { resolveTableNames, type SqlTableNames } from "./table-names.js";

/** Options of {@link KyselyOAuthClientStorage}: the table names. */
export interface KyselyOAuthClientStorageOptions extends SqlTableNames {}

type Row = Record<string, unknown>;
type Owner = string | number | null | undefined;
const clientExists = {
  code: ErrorCode.ClientExists,
  message: "A client with this id or name already exists",
};

/**
 * {@link OAuthClientStorage} over the `OAuthClient`, `OAuthClientRedirectUri` and
 * `OAuthClientValidFlow` tables (names configurable). A client name is unique per owner, unowned
 * clients included (checked inside the transaction, as SQL unique indexes treat NULLs as distinct).
 */
export class KyselyOAuthClientStorage extends OAuthClientStorage {
  private readonly names: Required<SqlTableNames>;
  private readonly dialect: SqlDialectName;

  /**
   * @param db - the database, migrated with {@link migrateToLatest} (same table names)
   * @param options - see {@link KyselyOAuthClientStorageOptions}
   * @throws CrossauthError `Configuration` for bad options or an unsupported dialect
   */
  constructor(
    private readonly db: Kysely<any>,
    options: KyselyOAuthClientStorageOptions = {},
  ) {
    super();
    this.names = resolveTableNames(options);
    this.dialect = sqlDialect(db);
  }

  /**
   * Returns a client by id.
   * @throws CrossauthError `InvalidClientId` when absent, `Connection`
   */
  async getClientById(clientId: string): Promise<OAuthClient> {
    const [client] = await withDbErrors(() => this.load(this.db, clientId));
    if (!client) throw new CrossauthError(ErrorCode.InvalidClientId);
    return client;
  }

  /** The clients with this name: all for `userid` undefined, unowned ones for null, else that user's. */
  async getClientByName(name: string, userid?: string | number | null): Promise<OAuthClient[]> {
    return withDbErrors(async () => {
      const query = this.select(this.db, userid).where("client_name", "=", name).orderBy("client_id");
      return this.withLists(this.db, await query.execute());
    });
  }

  /**
   * Clients ordered by name then id (code-point order); `userid` as in {@link getClientByName}.
   * @param skip - number to skip
   * @param take - maximum number to return
   */
  async getClients(skip?: number, take?: number, userid?: string | number | null): Promise<OAuthClient[]> {
    return withDbErrors(async () => {
      const query = this.select(this.db, userid)
        .orderBy(byCodePoint("client_name", this.dialect))
        .orderBy(byCodePoint("client_id", this.dialect));
      return this.withLists(this.db, await paginate(query, skip, take).execute());
    });
  }

  /**
   * Saves a new client with its redirect URIs and flows in one transaction; a missing `client_id` is
   * generated (`randomValue(16)`). `client_secret` is stored as given (already hashed).
   * @returns the client as stored
   * @throws CrossauthError `InvalidOAuthFlow`, `InvalidRedirectUri`, `ClientExists` for a duplicate id
   *   or a duplicate name for the same owner, `BadRequest` for an unknown field
   */
  async createClient(client: NewOAuthClient): Promise<OAuthClient> {
    const { redirect_uri: uris = [], valid_flow: flows = [], userid, ...fields } = client;
    validateOAuthFlows(flows);
    validateRedirectUris(uris);
    const clientId = fields.client_id || randomValue(16);
    const row = this.columns({ client_secret: null, ...fields, client_id: clientId, userid: userid ?? null });
    return inTransaction(
      this.db,
      async (trx) => {
        await this.checkNameFree(trx, fields.client_name, userid ?? null, undefined);
        await trx.insertInto(this.names.clientTable).values(row).execute();
        await this.saveLists(trx, clientId, uris, flows);
        const [stored] = await this.load(trx, clientId);
        return stored as OAuthClient;
      },
      clientExists,
    );
  }

  /**
   * Updates the defined fields of client `client.client_id`; `redirect_uri` and `valid_flow`, when
   * given, replace the stored sets. All in one transaction.
   * @throws CrossauthError `InvalidClientId` when absent, `InvalidOAuthFlow`, `InvalidRedirectUri`,
   *   `ClientExists` for a name taken by another client of the same owner
   */
  async updateClient(client: PartialOAuthClient): Promise<void> {
    const { client_id: clientId, redirect_uri: uris, valid_flow: flows, ...fields } = client;
    if (typeof clientId !== "string" || clientId === "") throw new CrossauthError(ErrorCode.InvalidClientId);
    if (flows !== undefined) validateOAuthFlows(flows);
    if (uris !== undefined) validateRedirectUris(uris);
    const changes = this.columns(fields);
    const { clientTable, useridForeignKeyColumn: uid } = this.names;
    await inTransaction(
      this.db,
      async (trx) => {
        const query = trx.selectFrom(clientTable).selectAll().where("client_id", "=", clientId);
        const current = await lockRows(query, this.dialect).executeTakeFirst();
        if (!current) throw new CrossauthError(ErrorCode.InvalidClientId);
        if (fields.client_name !== undefined || fields.userid !== undefined) {
          const name = fields.client_name ?? current.client_name;
          const owner = fields.userid !== undefined ? fields.userid : current[uid];
          await this.checkNameFree(trx, name, owner as Owner, clientId);
        }
        if (Object.keys(changes).length > 0) {
          await trx.updateTable(clientTable).set(changes).where("client_id", "=", clientId).execute();
        }
        await this.saveLists(trx, clientId, uris, flows, true);
      },
      clientExists,
    );
  }

  /** Deletes a client with its redirect URIs, flows and authorizations; no error when absent. */
  async deleteClient(clientId: string): Promise<void> {
    const n = this.names;
    await inTransaction(this.db, async (trx) => {
      for (const table of [n.authorizationTable, n.redirectUriTable, n.validFlowTable, n.clientTable]) {
        await trx.deleteFrom(table).where("client_id", "=", clientId).execute();
      }
    });
  }

  /** Selects clients by owner: all for undefined, unowned for null, else that user's. */
  private select(db: Kysely<any>, userid: Owner) {
    const query = db.selectFrom(this.names.clientTable).selectAll();
    return userid === undefined ? query : query.where(ownerIs(this.names.useridForeignKeyColumn, userid));
  }

  /** The client with this id (none or one), with its lists. */
  private async load(db: Kysely<any>, clientId: string): Promise<OAuthClient[]> {
    const rows = await db
      .selectFrom(this.names.clientTable)
      .selectAll()
      .where("client_id", "=", clientId)
      .execute();
    return this.withLists(db, rows);
  }

  /** Clients from rows, with their redirect URIs and flows (in insertion order). */
  private async withLists(db: Kysely<any>, rows: Row[]): Promise<OAuthClient[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.client_id as string);
    const list = async (table: string, column: string) => {
      const byClient = new Map<string, string[]>();
      const items = await db
        .selectFrom(table)
        .select(["client_id", column])
        .where("client_id", "in", ids)
        .orderBy("id")
        .execute();
      for (const item of items) {
        const id = item.client_id as string;
        byClient.set(id, [...(byClient.get(id) ?? []), item[column] as string]);
      }
      return byClient;
    };
    const uris = await list(this.names.redirectUriTable, "uri");
    const flows = await list(this.names.validFlowTable, "flow");
    const uid = this.names.useridForeignKeyColumn;
    return rows.map((row) => {
      const { [uid]: userid, ...rest } = row;
      const id = row.client_id as string;
      return {
        ...rest,
        client_id: id,
        client_name: row.client_name as string,
        confidential: boolFromDb(row.confidential),
        client_secret: (row.client_secret as string | null) ?? null,
        userid: (userid as string | number | null) ?? null,
        redirect_uri: uris.get(id) ?? [],
        valid_flow: flows.get(id) ?? [],
      };
    });
  }

  /** Writes the redirect URIs and flows given (deduplicated), replacing the stored ones when `replace`. */
  private async saveLists(
    trx: Kysely<any>,
    clientId: string,
    uris?: string[],
    flows?: string[],
    replace = false,
  ) {
    const lists: [string, string, string[] | undefined][] = [
      [this.names.redirectUriTable, "uri", uris],
      [this.names.validFlowTable, "flow", flows],
    ];
    for (const [table, column, values] of lists) {
      if (values === undefined) continue;
      if (replace) await trx.deleteFrom(table).where("client_id", "=", clientId).execute();
      const unique = [...new Set(values)];
      if (unique.length > 0) {
        await trx
          .insertInto(table)
          .values(unique.map((v) => ({ client_id: clientId, [column]: v })))
          .execute();
      }
    }
  }

  /** Throws `ClientExists` when another client of the same owner (or also unowned) has this name. */
  private async checkNameFree(trx: Kysely<any>, name: unknown, owner: Owner, exceptId: string | undefined) {
    let query = this.select(trx, owner ?? null).where("client_name", "=", name);
    if (exceptId !== undefined) query = query.where("client_id", "<>", exceptId);
    if (await query.executeTakeFirst())
      throw new CrossauthError(ErrorCode.ClientExists, clientExists.message);
  }

  /** Client fields as columns: `userid` in the user-id column, values converted, undefined dropped. */
  private columns(fields: Row): Row {
    const { userid, ...rest } = fields;
    const row = toDbRow(rest, this.dialect);
    if (userid !== undefined) row[this.names.useridForeignKeyColumn] = userid;
    return row;
  }
}
