/**
 * The crossauth-migrate command, run as a child process (from dist, built first when stale).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { connectDatabase, KyselyUserStorage } from "@crossauth/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../..", import.meta.url));
const srcDir = join(root, "packages/backend/src/storage/sql");
const command = join(root, "packages/backend/dist/storage/sql/migrate-command.js");

/** Builds the packages when the command is missing or older than a source file. */
async function ensureBuilt(): Promise<void> {
  const built = existsSync(command) ? statSync(command).mtimeMs : 0;
  if (readdirSync(srcDir).every((f) => statSync(join(srcDir, f)).mtimeMs <= built)) return;
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  await run(process.execPath, [tsc, "-b", "packages/common", "packages/backend"], { cwd: root }).catch(
    () => undefined,
  );
  if (!existsSync(command)) throw new Error(`${command} was not built`);
}

async function migrate(args: string[], env: Record<string, string> = {}, cwd = tmpdir()) {
  try {
    const { stdout, stderr } = await run(process.execPath, [command, ...args], {
      cwd,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("crossauth-migrate", () => {
  const dir = mkdtempSync(join(tmpdir(), "crossauth-migrate-"));
  beforeAll(ensureBuilt, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("migrates a SQLite file, then reports it up to date", async () => {
    const url = `sqlite:${join(dir, "a.db")}`;
    const first = await migrate([url]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("applied 0001_initial_schema");
    const second = await migrate([url]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("up to date");
    const db = connectDatabase(url);
    try {
      const user = await new KyselyUserStorage(db).createUser({
        username: "m",
        state: "active",
        factor1: "x",
      });
      expect(user.id).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it("reads DATABASE_URL, and defaults to sqlite:crossauth.db in the working directory", async () => {
    const fromEnv = await migrate([], { DATABASE_URL: `sqlite:${join(dir, "env.db")}` });
    expect(fromEnv.code).toBe(0);
    expect(existsSync(join(dir, "env.db"))).toBe(true);
    const cwd = mkdtempSync(join(dir, "cwd-"));
    const byDefault = await migrate([], { DATABASE_URL: "" }, cwd);
    expect(byDefault.code).toBe(0);
    expect(existsSync(join(cwd, "crossauth.db"))).toBe(true);
  });

  it("exits with 1 and a clear message on failure, without printing passwords", async () => {
    const badScheme = await migrate(["redis://localhost/0"]);
    expect(badScheme.code).toBe(1);
    expect(badScheme.stderr).toMatch(/crossauth-migrate: .*Unsupported database URL scheme redis/);
    const unreachable = await migrate(["postgres://user:hunter2@127.0.0.1:1/test"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("Cannot reach the database");
    expect(unreachable.stderr).not.toContain("hunter2");
  }, 30_000);
});
