/**
 * `crossauth apikey create|list|revoke`: API keys of a user. The token of a new key is printed
 * once (only its hash is stored); listings never show key values.
 * @module
 */

import { ApiKeyManager, type KeyReturn } from "@crossauth/backend";
import { CrossauthError, ErrorCode, type Key } from "@crossauth/common";
import { parseCommandArgs } from "./args.js";
import { type CliContext, CliError } from "./cli-context.js";
import { formatTable } from "./table.js";

/** Usage lines of the API key commands. */
export const APIKEY_USAGE = Object.freeze({
  create: "crossauth apikey create <username> <name> [--scope <a,b,...>] [--expires <seconds>]",
  list: "crossauth apikey list <username>",
  revoke: "crossauth apikey revoke <username> <name>",
});

const SCOPE = /^[\x21-\x7e]+$/;

/** The scopes of `--scope a,b`: trimmed, non-empty, printable ASCII without spaces. */
function parseScopes(text: string | undefined): string[] {
  if (text === undefined) return [];
  const scopes = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const scope of scopes) {
    if (!SCOPE.test(scope)) throw new CliError(`invalid scope ${JSON.stringify(scope)}`);
  }
  return scopes;
}

/** The seconds of `--expires`: a positive integer, or undefined for a key that never expires. */
function parseExpiry(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = /^[0-9]{1,10}$/.test(text) ? Number(text) : 0;
  if (seconds <= 0) throw new CliError("--expires must be a positive number of seconds");
  return seconds;
}

/** The API keys of a user (keys with the manager's prefix). */
async function apiKeysOf(ctx: CliContext, manager: ApiKeyManager, userid: string | number): Promise<Key[]> {
  const { keyStorage } = await ctx.storages();
  const keys = await keyStorage.getAllForUser(userid);
  return keys.filter((k) => k.value.startsWith(manager.prefix));
}

/** `apikey create`: prints the token on standard output, the notes on standard error. */
async function createApiKey(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals, values } = parseCommandArgs(
    args,
    { scope: "string", expires: "string" },
    APIKEY_USAGE.create,
    [2, 2],
  );
  const name = positionals[1] as string;
  if (name.trim() === "") throw new CliError("the key name must not be empty");
  const scope = parseScopes(values.scope as string | undefined);
  const expires = parseExpiry(values.expires as string | undefined);
  const { user } = await ctx.user(positionals[0] as string);
  const manager = await ctx.apiKeyManager();
  let created: KeyReturn;
  try {
    created = await manager.createKey(name, user.id, scope.length ? { scope } : {}, expires);
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.KeyExists) {
      throw new CliError(`${user.username} already has an API key named ${name}`);
    }
    throw e;
  }
  const { key, token } = created;
  const details = [
    scope.length ? `scope ${scope.join(",")}` : "no scope",
    key.expires ? `expires ${key.expires.toISOString()}` : "never expires",
  ];
  ctx.io.err(`Created API key ${name} for ${user.username} (${details.join(", ")}).`);
  ctx.io.err(`Send it as "Authorization: ${manager.authScheme} <token>". The token is shown only once:`);
  ctx.io.out(token);
}

/** `apikey list`: name, creation, expiry and scope of each key; never the values. */
async function listApiKeys(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseCommandArgs(args, {}, APIKEY_USAGE.list, [1, 1]);
  const { user } = await ctx.user(positionals[0] as string);
  const manager = await ctx.apiKeyManager();
  const keys = await apiKeysOf(ctx, manager, user.id);
  if (keys.length === 0) {
    ctx.io.out(`${user.username} has no API keys.`);
    return;
  }
  const rows = keys.map((k) => [
    String(k.name ?? ""),
    k.created.toISOString(),
    k.expires ? k.expires.toISOString() : "never",
    ApiKeyManager.scopesOf({ ...k, name: String(k.name ?? "") }).join(","),
  ]);
  for (const line of formatTable(["name", "created", "expires", "scope"], rows)) ctx.io.out(line);
}

/** `apikey revoke`: deletes the user's key of this name. */
async function revokeApiKey(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseCommandArgs(args, {}, APIKEY_USAGE.revoke, [2, 2]);
  const name = positionals[1] as string;
  const { user } = await ctx.user(positionals[0] as string);
  const manager = await ctx.apiKeyManager();
  const key = (await apiKeysOf(ctx, manager, user.id)).find((k) => k.name === name);
  if (!key) throw new CliError(`${user.username} has no API key named ${name}`);
  const { keyStorage } = await ctx.storages();
  await keyStorage.deleteKey(key.value);
  ctx.io.out(`Revoked API key ${name} of ${user.username}`);
}

/** The API key commands by name. */
export const apiKeyCommands: Readonly<Record<string, (ctx: CliContext, args: string[]) => Promise<void>>> =
  Object.freeze({
    create: createApiKey,
    list: listApiKeys,
    revoke: revokeApiKey,
  });
