/**
 * `createServer`: the reference server as a Fastify instance — migrated database, Crossauth
 * services, every endpoint through the `@crossauth/fastify` plugin, a home page, a health check,
 * request logs and a periodic purge of expired keys.
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrateToLatest } from "@crossauth/backend";
import { CrossauthLogger } from "@crossauth/common";
import { crossauthPlugin } from "@crossauth/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import type { ServerConfig } from "./config.js";
import { openDatabase } from "./database.js";
import { type LogStream, loggerOptions } from "./logging.js";
import { registerHealthCheck, registerHomePage } from "./routes.js";
import { loadSecret, secretWarning } from "./secret.js";
import { type CrossauthServices, closeServices, createServices } from "./services.js";

/** The server's own templates (`views/pages/home.njk`), searched before the backend's. */
export const SERVER_VIEWS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "views");

declare module "fastify" {
  interface FastifyInstance {
    /** The storages, authenticators and managers the server runs on. */
    crossauthServices: CrossauthServices;
    /** Deletes expired keys (sessions, tokens, API keys) now; the timer calls it periodically. */
    purgeExpiredKeys(): Promise<number>;
  }
}

/** Options of {@link createServer}, mostly for tests. */
export interface CreateServerOptions {
  /** Clock of sessions, API keys and the purge; default the current time. */
  now?: () => Date;
  /** Where log lines go; default standard output. */
  logStream?: LogStream;
  /** Send Crossauth's own log records to the request logger (the entry point does; tests need not). */
  useAsCrossauthLogger?: boolean;
}

/**
 * Builds the reference server (not yet listening): checks the secret (see `loadSecret`), opens
 * and migrates the database, creates the services, registers the Crossauth plugin, `GET /`,
 * `GET /health` and the purge timer (unref'd, every `purgeInterval` seconds). Closing the instance
 * stops the timer, waits for background work and closes the database.
 * @param config - see `readServerConfig`
 * @param options - see {@link CreateServerOptions}
 * @throws CrossauthError `Configuration` (e.g. no secret in production), `Connection` (database)
 */
export async function createServer(
  config: ServerConfig,
  options: CreateServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: loggerOptions(config.serverLogLevel, options.logStream) });
  if (options.useAsCrossauthLogger) CrossauthLogger.setLogger(app.log, true);
  const secret = loadSecret(config);
  const warning = secretWarning(secret);
  if (warning) app.log.warn(warning);
  const db = openDatabase(config.databaseUrl);
  let services: CrossauthServices;
  try {
    await migrateToLatest(db);
    services = createServices(db, config, secret.secret, options);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw e;
  }
  const now = options.now ?? (() => new Date());
  const purgeExpiredKeys = async (): Promise<number> => {
    const deleted = await services.keyStorage.deleteExpired(now());
    if (deleted > 0) app.log.info({ deleted }, "Purged expired keys");
    return deleted;
  };
  app.decorate("crossauthServices", services);
  app.decorate("purgeExpiredKeys", purgeExpiredKeys);
  const purgeTimer =
    config.purgeInterval > 0
      ? setInterval(() => {
          purgeExpiredKeys().catch((e: unknown) => app.log.error({ err: e }, "Purging expired keys failed"));
        }, config.purgeInterval * 1000).unref()
      : undefined;
  app.addHook("onClose", async () => {
    clearInterval(purgeTimer);
    await closeServices(services);
  });
  try {
    await app.register(crossauthPlugin, {
      sessionManager: services.sessionManager,
      apiKeyManager: services.apiKeyManager,
      clientManager: services.clientManager,
      // Everything is on by default; CROSSAUTH_ENABLE_OAUTH_CLIENT_MANAGEMENT=false turns client management off.
      endpoints:
        process.env.CROSSAUTH_ENABLE_OAUTH_CLIENT_MANAGEMENT === undefined
          ? { enableOAuthClientManagement: true }
          : {},
      pages: { views: SERVER_VIEWS_DIR },
    });
    registerHomePage(app, services);
    registerHealthCheck(app, services);
    await app.ready();
  } catch (e) {
    clearInterval(purgeTimer);
    await closeServices(services);
    await app.close().catch(() => undefined);
    throw e;
  }
  return app;
}
