/**
 * `crossauth user create|list|delete|set-password|set-state`: managing users without the web pages.
 * @module
 */

import { validateEmail } from "@crossauth/backend";
import { CrossauthError, ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { parseCommandArgs } from "./args.js";
import { type CliContext, CliError } from "./cli-context.js";
import { formatTable } from "./table.js";

/** Usage lines of the user commands. */
export const USER_USAGE = Object.freeze({
  create: "crossauth user create <username> [--email <email>] [--password <password>] [--admin]",
  list: "crossauth user list",
  delete: "crossauth user delete <username>",
  setPassword: "crossauth user set-password <username> [<password>]",
  setState: "crossauth user set-state <username> <state>",
});

/** Variable a new password can come from instead of the command line (kept out of shell history). */
export const NEW_PASSWORD_VARIABLE = "CROSSAUTH_NEW_PASSWORD";

const KNOWN_STATES: readonly string[] = Object.values(UserState);

/** The password from the argument, else `CROSSAUTH_NEW_PASSWORD`. */
function newPassword(given: string | undefined): string {
  const password = given ?? process.env[NEW_PASSWORD_VARIABLE];
  if (!password)
    throw new CliError(`a password is required: --password <password> or ${NEW_PASSWORD_VARIABLE}`);
  return password;
}

/** Hashes a new password after checking the password policy. */
async function passwordHash(ctx: CliContext, username: string, password: string): Promise<string> {
  const authenticator = await ctx.passwordAuthenticator();
  try {
    const secrets = await authenticator.createPersistentSecrets(username, { password });
    return secrets.password as string;
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.PasswordFormat) {
      throw new CliError(`the password is not acceptable: ${e.messages.join("; ")}`);
    }
    throw e;
  }
}

/** `user create`: an active user with a password, an optional email and the admin flag. */
async function createUser(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals, values } = parseCommandArgs(
    args,
    { email: "string", password: "string", admin: "boolean" },
    USER_USAGE.create,
    [1, 1],
  );
  const username = positionals[0] as string;
  if (username.trim() === "") throw new CliError("the username must not be empty");
  const email = values.email as string | undefined;
  if (email !== undefined) {
    try {
      validateEmail(email);
    } catch {
      throw new CliError(`${email} is not a valid email address`);
    }
  }
  const password = await passwordHash(ctx, username, newPassword(values.password as string | undefined));
  const admin = values.admin === true;
  const { userStorage } = await ctx.storages();
  let user: User;
  try {
    user = await userStorage.createUser(
      {
        username,
        state: UserState.active,
        factor1: "localpassword",
        ...(email !== undefined ? { email } : {}),
        admin,
      },
      { password },
    );
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.UserExists) {
      throw new CliError(`a user with this username or email already exists`);
    }
    throw e;
  }
  ctx.io.out(`Created ${admin ? "admin " : ""}user ${user.username} (id ${user.id})`);
}

/** `user list`: every user with id, email, state, second factor and admin flag. */
async function listUsers(ctx: CliContext, args: string[]): Promise<void> {
  parseCommandArgs(args, {}, USER_USAGE.list, [0, 0]);
  const { userStorage } = await ctx.storages();
  const users = await userStorage.getUsers();
  if (users.length === 0) {
    ctx.io.out("No users.");
    return;
  }
  const rows = users.map((u) => [
    String(u.id),
    u.username,
    typeof u.email === "string" ? u.email : "",
    u.state,
    u.factor2 || "none",
    u.admin ? "yes" : "no",
  ]);
  for (const line of formatTable(["id", "username", "email", "state", "factor2", "admin"], rows)) {
    ctx.io.out(line);
  }
}

/** `user delete`: the user, its secrets, sessions and keys. */
async function deleteUser(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseCommandArgs(args, {}, USER_USAGE.delete, [1, 1]);
  const { user } = await ctx.user(positionals[0] as string);
  const { userStorage } = await ctx.storages();
  await userStorage.deleteUserById(user.id);
  ctx.io.out(`Deleted user ${user.username} (id ${user.id})`);
}

/** `user set-password`: a new password; the user's sessions end. */
async function setPassword(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseCommandArgs(args, {}, USER_USAGE.setPassword, [1, 2]);
  const { user } = await ctx.user(positionals[0] as string);
  const password = await passwordHash(ctx, user.username, newPassword(positionals[1]));
  const { userStorage, keyStorage } = await ctx.storages();
  await userStorage.updateUser({ id: user.id }, { password });
  await keyStorage.deleteAllForUser(user.id, KeyPrefix.session);
  ctx.io.out(`Changed the password of ${user.username}; their sessions were ended`);
}

/** `user set-state`: one of the states Crossauth knows; leaving `active` ends the user's sessions. */
async function setState(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseCommandArgs(args, {}, USER_USAGE.setState, [2, 2]);
  const state = positionals[1] as string;
  if (!KNOWN_STATES.includes(state)) {
    throw new CliError(`unknown state ${state}; use one of: ${KNOWN_STATES.join(", ")}`);
  }
  const { user } = await ctx.user(positionals[0] as string);
  const { userStorage, keyStorage } = await ctx.storages();
  await userStorage.updateUser({ id: user.id, state });
  if (state !== UserState.active) await keyStorage.deleteAllForUser(user.id, KeyPrefix.session);
  ctx.io.out(`State of ${user.username} is now ${state}`);
}

/** The user commands by name. */
export const userCommands: Readonly<Record<string, (ctx: CliContext, args: string[]) => Promise<void>>> =
  Object.freeze({
    create: createUser,
    list: listUsers,
    delete: deleteUser,
    "set-password": setPassword,
    "set-state": setState,
  });
