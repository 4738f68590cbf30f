/**
 * The admin user endpoints (feature `admin`, access `admin`, served under the admin prefix):
 * creating users (without a password they are emailed a reset link), finding them, editing their
 * state, second factor and fields, setting their password and deleting them — each page with its
 * `admin/api/` twin where http-contract.md lists one.
 * @module
 */
import { type User, UserState } from "@crossauth/common";
import type { TokensSent } from "../../session/flows/account.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import { redirectTo, stringField } from "../endpoint-helpers.js";
import {
  createUserAsAdmin,
  deleteUserAsAdmin,
  searchUsers,
  setPasswordAsAdmin,
  subjectOf,
  updateUserAsAdmin,
} from "./admin-user-actions.js";
import {
  adminFactor2Choices,
  adminFormFields,
  factor2Of,
  stateChoices,
  stateLabel,
} from "./admin-user-form.js";
import { adminPage, adminPageError, apiAnswer, pageAbout } from "./handler-wrappers.js";
import { pageOfRows, pagingLinks, readPaging } from "./list-paging.js";
import { clientUser, safeNext, sessionEndpoint } from "./session-endpoint-support.js";

/** The admin pages of one user. */
function userUrls(services: EndpointServices, user: User) {
  const base = services.options.adminPrefix;
  const id = encodeURIComponent(String(user.id));
  return {
    updateUrl: `${base}updateuser/${id}`,
    changePasswordUrl: `${base}changepassword/${id}`,
    deleteUrl: `${base}deleteuser/${id}`,
  };
}

/** A user as the admin pages show it: without secrets, with its pages' URLs. */
function subjectData(services: EndpointServices, user: User): Record<string, unknown> {
  return {
    ...clientUser(user),
    isAdmin: services.options.isAdminFn(user),
    stateLabel: stateLabel(services, user.state),
    ...userUrls(services, user),
  };
}

/** `GET admin/selectuser`: a search by username or email, or every user a page at a time. */
async function selectUserPage(request: EndpointRequest, services: EndpointServices) {
  const title = "adminSelectUserTitle";
  try {
    const search = stringField(request.query, "search");
    const paging = readPaging(request);
    let users: User[];
    let links = {};
    if (search !== undefined) users = await searchUsers(services, search);
    else {
      const storage = services.sessionManager.userStorage;
      const { rows, hasMore } = await pageOfRows(paging, (skip, take) => storage.getUsers(skip, take));
      users = rows;
      links = pagingLinks(`${services.options.adminPrefix}selectuser`, {}, paging, hasMore);
    }
    const notice = users.length === 0 ? services.pages.messages.noUsersFound : undefined;
    const rows = users.map((user) => subjectData(services, user));
    return adminPage(request, services, "admin/selectuser", title, { search, users: rows, notice, ...links });
  } catch (e) {
    return adminPageError(request, services, "admin/selectuser", title, e, { users: [] });
  }
}

/** The create-user form's data, with what was posted (never the passwords). */
function createUserForm(request: EndpointRequest, services: EndpointServices): Record<string, unknown> {
  const body = request.body;
  return {
    username: typeof body.username === "string" ? body.username : "",
    fields: adminFormFields(request, services),
    factor2Choices: adminFactor2Choices(services, "", body.factor2),
    passwordOptional: services.sessionManager.enablePasswordReset,
    next: safeNext(request),
  };
}

/** `GET admin/createuser`: the form. */
async function createUserFormPage(request: EndpointRequest, services: EndpointServices) {
  return adminPage(
    request,
    services,
    "admin/createuser",
    "adminCreateUserTitle",
    createUserForm(request, services),
  );
}

/** `POST admin/createuser`: creates; redirects to a safe `next` or shows the new user's links. */
async function createUserPage(request: EndpointRequest, services: EndpointServices) {
  const title = "adminCreateUserTitle";
  try {
    const user = await createUserAsAdmin(request, services, "page");
    const next = safeNext(request);
    if (next !== undefined) return redirectTo(next, next);
    const m = services.pages.messages;
    const passwordless =
      user.state === UserState.passwordResetNeeded || user.state === UserState.passwordAndFactor2ResetNeeded;
    return adminPage(request, services, "admin/createuser", title, {
      done: true,
      subject: subjectData(services, user),
      notice: passwordless ? m.userCreatedResetSent : m.userCreated,
    });
  } catch (e) {
    return adminPageError(request, services, "admin/createuser", title, e, createUserForm(request, services));
  }
}

