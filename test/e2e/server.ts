/**
 * The reference server as the end-to-end tests run it: the BUILT entry point
 * (`node apps/server/dist/main.js`, what `npm start` runs after building) as a child process, on a
 * free port, with its own temporary data directory and SQLite database.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { closedPort } from "../../packages/backend/test/email/smtp-fixture.js";

/** The repository's root directory. */
export const repoRoot: string = fileURLToPath(new URL("../..", import.meta.url));

/** The built entry point of the reference server, relative to {@link repoRoot}. */
export const SERVER_ENTRY = "apps/server/dist/main.js";

/** The built `crossauth` command-line tool, relative to {@link repoRoot}. */
export const CLI_ENTRY = "apps/server/dist/cli.js";

/** The workspaces `npm run build` compiles, in order. */
const BUILD_PROJECTS = ["packages/common", "packages/backend", "packages/fastify", "apps/server"];

/** The secret every test server signs cookies and tokens with (never used outside tests). */
export const TEST_SECRET = "e2e-test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

/** How long the server may take to start, and to stop after SIGTERM. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** How long one run of the command-line tool may take. */
const CLI_TIMEOUT_MS = 30_000;
/** Tries (and the pause between them) of the health check once the server says it listens. */
const HEALTH_TRIES = 50;
const HEALTH_RETRY_MS = 100;

/**
 * Makes sure `apps/server/dist/main.js` and `apps/server/dist/cli.js` exist: when one does not (no
 * `npm test`/`npm start` ran), compiles the workspace with `tsc -b` as `npm run build` does.
 * @throws Error when an entry point still does not exist after the build
 */
export async function ensureServerBuilt(): Promise<void> {
  const entries = [SERVER_ENTRY, CLI_ENTRY];
  if (entries.every((entry) => existsSync(join(repoRoot, entry)))) return;
  const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
  await promisify(execFile)(process.execPath, [tsc, "-b", ...BUILD_PROJECTS], {
    cwd: repoRoot,
    timeout: 180_000,
  });
  for (const entry of entries) {
    if (!existsSync(join(repoRoot, entry))) throw new Error(`${entry} was not built`);
  }
}

/**
 * The test process's environment without anything that configures the server (`NODE_ENV`, `PORT`,
 * `HOST`, `DATABASE_URL`, `CROSSAUTH_*`), so that only what a test sets applies.
 */
export function neutralEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (["NODE_ENV", "PORT", "HOST", "DATABASE_URL"].includes(name) || name.startsWith("CROSSAUTH_"))
      continue;
    env[name] = value;
  }
  return env;
}

/** A free local TCP port (bound, then released). */
export function freePort(): Promise<number> {
  return closedPort();
}

/** What {@link startServerProcess} starts. */
export interface ServerProcessOptions {
  /** The entry point's arguments to `node`, relative to `cwd` or absolute; default {@link SERVER_ENTRY}. */
  script?: string;
  /** Working directory; default the repository root. */
  cwd?: string;
  /** The whole environment of the process (start from {@link neutralEnv}). */
  env: NodeJS.ProcessEnv;
  /** The port it was told to listen on (`PORT`). */
  port: number;
}

/** A started reference server. */
export interface RunningServer {
  /** `http://localhost:<port>`, where it serves. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Everything it printed on standard output so far. */
  stdout(): string;
  /** Everything it printed on standard error so far. */
  stderr(): string;
  /**
   * Sends SIGTERM and waits (at most 10 s, then SIGKILL) for the process to exit.
   * @returns its exit code (null when killed by a signal)
   */
  stop(): Promise<number | null>;
}

/** Resolves once `predicate(stdout)` holds, rejects when the process exits first or after `timeoutMs`. */
function waitForOutput(
  child: ChildProcess,
  exited: Promise<number | null>,
  output: () => string,
  predicate: (stdout: string) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`the server did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      if (!predicate(output())) return;
      finish();
      resolve();
    };
    const finish = () => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
    };
    child.stdout?.on("data", check);
    exited.then((code) => {
      finish();
      reject(new Error(`the server exited with ${code} before it was ready`));
    });
    check();
  });
}

/** Polls `GET /health` (at most {@link HEALTH_TRIES} times) until it answers `{ok: true}`. */
async function waitForHealth(url: string): Promise<void> {
  let last = "no answer";
  for (let i = 0; i < HEALTH_TRIES; i++) {
    try {
      const response = await fetch(`${url}/health`);
      const body = await response.text();
      if (response.status === 200 && JSON.parse(body).ok === true) return;
      last = `${response.status} ${body}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, HEALTH_RETRY_MS));
  }
  throw new Error(`GET ${url}/health did not answer ok after ${HEALTH_TRIES} tries: ${last}`);
}

