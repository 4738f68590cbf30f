/**
 * The server secret: `CROSSAUTH_SECRET`, or in development one generated once and kept in
 * `<data dir>/secret` (mode 0600) beside the database.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomValue } from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { ServerConfig } from "./config.js";

/** Name of the generated secret's file in the data directory. */
export const SECRET_FILE_NAME = "secret";

/** Where a secret comes from, for the start-up message. */
export type SecretSource = "environment" | "generated" | "file";

/** A secret and where it came from. */
export interface LoadedSecret {
  secret: string;
  source: SecretSource;
  /** The file, for `generated` and `file`. */
  file?: string;
}

/** Reads the secret file; undefined when it does not exist. */
function readSecretFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CrossauthError(ErrorCode.Configuration, `Cannot read the secret file ${file}`);
  }
  const secret = text.trim();
  if (secret === "") throw new CrossauthError(ErrorCode.Configuration, `The secret file ${file} is empty`);
  return secret;
}

/**
 * The secret of the server: `CROSSAUTH_SECRET` when set. Otherwise, in development, the secret in
 * `<dataDir>/secret`, generated (`randomValue(32)`, file mode 0600) when the file does not exist yet;
 * in production, an error.
 * @param config - the server configuration
 * @param generate - whether a missing development secret may be created (default true)
 * @returns the secret and its source, or undefined when `generate` is false and there is none yet
 * @throws CrossauthError `Configuration` in production without `CROSSAUTH_SECRET`, or when the file
 *   cannot be read or written
 */
export function loadSecret(config: ServerConfig, generate?: true): LoadedSecret;
export function loadSecret(config: ServerConfig, generate: boolean): LoadedSecret | undefined;
export function loadSecret(config: ServerConfig, generate = true): LoadedSecret | undefined {
  if (config.secret) return { secret: config.secret, source: "environment" };
  if (config.production) {
    if (!generate) return undefined;
    throw new CrossauthError(
      ErrorCode.Configuration,
      "CROSSAUTH_SECRET must be set in production (NODE_ENV=production). " +
        "Generate one with `npm run crossauth -- secret` and keep it out of version control.",
    );
  }
  const file = join(config.dataDir, SECRET_FILE_NAME);
  const existing = readSecretFile(file);
  if (existing !== undefined) return { secret: existing, source: "file", file };
  if (!generate) return undefined;
  const secret = randomValue(32);
  try {
    mkdirSync(config.dataDir, { recursive: true });
    // `wx`: never overwrite a secret another process wrote meanwhile.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      return { secret: readSecretFile(file) as string, source: "file", file };
    }
    throw new CrossauthError(ErrorCode.Configuration, `Cannot write the secret file ${file}`);
  }
  return { secret, source: "generated", file };
}

/**
 * The warning printed when the secret does not come from the environment; undefined when it does.
 * @param loaded - what {@link loadSecret} returned
 */
export function secretWarning(loaded: LoadedSecret): string | undefined {
  if (loaded.source === "environment") return undefined;
  const what = loaded.source === "generated" ? "generated a new secret in" : "using the secret generated in";
  return `CROSSAUTH_SECRET is not set: ${what} ${loaded.file} (development only; set CROSSAUTH_SECRET in production)`;
}