/** `POST admin/api/createuser`: `{ok, user}`. */
const createUserApi = apiAnswer(async (request, services) => ({
  user: clientUser(await createUserAsAdmin(request, services, "api")),
}));

/** The edit form's data for a user (the posted values after a failed POST). */
function updateUserForm(request: EndpointRequest, services: EndpointServices, subject: User) {
  const posted = request.method === "POST";
  const state = posted ? request.body.state : subject.state;
  const factor2 = posted ? request.body.factor2 : factor2Of(subject) || "none";
  return {
    subject: subjectData(services, subject),
    fields: adminFormFields(request, services, subject),
    stateChoices: stateChoices(services, state),
    factor2Choices: adminFactor2Choices(services, factor2Of(subject), factor2),
    next: safeNext(request),
  };
}

/** The error page when the `:id` user cannot be found, with a link back to the user list. */
function noSubjectPage(titleKey: string) {
  return (request: EndpointRequest, services: EndpointServices, e: unknown): EndpointResult => {
    const links = [
      { href: `${services.options.adminPrefix}selectuser`, text: services.pages.messages.adminUsersLink },
    ];
    return adminPageError(request, services, "error", titleKey, e, { links });
  };
}

/** The user of the `:id` path parameter (without secrets). */
async function subjectUser(request: EndpointRequest, services: EndpointServices): Promise<User> {
  return (await subjectOf(request, services)).user;
}

/** The form data of a page about a user. */
type SubjectForm = (
  request: EndpointRequest,
  services: EndpointServices,
  subject: User,
) => Record<string, unknown>;

/** `GET` of a page about the `:id` user: the form, or the error page when there is no such user. */
function subjectPage(template: string, titleKey: string, form: SubjectForm) {
  return pageAbout(subjectUser, noSubjectPage(titleKey), async (request, services, subject) =>
    adminPage(request, services, template, titleKey, form(request, services, subject)),
  );
}

/**
 * `POST` of a page about the `:id` user: `act` answers; when it fails, the form again with the
 * error; for an unknown user, the error page.
 */
function subjectAction(
  template: string,
  titleKey: string,
  form: SubjectForm,
  act: (request: EndpointRequest, services: EndpointServices) => Promise<EndpointResult>,
) {
  return pageAbout(subjectUser, noSubjectPage(titleKey), act, (request, services, subject, e) =>
    adminPageError(request, services, template, titleKey, e, form(request, services, subject)),
  );
}

/** After a change to the `:id` user: a redirect to a safe `next`, else the page again with `notice`. */
async function changedSubjectPage(
  request: EndpointRequest,
  services: EndpointServices,
  template: string,
  titleKey: string,
  form: SubjectForm,
  notice: string,
): Promise<EndpointResult> {
  const next = safeNext(request);
  if (next !== undefined) return redirectTo(next, next);
  const saved = await subjectUser(request, services);
  const data = form({ ...request, method: "GET", body: {} }, services, saved);
  return adminPage(request, services, template, titleKey, { ...data, notice });
}

/** The notice after an admin saved a user: what was emailed, else "saved". */
function savedNotice(services: EndpointServices, sent: TokensSent): string {
  const m = services.pages.messages;
  if (sent.emailVerificationTokenSent) return m.emailChangePending;
  return sent.passwordResetTokenSent ? m.userSavedResetSent : m.userSaved;
}

/** The data of the set-password and delete pages: the user. */
function subjectOnly(request: EndpointRequest, services: EndpointServices, subject: User) {
  return { subject: subjectData(services, subject), next: safeNext(request) };
}

