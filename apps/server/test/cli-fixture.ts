/**
 * Test helper for the `crossauth` tool: runs `runCli` in a clean environment over a temporary SQLite
 * file, and opens the same database for the test's own checks.
 */

import type { UserAndSecrets } from "@crossauth/common";
import { UserState } from "@crossauth/common";
import { afterEach, beforeEach, expect } from "vitest";
import { runCli } from "../src/commands/run-cli.js";
import { readServerConfig } from "../src/config.js";
import { type Database, openDatabase } from "../src/database.js";
import { createStorages, type Storages } from "../src/services.js";
import { EnvFixture } from "./env-fixture.js";

/** A password the default policy accepts. */
export const PASSWORD = "Correct-Horse-9";

/** What one run of the tool returned and printed. */
export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/** The environment and database of the current test; set up and torn down by {@link useCliFixture}. */
export const fixture: { env: EnvFixture; db: Database | undefined } = {
  env: undefined as unknown as EnvFixture,
  db: undefined,
};

/** Gives every test of the file a fresh environment and data directory. */
export function useCliFixture(): void {
  beforeEach(() => {
    fixture.env = new EnvFixture();
  });
  afterEach(async () => {
    await fixture.db?.destroy();
    fixture.db = undefined;
    fixture.env.restore();
  });
}

/** Runs the tool; returns its exit code and output lines. */
export async function cli(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, readServerConfig);
  return { code, out, err };
}

/** The storages over the tool's database, opened by the test. */
export function storages(): Storages {
  fixture.db ??= openDatabase(readServerConfig().databaseUrl);
  return createStorages(fixture.db, readServerConfig());
}

/** A user and its secrets, whatever its state. */
export async function userNamed(username: string): Promise<UserAndSecrets> {
  return storages().userStorage.getUserByUsername(username, {
    skipActiveCheck: true,
    skipEmailVerifiedCheck: true,
  });
}

/** Creates `alice` (alice@example.com) with the tool; extra arguments are appended. */
export async function createAlice(...extra: string[]): Promise<void> {
  const result = await cli(
    "user",
    "create",
    "alice",
    "--email",
    "alice@example.com",
    "--password",
    PASSWORD,
    ...extra,
  );
  expect(result.code).toBe(0);
  expect((await userNamed("alice")).user.state).toBe(UserState.active);
}
