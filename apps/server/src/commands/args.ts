/**
 * Argument parsing of the `crossauth` tool, on `node:util` `parseArgs` (unknown options are errors).
 * @module
 */
import { parseArgs } from "node:util";
import { CliError } from "./cli-context.js";

/**
 * Options a command accepts: name → `string` (takes a value), `strings` (takes a value and may be
 * repeated; its values in order) or `boolean` (a flag).
 */
export type OptionSpec = Record<string, "string" | "strings" | "boolean">;

/** Parsed arguments: positionals and option values. */
export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | string[] | boolean | undefined>;
}

/**
 * Parses a command's arguments.
 * @param args - the arguments after the command name
 * @param spec - the options it accepts
 * @param usage - the command's usage line, for error messages
 * @param count - how many positionals it takes: `[min, max]`
 * @throws CliError for unknown options, missing option values or a wrong number of positionals
 */
export function parseCommandArgs(
  args: string[],
  spec: OptionSpec,
  usage: string,
  count: [number, number],
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(spec).map(([name, type]) => [
          name,
          type === "strings" ? { type: "string" as const, multiple: true } : { type },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\nusage: ${usage}`);
  }
  const [min, max] = count;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new CliError(`wrong number of arguments\nusage: ${usage}`);
  }
  return {
    positionals: parsed.positionals,
    values: parsed.values as ParsedArgs["values"],
  };
}
