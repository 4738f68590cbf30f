#!/usr/bin/env node
/**
 * The `crossauth` command-line tool (see `runCli` for the commands): reads `.env` and the same
 * configuration as the server, runs the command, exits with its code.
 * @module
 */
import { loadDotEnv } from "@crossauth/backend";
import { runCli } from "./commands/run-cli.js";
import { readServerConfig } from "./config.js";

const io = { out: (line: string) => console.log(line), err: (line: string) => console.error(line) };
try {
  loadDotEnv();
  process.exitCode = await runCli(process.argv.slice(2), io, readServerConfig);
} catch (e) {
  io.err(`crossauth: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
