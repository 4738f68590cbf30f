/**
 * Reaching the real services tests run against (PostgreSQL, MariaDB, Redis, OpenLDAP...).
 * A suite whose service is unreachable is skipped with a loud message, except under `CI=true`,
 * where it fails.
 */
import { connect } from "node:net";
import { describe, it } from "vitest";

/** Whether CI mode makes every service mandatory. */
export const servicesMandatory = process.env.CI === "true";

/**
 * Whether a TCP connection to host:port succeeds within `timeoutMs`.
 * @param host - host name or address
 * @param port - TCP port
 */
export function tcpReachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Whether the service at a URL (`scheme://[user@]host:port/...`) accepts TCP connections.
 * @param url - service URL
 * @param defaultPort - port when the URL has none
 */
export function urlReachable(url: string, defaultPort: number): Promise<boolean> {
  const parsed = new URL(url);
  return tcpReachable(parsed.hostname || "127.0.0.1", Number(parsed.port || defaultPort));
}

/**
 * `describe(title, body)` when the service is available. Otherwise: under `CI=true` a failing test
 * naming the service; elsewhere a loud warning and a skipped suite.
 * @param serviceName - e.g. `"PostgreSQL at postgres://..."`
 * @param available - result of a reachability check
 * @param title - suite title
 * @param body - the suite
 */
export function describeWithService(
  serviceName: string,
  available: boolean,
  title: string,
  body: () => void,
): void {
  if (available) {
    describe(title, body);
    return;
  }
  if (servicesMandatory) {
    describe(title, () => {
      it(`${serviceName} is reachable (mandatory under CI=true)`, () => {
        throw new Error(`${serviceName} is not reachable; CI=true makes this suite mandatory`);
      });
    });
    return;
  }
  console.warn(
    `\n!!!!! ${serviceName} is NOT reachable: SKIPPING suite "${title}" (mandatory under CI=true) !!!!!\n`,
  );
  describe.skipIf(true)(title, body);
}
