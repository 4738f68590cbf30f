/**
 * What the admin user pages share: the user fields an admin may set (`user_<field>`, from the user
 * storage's `adminEditableFields`), the state and second-factor choices, and the rule that a new
 * second factor must be set up by its user.
 * @module
 */
import {
  CrossauthError,
  ErrorCode,
  type PartialUserSecrets,
  type User,
  type UserSecrets,
  UserState,
} from "@crossauth/common";
import type { EndpointDefinition, EndpointRequest, EndpointServices } from "../endpoint.js";
import { booleanField, stringField, userFields } from "../endpoint-helpers.js";
import { factor2Choices } from "./session-endpoint-support.js";

/** Fields never set through `user_<field>` (identity, derived columns, state and factors have their own rules). */
const NOT_A_USER_FIELD: ReadonlySet<string> = new Set([
  "id",
  "username_normalized",
  "email_normalized",
  "state",
  "factor1",
  "factor2",
]);

/** The boolean user field an admin may set (when configured as admin-editable): a checkbox. */
const ADMIN_FLAG = "admin";

/** Input types and autocomplete tokens of well-known fields; others are text without autocomplete. */
const INPUTS: Readonly<Record<string, { type: string; autocomplete: string }>> = Object.freeze({
  email: { type: "email", autocomplete: "off" },
  phone: { type: "tel", autocomplete: "off" },
  admin: { type: "checkbox", autocomplete: "off" },
});

/** A field of an admin user form. */
export interface AdminFormField {
  name: string;
  label: string;
  /** `text`, `email`, `tel` or `checkbox`. */
  type: string;
  autocomplete: string;
  value: string;
  checked: boolean;
}

/**
 * The user fields an admin sets: `email` and the admin-editable fields (`username` only when
 * editing, as creating has its own field).
 * @param creating - true for the create-user form
 */
export function adminFieldNames(services: EndpointServices, creating: boolean): string[] {
  const names = ["email", ...services.sessionManager.userStorage.adminEditableFields];
  return [...new Set(names)].filter((n) => !NOT_A_USER_FIELD.has(n) && !(creating && n === "username"));
}

/**
 * The `user_<field>` values of an admin's request. The `admin` flag is a boolean: for a page an
 * unticked box (absent) is false; for an API an absent flag is left alone.
 * @param kind - the endpoint's kind
 * @param creating - true for create-user
 * @throws CrossauthError `FormEntry` for non-text or oversized values
 */
export function adminFieldValues(
  request: EndpointRequest,
  services: EndpointServices,
  kind: EndpointDefinition["kind"],
  creating: boolean,
): Record<string, string | boolean> {
  const names = adminFieldNames(services, creating);
  const values: Record<string, string | boolean> = userFields(
    request.body,
    names.filter((n) => n !== ADMIN_FLAG),
  );
  const flag = `user_${ADMIN_FLAG}`;
  if (names.includes(ADMIN_FLAG) && (kind === "page" || Object.hasOwn(request.body, flag))) {
    values[ADMIN_FLAG] = booleanField(request.body, flag);
  }
  return values;
}

