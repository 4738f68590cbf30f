/**
 * The admin user pages (createuser, selectuser, updateuser/:id, changepassword/:id, deleteuser/:id),
 * called without HTTP and rendered: forms usable without JavaScript (labels, CSRF field), escaping,
 * search and paging links, notices, redirects to safe `next` values, re-shown forms with the error's
 * status, and the error page for unknown users.
 */
import { ErrorCode, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import type { EndpointResult } from "../../src/index.js";
import { TEST_PASSWORD } from "../session/flow-context.js";
import { useAdminSuite } from "./admin-fixture.js";
import { expectCsrfForm, expectField } from "./endpoint-harness.js";

const s = useAdminSuite();

const NEW_PASSWORD = "New-Horse-Battery-7";
const UNSAFE_NEXTS = ["//evil.com", "https://evil.com", "/\\evil.com"];
const NOTICE = '<p class="notice" role="status" aria-live="polite">';

/** A page request by the admin. */
function adminPage(method: "GET" | "POST", path: string, body: Record<string, unknown> = {}, query = {}) {
  return s.h.pageRequest(method, `/admin/${path}`, body, {
    user: s.root.user,
    sessionId: s.root.sessionId,
    query,
  });
}

/** The usernames a list page shows. */
function usernames(result: EndpointResult): string[] {
  return ((result.page?.data.users ?? []) as { username: string }[]).map((u) => u.username);
}

/** A user as stored, whatever its state. */
async function stored(username: string) {
  return (
    await s.h.userStorage.getUserByUsername(username, { skipActiveCheck: true, skipEmailVerifiedCheck: true })
  ).user;
}

describe("admin/createuser", () => {
  it("shows the form: username, editable fields, optional password, second factor, admin box, CSRF", async () => {
    const request = adminPage("GET", "createuser");
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    const html = await s.h.render(result);
    expect(html).toContain("<title>Create a user · Crossauth</title>");
    expectCsrfForm(html, "/admin/createuser", request);
    expectField(html, { name: "username", label: "Username", autocomplete: "off" });
    expectField(html, {
      name: "user_email",
      label: "Email",
      type: "email",
      autocomplete: "off",
      required: false,
    });
    expectField(html, {
      name: "user_phone",
      label: "Phone number",
      type: "tel",
      autocomplete: "off",
      required: false,
    });
    const password = { type: "password", autocomplete: "new-password", required: false };
    expectField(html, { name: "password", label: "Password", ...password });
    expectField(html, { name: "repeat_password", label: "Repeat password", ...password });
    expect(html).toContain("Leave both empty to email the user a link to choose a password.");
    expect(html).toContain('<select id="factor2" name="factor2" aria-describedby="factor2-help">');
    expect(html).toContain('<option value="none" selected>None</option>');
    expect(html).toContain('<input id="user_admin" name="user_admin" type="checkbox" value="true">');
    expect(html).toContain('<a href="/admin/selectuser">Users</a>');
    expect(html).not.toContain("/admin/selectclient");
  });

  it("creates a user and shows a notice with a link to the user", async () => {
    const result = await s.h.call(
      adminPage("POST", "createuser", { username: "alice", password: TEST_PASSWORD, user_admin: "true" }),
    );
    expect(result.status).toBe(200);
    const alice = await stored("alice");
    expect(alice).toMatchObject({ state: UserState.active, admin: true });
    const html = await s.h.render(result);
    expect(html).toContain(`${NOTICE}The user was created.</p>`);
    expect(html).toContain(`<a href="/admin/updateuser/${alice.id}">alice</a>`);
    expect(html).not.toContain("<form");
  });

  it("says when the user was emailed a link to choose a password", async () => {
    const result = await s.h.call(
      adminPage("POST", "createuser", { username: "bob", user_email: "bob@example.com" }),
    );
    expect((await stored("bob")).state).toBe(UserState.passwordResetNeeded);
    expect(await s.h.render(result)).toContain(
      `${NOTICE}The user was created and emailed a link to choose a password.</p>`,
    );
  });

  it("redirects to a safe next, and ignores unsafe ones", async () => {
    const result = await s.h.call(
      adminPage("POST", "createuser", { username: "a", password: TEST_PASSWORD, next: "/admin/x" }),
    );
    expect(result).toEqual({ status: 303, redirect: "/admin/x" });
    for (const [i, next] of UNSAFE_NEXTS.entries()) {
      const unsafe = await s.h.call(
        adminPage("POST", "createuser", { username: `u${i}`, password: TEST_PASSWORD, next }),
      );
      expect(unsafe.status).toBe(200);
      expect(unsafe.redirect).toBeUndefined();
    }
  });

  it("re-shows the form with the error, its status and the escaped values, never the password", async () => {
    const body = { username: "root", password: TEST_PASSWORD, user_phone: '"><script>x</script>' };
    const result = await s.h.call(adminPage("POST", "createuser", body));
    expect(result.status).toBe(400);
    expect(result.page?.template).toBe("admin/createuser");
    const html = await s.h.render(result);
    expect(html).toContain("<li>User already exists</li>");
    expect(html).toContain('value="root"');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(html).not.toContain("<script>");
    expect(html).not.toContain(TEST_PASSWORD);
  });
});

describe("admin/selectuser", () => {
  async function manyUsers(count: number) {
    for (let i = 0; i < count; i++) await s.h.createUser({ username: `user${String(i).padStart(2, "0")}` });
  }

  it("lists users a page at a time with links to the next and previous pages", async () => {
    await manyUsers(24);
    const first = await s.h.call(adminPage("GET", "selectuser"));
    expect(first.status).toBe(200);
    expect(usernames(first)).toEqual([
      "root",
      ...[...Array(19).keys()].map((i) => `user${String(i).padStart(2, "0")}`),
    ]);
    expect(first.page?.data).toMatchObject({ nextUrl: "/admin/selectuser?skip=20" });
    expect(first.page?.data.previousUrl).toBeUndefined();
    const html = await s.h.render(first);
    expect(html).toContain('<a href="/admin/selectuser?skip=20" rel="next">Next page</a>');
    const user00 = await stored("user00");
    expect(html).toContain(`<a href="/admin/updateuser/${user00.id}" aria-label="Edit user00">Edit</a>`);
    expect(html).toContain(`<a href="/admin/changepassword/${user00.id}"`);
    expect(html).toContain(`<a href="/admin/deleteuser/${user00.id}"`);
    const second = await s.h.call(adminPage("GET", "selectuser", {}, { skip: "20" }));
    expect(usernames(second)).toEqual(["user19", "user20", "user21", "user22", "user23"]);
    expect(second.page?.data).toMatchObject({ previousUrl: "/admin/selectuser" });
    expect(second.page?.data.nextUrl).toBeUndefined();
    const small = await s.h.call(adminPage("GET", "selectuser", {}, { skip: "5", take: "5" }));
    expect(small.page?.data).toMatchObject({
      previousUrl: "/admin/selectuser?take=5",
      nextUrl: "/admin/selectuser?skip=10&take=5",
    });
  });

  it("finds a user by username or email, whatever the case, and marks admins", async () => {
    await s.h.createUser({ username: "alice", email: "alice.smith@example.com" });
    for (const search of ["ALICE", "Alice.Smith@example.com"]) {
      const result = await s.h.call(adminPage("GET", "selectuser", {}, { search }));
      expect(usernames(result)).toEqual(["alice"]);
    }
    const rootResult = await s.h.call(adminPage("GET", "selectuser", {}, { search: "root" }));
    const html = await s.h.render(rootResult);
    expect(html).toContain("<td>root (Administrator)</td>");
    expect(html).toContain('<a href="/admin/selectuser">Show all users</a>');
    expect(html).toContain('<input id="search" name="search" type="text" value="root" autocomplete="off">');
  });

  it("says when nothing is found", async () => {
    const result = await s.h.call(adminPage("GET", "selectuser", {}, { search: "nobody" }));
    expect(result.page?.data.users).toEqual([]);
    expect(await s.h.render(result)).toContain(`${NOTICE}No users found.</p>`);
  });

  it.each([
    [{ skip: "-1" }, "skip must be a whole number from 0 to 1000000000"],
    [{ skip: "1e3" }, "skip must be a whole number from 0 to 1000000000"],
    [{ take: "0" }, "take must be a whole number from 1 to 100"],
    [{ take: "101" }, "take must be a whole number from 1 to 100"],
    [{ search: "x".repeat(1025) }, "search is too long"],
  ])("refuses the query %o with 400 FormEntry", async (query, message) => {
    const result = await s.h.call(adminPage("GET", "selectuser", {}, query));
    expect(result.status).toBe(400);
    expect(result.page?.data).toMatchObject({ errorCode: ErrorCode.FormEntry, errorMessages: [message] });
  });
});

describe("admin/updateuser/:id", () => {
  it("shows the user's state, second factor and fields, escaped", async () => {
    const { user } = await s.h.createUser({
      username: "alice",
      phone: "<b>1</b>",
      factor2: "totp",
      state: UserState.disabled,
    });
    const request = adminPage("GET", `updateuser/${user.id}`);
    const result = await s.h.call(request);
    const html = await s.h.render(result);
    expectCsrfForm(html, `/admin/updateuser/${user.id}`, request);
    expect(html).toContain('<option value="disabled" selected>Disabled</option>');
    expect(html).toContain('<option value="active">Active</option>');
    expect(html).toContain('<option value="totp" selected>');
    expectField(html, {
      name: "user_phone",
      label: "Phone number",
      type: "tel",
      autocomplete: "off",
      value: "&lt;b&gt;1&lt;/b&gt;",
      required: false,
    });
    expect(html).not.toContain("<b>1</b>");
    expect(html).toContain(`<a href="/admin/changepassword/${user.id}">Set password</a>`);
    expect(result.page?.data.subject).not.toHaveProperty("password");
  });

  it("saves and shows the saved user with a notice", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const body = { state: "disabled", factor2: "none", user_phone: "+4411" };
    const result = await s.h.call(adminPage("POST", `updateuser/${user.id}`, body));
    expect(result.status).toBe(200);
    expect(await stored("alice")).toMatchObject({ state: UserState.disabled, phone: "+4411", admin: false });
    const html = await s.h.render(result);
    expect(html).toContain(`${NOTICE}The user was saved.</p>`);
    expect(html).toContain('<option value="disabled" selected>Disabled</option>');
  });

  it("says when a reset link was emailed, and redirects to a safe next", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const body = { state: UserState.passwordResetNeeded, factor2: "none" };
    const result = await s.h.call(adminPage("POST", `updateuser/${user.id}`, body));
    expect(await s.h.render(result)).toContain(
      `${NOTICE}The user was saved and emailed a link to choose a new password.</p>`,
    );
    const next = await s.h.call(
      adminPage("POST", `updateuser/${user.id}`, { state: "active", next: "/admin/done" }),
    );
    expect(next).toEqual({ status: 303, redirect: "/admin/done" });
  });

  it("re-shows the form with the error and the posted values", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const result = await s.h.call(
      adminPage("POST", `updateuser/${user.id}`, { state: "bogus", user_phone: "+4499" }),
    );
    expect(result.status).toBe(400);
    const html = await s.h.render(result);
    expect(html).toContain("<li>state is not a valid user state</li>");
    expect(html).toContain('value="+4499"');
    expect(html).toContain('<option value="bogus" selected>bogus</option>');
    expect((await stored("alice")).state).toBe(UserState.active);
  });

  it("shows the error page with a link to the users for an unknown id", async () => {
    for (const method of ["GET", "POST"] as const) {
      const result = await s.h.call(adminPage(method, "updateuser/999", { state: "active" }));
      expect(result.status).toBe(401);
      expect(result.page?.template).toBe("error");
      const html = await s.h.render(result);
      expect(html).toContain("<li>User does not exist</li>");
      expect(html).toContain('<a href="/admin/selectuser">Users</a>');
    }
  });
});