/** `POST admin/updateuser/:id`: saves; redirects to a safe `next` or shows the user with a notice. */
const updateUserPage = subjectAction(
  "admin/updateuser",
  "adminUpdateUserTitle",
  updateUserForm,
  async (request, services) => {
    const sent = await updateUserAsAdmin(request, services, "page");
    const notice = savedNotice(services, sent);
    return changedSubjectPage(
      request,
      services,
      "admin/updateuser",
      "adminUpdateUserTitle",
      updateUserForm,
      notice,
    );
  },
);

/** `POST admin/changepassword/:id`: sets it; redirects to a safe `next` or shows a notice. */
const changePasswordPage = subjectAction(
  "admin/changepassword",
  "adminChangePasswordTitle",
  subjectOnly,
  async (request, services) => {
    await setPasswordAsAdmin(request, services);
    const notice = services.pages.messages.userPasswordSet;
    return changedSubjectPage(
      request,
      services,
      "admin/changepassword",
      "adminChangePasswordTitle",
      subjectOnly,
      notice,
    );
  },
);

/** `POST admin/deleteuser/:id`: deletes; redirects to a safe `next` or the user list. */
const deleteUserPage = subjectAction(
  "admin/deleteuser",
  "adminDeleteUserTitle",
  subjectOnly,
  async (request, services) => {
    await deleteUserAsAdmin(request, services);
    return redirectTo(safeNext(request), `${services.options.adminPrefix}selectuser`);
  },
);

/** Defines an admin user endpoint; with `withId` its path has the `:id` parameter. */
function adminEndpoint(
  name: string,
  method: "GET" | "POST",
  kind: EndpointDefinition["kind"],
  handler: EndpointDefinition["handler"],
  withId = true,
): EndpointDefinition {
  const definition = sessionEndpoint(name, method, kind, "admin", "admin", handler);
  return withId ? { ...definition, path: `${name}/:id` } : definition;
}

/** The page of an action on the `:id` user (GET: the form from `form`; POST: `post`) and its API twin. */
function subjectEndpoints(
  name: string,
  titleKey: string,
  form: SubjectForm,
  post: EndpointDefinition["handler"],
  api: EndpointDefinition["handler"],
): EndpointDefinition[] {
  return [
    adminEndpoint(`admin/${name}`, "GET", "page", subjectPage(`admin/${name}`, titleKey, form)),
    adminEndpoint(`admin/${name}`, "POST", "page", post),
    adminEndpoint(`admin/api/${name}`, "POST", "api", api),
  ];
}

/**
 * The admin user endpoints: `admin/createuser`, `admin/selectuser`, `admin/updateuser/:id`,
 * `admin/changepassword/:id`, `admin/deleteuser/:id` (pages) and `admin/api/createuser`,
 * `admin/api/updateuser/:id`, `admin/api/changepassword/:id`, `admin/api/deleteuser/:id`.
 */
export const adminUserEndpoints: readonly EndpointDefinition[] = Object.freeze([
  adminEndpoint("admin/createuser", "GET", "page", createUserFormPage, false),
  adminEndpoint("admin/createuser", "POST", "page", createUserPage, false),
  adminEndpoint("admin/api/createuser", "POST", "api", createUserApi, false),
  adminEndpoint("admin/selectuser", "GET", "page", selectUserPage, false),
  ...subjectEndpoints(
    "updateuser",
    "adminUpdateUserTitle",
    updateUserForm,
    updateUserPage,
    apiAnswer(async (request, services) => {
      const sent = await updateUserAsAdmin(request, services, "api");
      return { emailVerificationRequired: sent.emailVerificationTokenSent };
    }),
  ),
  ...subjectEndpoints(
    "changepassword",
    "adminChangePasswordTitle",
    subjectOnly,
    changePasswordPage,
    apiAnswer(async (request, services) => {
      await setPasswordAsAdmin(request, services);
      return {};
    }),
  ),
  ...subjectEndpoints(
    "deleteuser",
    "adminDeleteUserTitle",
    subjectOnly,
    deleteUserPage,
    apiAnswer(async (request, services) => ({ userid: (await deleteUserAsAdmin(request, services)).id })),
  ),
]);
