/**
 * What every benchmark server does at the end of start-up: listen on 127.0.0.1 at `PORT`, tell the
 * benchmark, and close gracefully on SIGTERM/SIGINT (so that `--cpu-prof` profiles are written).
 * @module
 */
import type { FastifyInstance } from "fastify";
import { tellBench } from "../protocol.js";

/** The loopback address every benchmark server listens on. */
export const LOOPBACK = "127.0.0.1";

/** `PORT` as a number (0 when unset: any free port). */
export function portFromEnv(): number {
  const port = Number(process.env.PORT ?? "0");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("PORT must be a port number");
  return port;
}

/** Reports a start-up failure to the benchmark and exits with 1. */
export async function failStartup(e: unknown): Promise<never> {
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  console.error(message);
  await tellBench({ type: "bench:failed", message });
  process.exit(1);
}

/**
 * Listens on 127.0.0.1:`PORT`, sends `bench:ready` with the port and `info`, and closes the app on
 * SIGTERM or SIGINT before exiting.
 * @param app - a ready Fastify instance
 * @param info - data for the benchmark (e.g. cookies of seeded sessions)
 */
export async function listenForBench(app: FastifyInstance, info?: unknown): Promise<void> {
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    const timer = setTimeout(() => process.exit(0), 5000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  await app.listen({ port: portFromEnv(), host: LOOPBACK });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : portFromEnv();
  await tellBench({ type: "bench:ready", port, info });
}
