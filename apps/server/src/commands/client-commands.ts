/**
 * `crossauth client create|list|delete|reset-secret`: OAuth clients, through the same
 * `OAuthClientManager` as the server's client pages. A confidential client's secret is printed once
 * (only its PBKDF2 hash is stored); listings never show secrets.
 * @module
 */

import type { OAuthClientInfo, OAuthClientManager } from "@crossauth/backend";
import { CrossauthError, ErrorCode, OAuthFlows, type User } from "@crossauth/common";
import { parseCommandArgs } from "./args.js";
import { type CliContext, CliError } from "./cli-context.js";
import { formatTable } from "./table.js";

/** Usage lines of the client commands. */
export const CLIENT_USAGE = Object.freeze({
  create:
    "crossauth client create <name> [--owner <username>] [--confidential] " +
    "[--redirect-uri <uri> ... | --redirect-uris <a,b,...>] [--flows <a,b,...>]",
  list: "crossauth client list [--owner <username>]",
  delete: "crossauth client delete <client_id>",
  resetSecret: "crossauth client reset-secret <client_id>",
});

const KNOWN_FLOWS: readonly string[] = Object.values(OAuthFlows);

/** The non-empty, trimmed items of a comma-separated list, without repeats. */
function commaList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return [
    ...new Set(
      text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    ),
  ];
}

/**
 * The flows of `--flows a,b`: each an OAuth flow the manager allows.
 * @throws CliError naming the first unknown or disallowed flow, with the allowed ones
 */
function parseFlows(manager: OAuthClientManager, text: string | undefined): string[] {
  const flows = commaList(text);
  const allowed = manager.validFlows.join(", ");
  for (const flow of flows) {
    if (!KNOWN_FLOWS.includes(flow)) throw new CliError(`unknown flow ${flow}; use one of: ${allowed}`);
    if (!manager.validFlows.includes(flow)) {
      throw new CliError(`the flow ${flow} is not allowed (CROSSAUTH_VALID_FLOWS); use one of: ${allowed}`);
    }
  }
  return flows;
}

/**
 * The redirect URIs of every `--redirect-uri` and of `--redirect-uris a,b`, in order, without repeats.
 * @throws CliError naming the first URI that is not an absolute URL without a fragment
 */
function parseRedirectUris(
  manager: OAuthClientManager,
  single: string[] | undefined,
  list: string | undefined,
): string[] {
  const uris = [...new Set([...(single ?? []).map((uri) => uri.trim()), ...commaList(list)])];
  for (const uri of uris) {
    try {
      manager.validateRedirectUris([uri]);
    } catch {
      throw new CliError(
        `invalid redirect URI ${JSON.stringify(uri)}: it must be an absolute URL without a fragment`,
      );
    }
  }
  return uris;
}

/**
 * The single `<client_id>` argument of `delete` and `reset-secret`. These commands take no options,
 * so the argument is never read as one: client ids are base64url and may start with `-`. A leading
 * `--` is allowed too.
 * @throws CliError for a wrong number of arguments, with the usage
 */
function clientIdArgument(args: string[], usage: string): string {
  const rest = args[0] === "--" ? args.slice(1) : args;
  return parseCommandArgs(["--", ...rest], {}, usage, [1, 1]).positionals[0] as string;
}

/**
 * The client with this id.
 * @throws CliError when there is none
 */
async function clientNamed(manager: OAuthClientManager, clientId: string): Promise<OAuthClientInfo> {
  try {
    return await manager.getClient(clientId);
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.InvalidClientId) {
      throw new CliError(`no OAuth client with id ${clientId}`);
    }
    throw e;
  }
}

/** "confidential" or "public". */
function clientType(client: OAuthClientInfo): string {
  return client.confidential ? "confidential" : "public";
}

