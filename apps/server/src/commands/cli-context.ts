/**
 * What every command of the `crossauth` tool works with: where output goes, the configuration,
 * and the database and services, opened on first use and closed once at the end.
 * @module
 */

import {
  ApiKeyManager,
  type LocalPasswordAuthenticator,
  migrateToLatest,
  type OAuthClientManager,
} from "@crossauth/backend";
import { CrossauthError, ErrorCode, type UserAndSecrets } from "@crossauth/common";
import type { ServerConfig } from "../config.js";
import { type Database, openDatabase } from "../database.js";
import { loadSecret } from "../secret.js";
import {
  createClientManager,
  createPasswordAuthenticator,
  createStorages,
  type Storages,
} from "../services.js";

/** Where a command writes: `out` for results, `err` for notes and errors. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** A failure the tool reports as `crossauth: <message>` with exit code 1. */
export class CliError extends Error {}

/**
 * The configuration and database of one run of the tool, opened lazily (`secret` needs neither).
 * The database is migrated when opened, so commands work on a fresh file.
 */
export class CliContext {
  readonly io: CliIo;
  private readonly readConfig: () => ServerConfig;
  private configValue: ServerConfig | undefined;
  private dbValue: Database | undefined;
  private storagesValue: Storages | undefined;

  /**
   * @param io - output
   * @param readConfig - reads the configuration (the server's `readServerConfig`)
   */
  constructor(io: CliIo, readConfig: () => ServerConfig) {
    this.io = io;
    this.readConfig = readConfig;
  }

  /** The configuration, read on first use. */
  get config(): ServerConfig {
    this.configValue ??= this.readConfig();
    return this.configValue;
  }

  /** The database, opened (not migrated) on first use. */
  openDb(): Database {
    this.dbValue ??= openDatabase(this.config.databaseUrl);
    return this.dbValue;
  }

  /** The storages over the migrated database. */
  async storages(): Promise<Storages> {
    if (!this.storagesValue) {
      const db = this.openDb();
      await migrateToLatest(db);
      this.storagesValue = createStorages(db, this.config);
    }
    return this.storagesValue;
  }

  /** The password authenticator, peppered with the secret when there is one. */
  async passwordAuthenticator(): Promise<LocalPasswordAuthenticator> {
    const { userStorage } = await this.storages();
    const secret = loadSecret(this.config, !this.config.production)?.secret;
    return createPasswordAuthenticator(userStorage, this.config, secret);
  }

  /**
   * The API key manager, with the server's secret (tokens are signed with it).
   * @throws CrossauthError `Configuration` in production without `CROSSAUTH_SECRET`
   */
  async apiKeyManager(): Promise<ApiKeyManager> {
    const { keyStorage } = await this.storages();
    return new ApiKeyManager(keyStorage, { secret: loadSecret(this.config).secret });
  }

  /**
   * The OAuth client manager, as the server makes it.
   * @throws CrossauthError `Configuration` for a bad `CROSSAUTH_VALID_FLOWS`
   */
  async clientManager(): Promise<OAuthClientManager> {
    const { clientStorage } = await this.storages();
    return createClientManager(clientStorage);
  }

  /**
   * The user with this username, whatever its state.
   * @throws CliError when there is none
   */
  async user(username: string): Promise<UserAndSecrets> {
    const { userStorage } = await this.storages();
    try {
      return await userStorage.getUserByUsername(username, {
        skipActiveCheck: true,
        skipEmailVerifiedCheck: true,
      });
    } catch (e) {
      if (e instanceof CrossauthError && e.code === ErrorCode.UserNotExist) {
        throw new CliError(`no user named ${username}`);
      }
      throw e;
    }
  }

  /** Closes the database, if it was opened. */
  async close(): Promise<void> {
    await this.dbValue?.destroy().catch(() => undefined);
    this.dbValue = undefined;
    this.storagesValue = undefined;
  }
}