describe("admin/changepassword/:id", () => {
  it("shows the form and sets the password with a notice", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const request = adminPage("GET", `changepassword/${user.id}`);
    const html = await s.h.render(await s.h.call(request));
    expectCsrfForm(html, `/admin/changepassword/${user.id}`, request);
    expectField(html, {
      name: "new_password",
      label: "New password",
      type: "password",
      autocomplete: "new-password",
    });
    expect(html).toContain(
      '<input type="text" name="username" value="alice" autocomplete="username" hidden>',
    );
    const body = { new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };
    const result = await s.h.call(adminPage("POST", `changepassword/${user.id}`, body));
    expect(result.status).toBe(200);
    expect(await s.h.render(result)).toContain(
      `${NOTICE}The password was set. The user&#39;s sessions have ended.</p>`,
    );
    s.neverLogged(NEW_PASSWORD);
  });

  it("re-shows the form with the error, never the password", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const body = { new_password: NEW_PASSWORD, repeat_password: "Other-Pass-1" };
    const result = await s.h.call(adminPage("POST", `changepassword/${user.id}`, body));
    expect(result.status).toBe(401);
    const html = await s.h.render(result);
    expect(html).toContain("<li>Passwords do not match</li>");
    expect(html).not.toContain(NEW_PASSWORD);
  });
});

describe("admin/deleteuser/:id", () => {
  it("asks for confirmation, then deletes and goes to the user list or a safe next", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const request = adminPage("GET", `deleteuser/${user.id}`);
    const html = await s.h.render(await s.h.call(request));
    expectCsrfForm(html, `/admin/deleteuser/${user.id}`, request);
    expect(html).toContain("<strong>alice</strong>");
    expect(await s.h.call(adminPage("POST", `deleteuser/${user.id}`, { next: "//evil.com" }))).toEqual({
      status: 303,
      redirect: "/admin/selectuser",
    });
    await expect(stored("alice")).rejects.toMatchObject({ code: ErrorCode.UserNotExist });
    const { user: bob } = await s.h.createUser({ username: "bob" });
    expect(await s.h.call(adminPage("POST", `deleteuser/${bob.id}`, { next: "/admin/x" }))).toEqual({
      status: 303,
      redirect: "/admin/x",
    });
  });

  it("shows the error page for an unknown id", async () => {
    const result = await s.h.call(adminPage("POST", "deleteuser/999"));
    expect(result.status).toBe(401);
    expect(result.page?.template).toBe("error");
  });
});