/** `client create`: prints the notes on standard error, then the id and (once) the secret on standard output. */
async function createClient(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals, values } = parseCommandArgs(
    args,
    {
      owner: "string",
      confidential: "boolean",
      "redirect-uri": "strings",
      "redirect-uris": "string",
      flows: "string",
    },
    CLIENT_USAGE.create,
    [1, 1],
  );
  const name = (positionals[0] as string).trim();
  if (name === "") throw new CliError("the client name must not be empty");
  const manager = await ctx.clientManager();
  const flows = parseFlows(manager, values.flows as string | undefined);
  const redirectUris = parseRedirectUris(
    manager,
    values["redirect-uri"] as string[] | undefined,
    values["redirect-uris"] as string | undefined,
  );
  const ownerName = values.owner as string | undefined;
  const owner: User | undefined = ownerName === undefined ? undefined : (await ctx.user(ownerName)).user;
  const confidential = values.confidential === true;
  let created: Awaited<ReturnType<OAuthClientManager["createClient"]>>;
  try {
    created = await manager.createClient(name, redirectUris, flows, confidential, owner?.id ?? null);
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.ClientExists) {
      throw new CliError(
        owner
          ? `${owner.username} already has an OAuth client named ${name}`
          : `an OAuth client named ${name} without owner already exists`,
      );
    }
    throw e;
  }
  const { client, clientSecret } = created;
  const whose = owner ? `for ${owner.username}` : "without owner";
  const details = [
    flows.length ? `flows ${flows.join(",")}` : "no flows",
    redirectUris.length ? `redirect URIs ${redirectUris.join(",")}` : "no redirect URIs",
  ];
  ctx.io.err(`Created ${clientType(client)} OAuth client ${name} ${whose} (${details.join(", ")}).`);
  if (clientSecret !== undefined) ctx.io.err("The client secret is shown only once; store it now:");
  ctx.io.out(`client_id: ${client.client_id}`);
  if (clientSecret !== undefined) ctx.io.out(`client_secret: ${clientSecret}`);
}

/** The username of each owner id (the id itself when the user is gone). */
async function ownerNames(ctx: CliContext, clients: OAuthClientInfo[]): Promise<Map<string, string>> {
  const { userStorage } = await ctx.storages();
  const names = new Map<string, string>();
  for (const client of clients) {
    if (client.userid === null || client.userid === undefined) continue;
    const id = String(client.userid);
    if (names.has(id)) continue;
    try {
      const { user } = await userStorage.getUserById(client.userid, {
        skipActiveCheck: true,
        skipEmailVerifiedCheck: true,
      });
      names.set(id, user.username);
    } catch (e) {
      if (!(e instanceof CrossauthError && e.code === ErrorCode.UserNotExist)) throw e;
      names.set(id, `#${id}`);
    }
  }
  return names;
}

/** `client list`: id, name, type, owner, flows and redirect URIs of every client (or one owner's); never secrets. */
async function listClients(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, { owner: "string" }, CLIENT_USAGE.list, [0, 0]);
  const ownerName = values.owner as string | undefined;
  const owner = ownerName === undefined ? undefined : (await ctx.user(ownerName)).user;
  const manager = await ctx.clientManager();
  const clients = await manager.getClients(undefined, undefined, owner?.id);
  if (clients.length === 0) {
    ctx.io.out(owner ? `${owner.username} has no OAuth clients.` : "No OAuth clients.");
    return;
  }
  const owners = await ownerNames(ctx, clients);
  const rows = clients.map((c) => [
    c.client_id,
    c.client_name,
    clientType(c),
    c.userid === null || c.userid === undefined ? "-" : (owners.get(String(c.userid)) ?? ""),
    c.valid_flow.join(",") || "-",
    c.redirect_uri.join(",") || "-",
  ]);
  const headers = ["client_id", "name", "type", "owner", "flows", "redirect_uris"];
  for (const line of formatTable(headers, rows)) ctx.io.out(line);
}

/** `client delete`: the client with its redirect URIs, flows and authorizations. */
async function deleteClient(ctx: CliContext, args: string[]): Promise<void> {
  const clientId = clientIdArgument(args, CLIENT_USAGE.delete);
  const manager = await ctx.clientManager();
  const client = await clientNamed(manager, clientId);
  await manager.deleteClient(client.client_id);
  ctx.io.out(`Deleted OAuth client ${client.client_name} (${client.client_id})`);
}

/** `client reset-secret`: a new secret for a confidential client, printed once; the old one stops working. */
async function resetSecret(ctx: CliContext, args: string[]): Promise<void> {
  const clientId = clientIdArgument(args, CLIENT_USAGE.resetSecret);
  const manager = await ctx.clientManager();
  const client = await clientNamed(manager, clientId);
  if (!client.confidential) {
    throw new CliError(
      `OAuth client ${client.client_name} (${client.client_id}) is public: it has no secret`,
    );
  }
  const { newSecret } = await manager.updateClient(client.client_id, {}, true);
  if (newSecret === undefined) throw new CliError(`no new secret was made for ${client.client_id}`);
  ctx.io.err(
    `New secret of OAuth client ${client.client_name}; the old one no longer works. ` +
      "It is shown only once; store it now:",
  );
  ctx.io.out(`client_secret: ${newSecret}`);
}

/** The client commands by name. */
export const clientCommands: Readonly<Record<string, (ctx: CliContext, args: string[]) => Promise<void>>> =
  Object.freeze({
    create: createClient,
    list: listClients,
    delete: deleteClient,
    "reset-secret": resetSecret,
  });
