#!/usr/bin/env node
import { loadDotEnv, redactDatabaseUrl } from "@crossauth/backend";
/**
 * Starts the reference server: loads `.env`, reads the configuration, builds the server, listens on
 * `HOST:PORT` and prints the URL. SIGTERM and SIGINT close it gracefully (in-flight requests and
 * background work finish, the database is closed) and exit with 0. Start-up failures print a clear
 * message and exit with 1.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { readServerConfig } from "./config.js";
import { createServer } from "./server.js";

/** The message of a start-up failure. */
function describe(e: unknown): string {
  if (e instanceof CrossauthError) {
    return e.code === ErrorCode.Configuration ? `configuration error: ${e.message}` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

try {
  loadDotEnv();
  const config = readServerConfig();
  const app = await createServer(config, { useAsCrossauthLogger: true });
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "Shutting down");
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        app.log.error({ err: e }, "Shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const lines = [
    `Crossauth server listening on http://${shownHost}:${port}`,
    `Database: ${redactDatabaseUrl(config.databaseUrl)}`,
    ...(config.emailTransport === "console" ? ["Emails are printed here (no SMTP server set)."] : []),
    "Press Ctrl-C to stop.",
  ];
  console.log(lines.join("\n"));
} catch (e) {
  console.error(`crossauth server: ${describe(e)}`);
  process.exit(1);
}