/** `first_name` → `First name`, unless the messages have a label for the field. */
function fieldLabel(services: EndpointServices, name: string): string {
  const messages = services.pages.messages as Record<string, string>;
  if (Object.hasOwn(messages, name)) return messages[name] as string;
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The user fields of an admin form, with values: those posted when the request has a body, else
 * the subject's.
 * @param subject - the user being edited (absent when creating)
 */
export function adminFormFields(
  request: EndpointRequest,
  services: EndpointServices,
  subject?: User,
): AdminFormField[] {
  const posted = request.method === "POST";
  return adminFieldNames(services, subject === undefined).map((name) => {
    const raw = posted ? request.body[`user_${name}`] : subject?.[name];
    const input = Object.hasOwn(INPUTS, name) ? INPUTS[name] : undefined;
    const checked =
      name === ADMIN_FLAG && (posted ? booleanField(request.body, `user_${name}`) : raw === true);
    return {
      name: `user_${name}`,
      label: fieldLabel(services, name),
      type: input?.type ?? "text",
      autocomplete: input?.autocomplete ?? "off",
      value: typeof raw === "string" || typeof raw === "number" ? String(raw) : "",
      checked,
    };
  });
}

/** A state's label: its message (`passwordresetneeded` → `statePasswordResetNeeded`), else the state. */
export function stateLabel(services: EndpointServices, state: string): string {
  const key = Object.entries(UserState).find(([, value]) => value === state)?.[0];
  const messages = services.pages.messages as Record<string, string>;
  const label = key ? messages[`state${key.charAt(0).toUpperCase()}${key.slice(1)}`] : undefined;
  return label ?? state;
}

/** The states an admin may choose, labelled, with `selected` marked (and kept when not standard). */
export function stateChoices(
  services: EndpointServices,
  selected: unknown,
): { value: string; label: string; selected: boolean }[] {
  const states: string[] = Object.values(UserState);
  if (typeof selected === "string" && selected !== "" && !states.includes(selected)) states.push(selected);
  return states.map((value) => ({ value, label: stateLabel(services, value), selected: value === selected }));
}

/**
 * The second factors an admin may choose for a user: none, the allowed ones, and the user's
 * current one even when it is no longer allowed.
 * @param current - the user's current factor (absent when creating)
 * @param selected - the factor to mark selected
 */
export function adminFactor2Choices(services: EndpointServices, current: string, selected: unknown) {
  const choices = factor2Choices(services, selected);
  if (current !== "" && !choices.some((c) => c.value === current)) {
    choices.push({ value: current, label: current, selected: selected === current });
  }
  return choices;
}

/** `""` for no second factor (`undefined`, `null`, `""`, `none`), else its name. */
export function factor2Of(user: Pick<User, "factor2">): string {
  const factor2 = user.factor2;
  return typeof factor2 === "string" && factor2 !== "none" ? factor2 : "";
}

/**
 * The `factor2` of an admin's request: undefined when absent, `""` for none, else a factor that is
 * allowed (or the subject's current one).
 * @param current - the subject's current factor (`""` when creating)
 * @throws CrossauthError `BadRequest` for a factor that is not allowed; `FormEntry` for non-text
 */
export function requestedFactor2(
  request: EndpointRequest,
  services: EndpointServices,
  current: string,
): string | undefined {
  const chosen = stringField(request.body, "factor2");
  if (chosen === undefined) return undefined;
  const factor2 = chosen === "none" ? "" : chosen;
  if (factor2 !== "" && factor2 !== current && !services.sessionManager.allowedFactor2.includes(factor2)) {
    throw new CrossauthError(ErrorCode.BadRequest, "This second factor is not allowed");
  }
  return factor2;
}

/**
 * The `state` of an admin's request: undefined when absent, else one of {@link UserState}.
 * @throws CrossauthError `FormEntry` for another value
 */
export function requestedState(request: EndpointRequest): string | undefined {
  const state = stringField(request.body, "state");
  if (state !== undefined && !(Object.values(UserState) as string[]).includes(state)) {
    throw new CrossauthError(ErrorCode.FormEntry, "state is not a valid user state");
  }
  return state;
}

/** States from which a new second factor also keeps a pending password reset or change. */
const passwordPending: ReadonlySet<string> = new Set([
  UserState.passwordResetNeeded,
  UserState.passwordChangeNeeded,
  UserState.passwordAndFactor2ResetNeeded,
]);

/**
 * The state of a user whose second factor an admin changes: the user must set the new one up —
 * `factor2resetneeded`, or `passwordandfactor2resetneeded` when a password reset or change is
 * pending; a disabled user stays disabled.
 * @param state - the state the admin asked for (or the current one)
 */
export function stateForNewFactor2(state: string): string {
  if (state === UserState.disabled) return state;
  return passwordPending.has(state) ? UserState.passwordAndFactor2ResetNeeded : UserState.factor2ResetNeeded;
}

/**
 * Whether a user's second factor lacks a secret it needs (e.g. an admin chose TOTP, which the user
 * has not set up yet): such a user must not become active.
 */
export function factor2NotSetUp(services: EndpointServices, user: User, secrets: UserSecrets): boolean {
  return secretNamesOf(services, factor2Of(user)).some(
    (name) => typeof secrets[name] !== "string" || secrets[name] === "",
  );
}

/** Null for each secret of the user's second factor that factor 1 does not also use. */
export function factor2SecretsCleared(services: EndpointServices, user: User): PartialUserSecrets {
  const kept = new Set(secretNamesOf(services, user.factor1));
  const names = secretNamesOf(services, factor2Of(user)).filter((name) => !kept.has(name));
  return Object.fromEntries(names.map((name) => [name, null]));
}

/** The names of the persistent secrets of a factor (none for an unknown factor). */
function secretNamesOf(services: EndpointServices, factor: string): string[] {
  const authenticators = services.sessionManager.authenticators;
  return Object.hasOwn(authenticators, factor) ? (authenticators[factor]?.secretNames() ?? []) : [];
}
