/**
 * `runCli`: the `crossauth` command-line tool, independent of the process (tests call it directly).
 * @module
 */
import { CrossauthError, OAuthFlows } from "@crossauth/common";
import type { ServerConfig } from "../config.js";
import { APIKEY_USAGE, apiKeyCommands } from "./apikey-commands.js";
import { BASIC_USAGE, migrate, secret } from "./basic-commands.js";
import { CliContext, CliError, type CliIo } from "./cli-context.js";
import { CLIENT_USAGE, clientCommands } from "./client-commands.js";
import { USER_USAGE, userCommands } from "./user-commands.js";

/** The text of `crossauth --help`. */
export const HELP = [
  "crossauth: manage the Crossauth reference server's database",
  "",
  "usage:",
  ...[
    BASIC_USAGE.migrate,
    ...Object.values(USER_USAGE),
    ...Object.values(APIKEY_USAGE),
    ...Object.values(CLIENT_USAGE),
    BASIC_USAGE.secret,
  ].map((line) => `  ${line}`),
  "  crossauth --help",
  "",
  "The database is DATABASE_URL (default sqlite://<CROSSAUTH_DATA_DIR>/crossauth.db, data dir ./data),",
  "as for the server; a .env file in the working directory is read. A new password may be given in",
  "CROSSAUTH_NEW_PASSWORD instead of on the command line. API key tokens and secrets are printed once.",
  `OAuth flows: ${Object.values(OAuthFlows).join(", ")} (CROSSAUTH_VALID_FLOWS may allow fewer).`,
].join("\n");

type Command = (ctx: CliContext, args: string[]) => Promise<void>;

/** Commands by name; groups (`user`, `apikey`, `client`) take a sub-command. */
const commands: Readonly<Record<string, Command | Readonly<Record<string, Command>>>> = Object.freeze({
  migrate,
  secret,
  user: userCommands,
  apikey: apiKeyCommands,
  client: clientCommands,
});

/** The command for the arguments, and the arguments left for it. */
function findCommand(args: string[]): [Command, string[]] {
  const [name = "", sub = "", ...rest] = args;
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (entry === undefined) throw new CliError(`unknown command ${JSON.stringify(name)}\n\n${HELP}`);
  if (typeof entry === "function") return [entry, args.slice(1)];
  const command = Object.hasOwn(entry, sub) ? entry[sub] : undefined;
  if (command === undefined) {
    const known = Object.keys(entry).join(", ");
    throw new CliError(`unknown ${name} command ${JSON.stringify(sub)}; use one of: ${known}`);
  }
  return [command, rest];
}

/**
 * Runs the tool.
 * @param args - the arguments after the program name
 * @param io - where output goes
 * @param readConfig - reads the configuration (the server's `readServerConfig`)
 * @returns the exit code: 0 on success, 1 on any failure (reported as `crossauth: <message>`)
 */
export async function runCli(args: string[], io: CliIo, readConfig: () => ServerConfig): Promise<number> {
  if (args.length === 0) {
    io.err(HELP);
    return 1;
  }
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    io.out(HELP);
    return 0;
  }
  const ctx = new CliContext(io, readConfig);
  try {
    const [command, rest] = findCommand(args);
    await command(ctx, rest);
    return 0;
  } catch (e) {
    const message =
      e instanceof CliError || e instanceof CrossauthError
        ? e.message
        : `unexpected error: ${e instanceof Error ? e.message : String(e)}`;
    io.err(`crossauth: ${message}`);
    return 1;
  } finally {
    await ctx.close();
  }
}
