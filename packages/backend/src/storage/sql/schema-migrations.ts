/**
 * The Crossauth SQL schema as Kysely migrations (wire-formats.md, "SQL schema"), for SQLite,
 * PostgreSQL and MySQL/MariaDB, with configurable table names.
 * @module
 */
import {
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type ForeignKeyConstraintBuilder,
  type Kysely,
  type Migration,
  sql,
} from "kysely";
import { type SqlDialectName, sqlDialect } from "./dialect.js";
import type { SqlTableNames } from "./table-names.js";

type Table = CreateTableBuilder<string, string>;
type DataTypeExpression = Parameters<Table["addColumn"]>[1];

/** MySQL binary, no-pad collations in order of preference: case-, accent- and trailing-space-sensitive. */
const mysqlCollations = ["utf8mb4_0900_bin", "utf8mb4_nopad_bin", "utf8mb4_bin"];

const notNull = (c: ColumnDefinitionBuilder) => c.notNull();
const cascade = (fk: ForeignKeyConstraintBuilder) => fk.onDelete("cascade");

/** Dialect-specific column types, table options and index creation. */
class Schema {
  readonly idType: DataTypeExpression;
  readonly dateType: DataTypeExpression;
  /** Key data: TEXT (LONGTEXT on MySQL, whose TEXT holds only 64 KiB). */
  readonly longTextType: DataTypeExpression;
  /** URIs: TEXT (VARCHAR(1024) on MySQL, which cannot index TEXT). */
  readonly uriType: DataTypeExpression;

  private constructor(
    private readonly db: Kysely<any>,
    private readonly dialect: SqlDialectName,
    private readonly mysqlCollation: string,
  ) {
    const mysql = dialect === "mysql";
    this.idType = dialect === "postgres" ? "serial" : "integer";
    this.dateType = { postgres: sql`timestamptz(3)`, mysql: sql`datetime(3)`, sqlite: sql`timestamp` }[
      dialect
    ];
    this.longTextType = mysql ? sql`longtext` : "text";
    this.uriType = mysql ? "varchar(1024)" : "text";
  }

  /** The schema helper for `db`'s dialect (on MySQL, finds the best binary collation). */
  static async of(db: Kysely<any>): Promise<Schema> {
    const dialect = sqlDialect(db);
    let collation = "";
    if (dialect === "mysql") {
      const rows = await db
        .selectFrom("information_schema.COLLATIONS")
        .select("COLLATION_NAME as name")
        .where("COLLATION_NAME", "in", mysqlCollations)
        .execute();
      const available = new Set(rows.map((r) => String(r.name)));
      collation = mysqlCollations.find((c) => available.has(c)) ?? "utf8mb4_bin";
    }
    return new Schema(db, dialect, collation);
  }

  /** An auto-increment integer primary key column. */
  readonly autoId = (c: ColumnDefinitionBuilder) =>
    this.dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement();

