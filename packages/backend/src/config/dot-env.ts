/**
 * Loading `.env` files into the environment, so that `CROSSAUTH_*` settings can live in a file.
 * @module
 */
import { readFileSync } from "node:fs";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { parse } from "dotenv";

/**
 * Reads a `.env` file (`NAME=value` lines, `#` comments, quoted and multi-line quoted values,
 * `export` prefixes) into the environment. Variables already set win over the file.
 * @param path - file to read; default `.env` in the working directory
 * @param env - environment to fill; default `process.env`
 * @returns the names of the variables that were set from the file (none when it does not exist)
 * @throws CrossauthError `Configuration` when the file exists but cannot be read
 */
export function loadDotEnv(path = ".env", env: NodeJS.ProcessEnv = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new CrossauthError(ErrorCode.Configuration, `Cannot read environment file ${path}`);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parse(text))) {
    if (env[name] === undefined) {
      env[name] = value;
      set.push(name);
    }
  }
  return set;
}
