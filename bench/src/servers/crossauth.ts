/**
 * The reference server with one extra route for the benchmark: `GET /bench/protected`, guarded by
 * `requireUser` of `@crossauth/fastify`, answering the user's id and name.
 *
 * `createServer` of `apps/server` makes its Fastify instance ready before returning it, and a ready
 * instance takes no more routes; so this entry builds the same server from the same exported parts
 * (configuration from the environment, `openDatabase`, `migrateToLatest`, `createServices`, the
 * Crossauth plugin with the server's views, the home page and the health check, the same logger
 * options) and adds the route before `ready()`. Only the periodic purge of expired keys is left out.
 * @module
 */
import { migrateToLatest } from "@crossauth/backend";
import { crossauthPlugin, requireUser } from "@crossauth/fastify";
import { readServerConfig } from "@crossauth/server/dist/config.js";
import { openDatabase } from "@crossauth/server/dist/database.js";
import { loggerOptions } from "@crossauth/server/dist/logging.js";
import { registerHealthCheck, registerHomePage } from "@crossauth/server/dist/routes.js";
import { loadSecret } from "@crossauth/server/dist/secret.js";
import { SERVER_VIEWS_DIR } from "@crossauth/server/dist/server.js";
import { closeServices, createServices } from "@crossauth/server/dist/services.js";
import Fastify from "fastify";
import { PROTECTED_PATH } from "../paths.js";
import { failStartup, listenForBench } from "./listen.js";

try {
  const config = readServerConfig();
  const app = Fastify({ logger: loggerOptions(config.serverLogLevel) });
  const secret = loadSecret(config);
  const db = openDatabase(config.databaseUrl);
  await migrateToLatest(db);
  const services = createServices(db, config, secret.secret);
  app.decorate("crossauthServices", services);
  app.addHook("onClose", async () => {
    await closeServices(services);
  });
  await app.register(crossauthPlugin, {
    sessionManager: services.sessionManager,
    apiKeyManager: services.apiKeyManager,
    clientManager: services.clientManager,
    endpoints: { enableOAuthClientManagement: true },
    pages: { views: SERVER_VIEWS_DIR },
  });
  registerHomePage(app, services);
  registerHealthCheck(app, services);
  app.get(PROTECTED_PATH, { preHandler: requireUser }, async (request) => ({
    ok: true,
    user: { id: request.user?.id, username: request.user?.username },
  }));
  await app.ready();
  await listenForBench(app);
} catch (e) {
  await failStartup(e);
}
