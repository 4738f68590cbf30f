/**
 * The server's entry point as a real process (built first): it prints its URL, serves, and stops
 * with exit code 0 on SIGTERM and SIGINT; a start-up failure exits with 1 and a clear message.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EnvFixture } from "./env-fixture.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const main = join(root, "apps/server/dist/main.js");
const cli = join(root, "apps/server/dist/cli.js");

/** Builds the workspace (incrementally); the test then needs the entry points to exist. */
async function build(): Promise<void> {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const projects = ["packages/common", "packages/backend", "packages/fastify", "apps/server"];
  await promisify(execFile)(process.execPath, [tsc, "-b", ...projects], { cwd: root }).catch(() => undefined);
  if (!existsSync(main) || !existsSync(cli)) throw new Error("apps/server was not built");
}

/** A started process and everything it printed so far. */
interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(script: string, args: string[], cwd: string): Running {
  const child = spawn(process.execPath, [script, ...args], { cwd, env: process.env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Resolves with the URL once the server printed it (or rejects when it exits first). */
function listeningUrl(server: Running): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /Crossauth server listening on (http:\/\/\S+)\n[\s\S]*Press Ctrl-C to stop\.\n/.exec(
        server.stdout(),
      );
      if (match) resolve(match[1] as string);
    };
    server.child.stdout?.on("data", check);
    server.exit.then((code) => reject(new Error(`exited with ${code}: ${server.stderr()}`)));
    check();
  });
}

let env: EnvFixture;
let server: Running | undefined;
beforeAll(build, 180_000);
beforeEach(() => {
  env = new EnvFixture({ PORT: "0" });
  env.set({ CROSSAUTH_DATA_DIR: undefined }); // the default, ./data in the working directory
});
afterEach(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGKILL");
    await server.exit;
  }
  server = undefined;
  env.restore();
});

describe("npm start's entry point", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`serves, then shuts down with 0 on ${signal}`, async () => {
      server = run(main, [], env.dataDir);
      const url = await listeningUrl(server);
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      expect(server.stdout()).toContain(`Database: sqlite://${join(env.dataDir, "data", "crossauth.db")}`);
      expect(server.stdout()).toContain("Emails are printed here (no SMTP server set).");
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true, database: "up" });
      server.child.kill(signal);
      expect(await server.exit).toBe(0);
      expect(server.stdout()).toContain(`"signal":"${signal}","msg":"Shutting down"`);
      expect(existsSync(join(env.dataDir, "data", "secret"))).toBe(true);
    });
  }

  it("exits with 1 and a clear message in production without a secret", async () => {
    env.set({
      NODE_ENV: "production",
      CROSSAUTH_SMTP_HOST: "127.0.0.1",
      CROSSAUTH_EMAIL_FROM: "a@example.com",
    });
    server = run(main, [], env.dataDir);
    expect(await server.exit).toBe(1);
    expect(server.stderr()).toContain(
      "crossauth server: configuration error: CROSSAUTH_SECRET must be set in production (NODE_ENV=production).",
    );
    expect(existsSync(join(env.dataDir, "data"))).toBe(false);
  });

  it("the crossauth tool runs from the build and reads .env", async () => {
    writeFileSync(join(env.dataDir, ".env"), "CROSSAUTH_DATA_DIR=from-dotenv\n");
    const created = run(
      cli,
      ["user", "create", "admin", "--password", "Correct-Horse-9", "--admin"],
      env.dataDir,
    );
    expect(await created.exit).toBe(0);
    expect(created.stdout()).toBe("Created admin user admin (id 1)\n");
    expect(existsSync(join(env.dataDir, "from-dotenv", "crossauth.db"))).toBe(true);
    const failed = run(cli, ["user", "delete", "nobody"], env.dataDir);
    expect(await failed.exit).toBe(1);
    expect(failed.stderr()).toBe("crossauth: no user named nobody\n");
  });
});
