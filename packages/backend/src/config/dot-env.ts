/**
 * Loading `.env` files into the environment, so that `CROSSAUTH_*` settings can live in a file.
 * @module
 */
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { CrossauthError, ErrorCode } from "@crossauth/common";

/**
 * Blanks the lines that are not `NAME=value` assignments (indented comments, stray text, `=value`),
 * leaving lines inside multi-line quoted values alone. Node 20's `parseEnv` joins such a line to the
 * next one, which loses the next variable and invents one with a garbage name.
 */
function blankNonAssignments(text: string): string {
  let openQuote: string | undefined;
  return text
    .split(/\r?\n/)
    .map((line) => {
      if (openQuote !== undefined) {
        if (line.includes(openQuote)) openQuote = undefined;
        return line;
      }
      const trimmed = line.trim();
      const eq = trimmed.indexOf("=");
      if (trimmed.startsWith("#") || eq < 1) return "";
      const value = trimmed.slice(eq + 1).trimStart();
      const quote = value[0];
      if ((quote === '"' || quote === "'" || quote === "`") && !value.slice(1).includes(quote)) {
        openQuote = quote;
      }
      return line;
    })
    .join("\n");
}

/**
 * Reads a `.env` file (`NAME=value` lines, `#` comments, quoted values) into `process.env`.
 * Variables already set in the environment win over the file.
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
  for (const [name, value] of Object.entries(parseEnv(blankNonAssignments(text)))) {
    if (env[name] === undefined) {
      env[name] = value;
      set.push(name);
    }
  }
  return set;
}
