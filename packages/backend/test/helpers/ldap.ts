/**
 * A private OpenLDAP `slapd` for the LDAP tests, started with `scripts/ldap/start-slapd.sh` on a
 * free local port (so parallel runs don't clash) and stopped with `scripts/ldap/stop-slapd.sh`.
 * The test directory it holds is described in the start script.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "ldapts";

const run = promisify(execFile);
const scripts = fileURLToPath(new URL("../../../../scripts/ldap/", import.meta.url));

/** Path of the slapd binary the start script uses. */
export const SLAPD = "/usr/sbin/slapd";
/** Whether slapd is installed (when not, LDAP suites are skipped locally and fail under CI=true). */
export const slapdInstalled = existsSync(SLAPD);

/** Base DN of the test users. */
export const LDAP_USER_SEARCH_BASE = "ou=users,dc=example,dc=com";
/** Test users of the directory: username (cn), password, uid, mail. */
export const LDAP_USERS = {
  alice: { username: "alice", password: "alicePass1", uid: "alice", mail: "alice@example.com" },
  bob: { username: "bob", password: "bobPass123", uid: "bob", mail: "bob@example.com" },
  special: {
    username: "#o'neil, jr+ünï=test",
    password: "oneilPass1",
    uid: "oneil",
    mail: "oneil@example.com",
  },
} as const;

/** A running slapd. */
export interface Slapd {
  /** `ldap://127.0.0.1:<port>` */
  url: string;
  /** Directory with its configuration and database. */
  dir: string;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address && typeof address === "object") resolve(address.port);
      else reject(new Error("no port"));
    });
  });
}

/** A local TCP port nothing listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a simple bind as `dn` succeeds at `url`. */
async function canBind(url: string, dn: string, password: string): Promise<boolean> {
  const client = new Client({ url, connectTimeout: 2000, timeout: 2000 });
  try {
    await client.bind(dn, password);
    return true;
  } catch {
    return false;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/**
 * Starts slapd on a free port (retrying with another port if that one was taken meanwhile) and
 * checks that alice can bind.
 * @throws Error when slapd does not come up
 */
export async function startSlapd(): Promise<Slapd> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const { stdout } = await run("bash", [`${scripts}start-slapd.sh`, String(port)], { timeout: 30_000 });
      const url = /^LDAP_URL=(.+)$/m.exec(stdout)?.[1];
      const dir = /^SLAPD_DIR=(.+)$/m.exec(stdout)?.[1];
      if (!url || !dir) throw new Error(`start-slapd.sh printed no URL: ${stdout}`);
      const stop = async () => {
        await run("bash", [`${scripts}stop-slapd.sh`, dir], { timeout: 30_000 });
      };
      if (!(await canBind(url, `cn=alice,${LDAP_USER_SEARCH_BASE}`, LDAP_USERS.alice.password))) {
        await stop();
        throw new Error(`slapd at ${url} does not accept alice's bind`);
      }
      return { url, dir, stop };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

/** A TCP server that accepts connections and never answers, counting the connections made. */
export interface SilentServer {
  /** `ldap://127.0.0.1:<port>` */
  url: string;
  /** Number of connections accepted so far. */
  connections(): number;
  /** Closes it. */
  close(): Promise<void>;
}

/** Starts a {@link SilentServer}. */
export async function startSilentServer(): Promise<SilentServer> {
  let count = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    url: `ldap://127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