/**
 * Starts `node <script>` and waits until it prints that it listens and `GET /health` answers ok.
 * @throws Error, with what the process printed, when it exits or does not become ready in time
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<RunningServer> {
  const child = spawn(process.execPath, [options.script ?? SERVER_ENTRY], {
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://localhost:${options.port}`;
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await waitForOutput(
      child,
      exited,
      () => stdout,
      (out) => out.includes(`Crossauth server listening on ${url}`),
      START_TIMEOUT_MS,
    );
    await waitForHealth(url);
  } catch (e) {
    await stop();
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(`${reason}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
  return { url, port: options.port, stdout: () => stdout, stderr: () => stderr, stop };
}

/** Options of {@link startReferenceServer}. */
export interface ReferenceServerOptions {
  /** Port of the SMTP listener the server sends its emails to (on 127.0.0.1). */
  smtpPort: number;
  /** Sender of the emails; default `Crossauth E2E <noreply@example.com>`. */
  emailFrom?: string;
  /** Further variables (e.g. `CROSSAUTH_*` options). */
  env?: NodeJS.ProcessEnv;
}

/** A reference server with its own data directory, removed by `stop`. */
export interface TestServer extends RunningServer {
  /** Its temporary data directory (holding the SQLite database). */
  dataDir: string;
  /** The whole environment it was started with (`DATABASE_URL`, `CROSSAUTH_*`, ...). */
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the built reference server for a browser test: a free port, a temporary data directory
 * with a SQLite database, `NODE_ENV=development` (cookies without `Secure`, so they work on
 * http://localhost), {@link TEST_SECRET}, 10 000 PBKDF2 iterations (fast), emails over SMTP to
 * 127.0.0.1:`smtpPort`, and `CROSSAUTH_SITE_URL=http://localhost:<port>` for the emailed links.
 * The working directory is the data directory, so no `.env` file of the repository applies.
 * `stop` also deletes the data directory.
 */
export async function startReferenceServer(options: ReferenceServerOptions): Promise<TestServer> {
  await ensureServerBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), "crossauth-e2e-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...neutralEnv(),
    NODE_ENV: "development",
    PORT: String(port),
    DATABASE_URL: `sqlite://${join(dataDir, "crossauth.db")}`,
    CROSSAUTH_DATA_DIR: dataDir,
    CROSSAUTH_SECRET: TEST_SECRET,
    CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS: "10000",
    CROSSAUTH_SMTP_HOST: "127.0.0.1",
    CROSSAUTH_SMTP_PORT: String(options.smtpPort),
    CROSSAUTH_EMAIL_FROM: options.emailFrom ?? "Crossauth E2E <noreply@example.com>",
    CROSSAUTH_SITE_URL: `http://localhost:${port}`,
    ...options.env,
  };
  let server: RunningServer;
  try {
    server = await startServerProcess({ script: join(repoRoot, SERVER_ENTRY), cwd: dataDir, env, port });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ...server,
    dataDir,
    env,
    stop: async () => {
      try {
        return await server.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** What one run of the command-line tool printed, and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `crossauth` tool (`node apps/server/dist/cli.js <args>`) on a started server's
 * database: with the server's environment and its data directory as the working directory, as an
 * operator next to the server would.
 * @param server - a server from {@link startReferenceServer}
 * @param args - the tool's arguments, e.g. `["user", "create", "admin", ...]`
 * @returns the exit code (non-zero ones too) and the output
 * @throws Error when the tool cannot be started or runs longer than 30 s
 */
export function runCrossauthCli(server: TestServer, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot, CLI_ENTRY), ...args],
      { cwd: server.dataDir, env: server.env, timeout: CLI_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : undefined) : 0;
        if (code === undefined) reject(new Error(`crossauth ${args.join(" ")} failed: ${error?.message}`));
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The root `package.json`'s scripts. */
export function rootScripts(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  return pkg.scripts ?? {};
}
