/**
 * What the admin user endpoints do, page or JSON alike: create a user (without a password the user
 * is emailed a reset link), apply an admin's changes (state, second factor, fields), set a password,
 * delete a user, and find users by username or email.
 * @module
 */
import { CrossauthError, ErrorCode, type User, type UserAndSecrets, UserState } from "@crossauth/common";
import { ANY_STATE, type TokensSent } from "../../session/flows/account.js";
import type { EndpointDefinition, EndpointRequest, EndpointServices } from "../endpoint.js";
import { stringField } from "../endpoint-helpers.js";
import {
  adminFieldValues,
  factor2NotSetUp,
  factor2Of,
  factor2SecretsCleared,
  requestedFactor2,
  requestedState,
  stateForNewFactor2,
} from "./admin-user-form.js";

/** The first factor of users an admin creates. */
const ADMIN_CREATED_FACTOR1 = "localpassword";

/** The user named by the `:id` path parameter, whatever its state. */
export async function subjectOf(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<UserAndSecrets> {
  const id = stringField(request.params, "id", true);
  return services.sessionManager.userStorage.getUserById(id, ANY_STATE);
}

/**
 * Creates a user. Without a password the user must choose one from an emailed reset link (state
 * `passwordresetneeded`); with a second factor the user sets it up at the first login (state
 * `factor2resetneeded`, or `passwordandfactor2resetneeded` without a password). Email verification
 * is skipped: the admin vouches for the address.
 * @throws CrossauthError `FormEntry` for bad fields or no password while password reset is off;
 *   `BadRequest` for a factor that is not allowed; the errors of `SessionManager.createUser`
 *   (`UserExists`, `InvalidEmail`, `PasswordFormat`, `PasswordMatch`, `Connection`...)
 */
export async function createUserAsAdmin(
  request: EndpointRequest,
  services: EndpointServices,
  kind: EndpointDefinition["kind"],
): Promise<User> {
  const body = request.body;
  const manager = services.sessionManager;
  const username = stringField(body, "username", true);
  const password = stringField(body, "password");
  const repeat = stringField(body, "repeat_password");
  const factor2 = requestedFactor2(request, services, "") ?? "";
  const fields = adminFieldValues(request, services, kind, true);
  if (password === undefined && !manager.enablePasswordReset) {
    throw new CrossauthError(ErrorCode.FormEntry, "A password is required (password reset is off)");
  }
  const user = { ...fields, username, state: UserState.active, factor1: ADMIN_CREATED_FACTOR1, factor2: "" };
  const created = await manager.createUser(
    user,
    password === undefined ? {} : { password },
    password === undefined || repeat === undefined ? undefined : { password: repeat },
    true,
    password === undefined,
  );
  if (factor2 === "") return created;
  const state = stateForNewFactor2(created.state);
  await manager.userStorage.updateUser({ id: created.id, factor2, state });
  return { ...created, factor2, state };
}

/**
 * Applies an admin's changes to the `:id` user: `user_<field>` values (admin-editable fields), the
 * `state`, and the `factor2`. A new second factor is set up by the user (see `stateForNewFactor2`)
 * and the old one's secrets are removed; a user whose second factor is not set up never becomes
 * `active` (it gets `factor2resetneeded`).
 * @returns which emails were sent (see `SessionManager.updateUser` with `asAdmin`)
 */
export async function updateUserAsAdmin(
  request: EndpointRequest,
  services: EndpointServices,
  kind: EndpointDefinition["kind"],
): Promise<TokensSent> {
  const { user: subject, secrets } = await subjectOf(request, services);
  const current = factor2Of(subject);
  const factor2 = requestedFactor2(request, services, current);
  const fields = adminFieldValues(request, services, kind, false);
  const changing = factor2 !== undefined && factor2 !== current;
  let state = requestedState(request) ?? subject.state;
  if (changing) state = stateForNewFactor2(state);
  else if (state === UserState.active && factor2NotSetUp(services, subject, secrets)) {
    state = UserState.factor2ResetNeeded;
  }
  const sent = await services.sessionManager.updateUser(subject, { ...fields, state }, false, true);
  if (changing) {
    const cleared = factor2SecretsCleared(services, subject);
    await services.sessionManager.userStorage.updateUser({ id: subject.id, factor2 }, cleared);
  }
  return sent;
}

/** Sets the `:id` user's password from `new_password` (and `repeat_password`); their sessions end. */
export async function setPasswordAsAdmin(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<User> {
  const { user } = await subjectOf(request, services);
  const password = stringField(request.body, "new_password", true);
  const repeat = stringField(request.body, "repeat_password");
  const own = request.user !== undefined && String(request.user.id) === String(user.id);
  return services.sessionManager.changeSecrets(
    user.username,
    1,
    { password },
    repeat === undefined ? undefined : { password: repeat },
    undefined,
    own ? request.sessionId : undefined,
  );
}

/** Deletes the `:id` user with its secrets, sessions, keys and clients. */
export async function deleteUserAsAdmin(request: EndpointRequest, services: EndpointServices): Promise<User> {
  const { user } = await subjectOf(request, services);
  await services.sessionManager.deleteUserByUsername(user.username);
  return user;
}

/** The users whose username or email is `search` (matched as the storage normalizes them). */
export async function searchUsers(services: EndpointServices, search: string): Promise<User[]> {
  const storage = services.sessionManager.userStorage;
  const found = new Map<string, User>();
  for (const lookup of [storage.getUserByUsername, storage.getUserByEmail]) {
    try {
      const { user } = await lookup.call(storage, search, ANY_STATE);
      found.set(String(user.id), user);
    } catch (e) {
      if (!(e instanceof CrossauthError && e.code === ErrorCode.UserNotExist)) throw e;
    }
  }
  return [...found.values()];
}