  /** `CREATE TABLE`, with utf8mb4 and a binary collation on MySQL. */
  table(name: string): Table {
    const t = this.db.schema.createTable(name);
    if (this.dialect !== "mysql") return t;
    return t.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=${sql.raw(this.mysqlCollation)}`);
  }

  /** A (unique) index named after its table and columns. */
  async index(table: string, columns: string[], unique = false): Promise<void> {
    const name = `${table}_${columns.join("_")}_${unique ? "key" : "idx"}`;
    if (this.dialect === "mysql" && columns.includes("uri")) {
      // InnoDB keys hold at most 3072 bytes: the URI is unique on its first 512 characters.
      const cols = columns.map((c) => (c === "uri" ? sql`${sql.ref(c)}(512)` : sql.ref(c)));
      await sql`create unique index ${sql.id(name)} on ${sql.table(table)} (${sql.join(cols)})`.execute(
        this.db,
      );
      return;
    }
    const index = this.db.schema.createIndex(name).on(table).columns(columns);
    await (unique ? index.unique() : index).execute();
  }
}

/** Version 1: every table of wire-formats.md with its keys, constraints and indexes. */
function initialSchema(n: Required<SqlTableNames>): Migration {
  const uid = n.useridForeignKeyColumn;
  const fkName = (table: string, column: string) => `${table}_${column}_fkey`;
  const toUser = (t: Table, table: string) =>
    t.addForeignKeyConstraint(fkName(table, uid), [uid], n.userTable, [n.idColumn], cascade);
  const toClient = (t: Table, table: string) =>
    t.addForeignKeyConstraint(
      fkName(table, "client_id"),
      ["client_id"],
      n.clientTable,
      ["client_id"],
      cascade,
    );
  return {
    async up(db: Kysely<any>): Promise<void> {
      const s = await Schema.of(db);
      await s
        .table(n.userTable)
        .addColumn(n.idColumn, s.idType, s.autoId)
        .addColumn("username", "varchar(255)", notNull)
        .addColumn("username_normalized", "varchar(255)", notNull)
        .addColumn("email", "varchar(255)")
        .addColumn("email_normalized", "varchar(255)")
        .addColumn("phone", "varchar(255)")
        .addColumn("state", "varchar(255)", (c) => c.notNull().defaultTo("active"))
        .addColumn("factor1", "varchar(255)", (c) => c.notNull().defaultTo("localpassword"))
        .addColumn("factor2", "varchar(255)", (c) => c.defaultTo(""))
        .addColumn("admin", "boolean", (c) => c.notNull().defaultTo(false))
        .execute();
      await s.index(n.userTable, ["username_normalized"], true);
      await s.index(n.userTable, ["email_normalized"], true);

      const secrets = s
        .table(n.userSecretsTable)
        .addColumn(uid, "integer", (c) => c.primaryKey())
        .addColumn("password", "varchar(255)")
        .addColumn("totpsecret", "varchar(255)");
      await toUser(secrets, n.userSecretsTable).execute();

      const key = s
        .table(n.keyTable)
        .addColumn("id", s.idType, s.autoId)
        .addColumn("value", "varchar(255)", notNull)
        .addColumn(uid, "integer")
        .addColumn("created", s.dateType, notNull)
        .addColumn("expires", s.dateType)
        .addColumn("lastactive", s.dateType)
        .addColumn("data", s.longTextType)
        .addColumn("name", "varchar(255)");
      await toUser(key, n.keyTable).execute();
      await s.index(n.keyTable, ["value"], true);
      await s.index(n.keyTable, [uid]);
      await s.index(n.keyTable, ["expires"]);

      const client = s
        .table(n.clientTable)
        .addColumn("client_id", "varchar(255)", (c) => c.primaryKey())
        .addColumn("client_name", "varchar(255)", notNull)
        .addColumn("confidential", "boolean", (c) => c.notNull().defaultTo(true))
        .addColumn("client_secret", "varchar(255)")
        .addColumn(uid, "integer");
      await toUser(client, n.clientTable).execute();
      await s.index(n.clientTable, [uid, "client_name"], true);

      const uris = s
        .table(n.redirectUriTable)
        .addColumn("id", s.idType, s.autoId)
        .addColumn("client_id", "varchar(255)", notNull)
        .addColumn("uri", s.uriType, notNull);
      await toClient(uris, n.redirectUriTable).execute();
      await s.index(n.redirectUriTable, ["client_id", "uri"], true);

      const flows = s
        .table(n.validFlowTable)
        .addColumn("id", s.idType, s.autoId)
        .addColumn("client_id", "varchar(255)", notNull)
        .addColumn("flow", "varchar(255)", notNull);
      await toClient(flows, n.validFlowTable).execute();
      await s.index(n.validFlowTable, ["client_id", "flow"], true);

      const authorizations = s
        .table(n.authorizationTable)
        .addColumn("id", s.idType, s.autoId)
        .addColumn("client_id", "varchar(255)", notNull)
        .addColumn(uid, "integer")
        .addColumn("scope", "varchar(255)");
      await toUser(toClient(authorizations, n.authorizationTable), n.authorizationTable).execute();
      await s.index(n.authorizationTable, ["client_id", uid]);
    },
  };
}

/**
 * The Crossauth migrations for a set of table names, by name (applied in name order).
 * @param names - resolved table names
 */
export function crossauthMigrations(names: Required<SqlTableNames>): Record<string, Migration> {
  return { "0001_initial_schema": initialSchema(names) };
}
