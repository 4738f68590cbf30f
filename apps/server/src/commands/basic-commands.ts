/**
 * `crossauth migrate` and `crossauth secret`.
 * @module
 */
import { migrateToLatest, randomValue, redactDatabaseUrl } from "@crossauth/backend";
import { parseCommandArgs } from "./args.js";
import type { CliContext } from "./cli-context.js";

/** Usage lines of these commands. */
export const BASIC_USAGE = Object.freeze({
  migrate: "crossauth migrate",
  secret: "crossauth secret",
});

/** `migrate`: creates or upgrades the schema of `DATABASE_URL`. */
export async function migrate(ctx: CliContext, args: string[]): Promise<void> {
  parseCommandArgs(args, {}, BASIC_USAGE.migrate, [0, 0]);
  const where = redactDatabaseUrl(ctx.config.databaseUrl);
  const { executed } = await migrateToLatest(ctx.openDb());
  if (executed.length === 0) ctx.io.out(`${where} is up to date`);
  for (const name of executed) ctx.io.out(`${where}: applied ${name}`);
}

/** `secret`: prints a fresh secret (`randomValue(32)`) for `CROSSAUTH_SECRET`; touches nothing. */
export async function secret(ctx: CliContext, args: string[]): Promise<void> {
  parseCommandArgs(args, {}, BASIC_USAGE.secret, [0, 0]);
  ctx.io.out(randomValue(32));
}
