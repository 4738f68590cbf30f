/** LdapUserStorage against a real OpenLDAP slapd, plus the RFC 4514/4515 escaping it relies on. */
import {
  defaultCreateUserDn,
  escapeDnValue,
  escapeFilterValue,
  InMemoryUserStorage,
  LdapUserStorage,
  type LdapUserStorageOptions,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  freePort,
  LDAP_USER_SEARCH_BASE,
  LDAP_USERS,
  SLAPD,
  type Slapd,
  slapdInstalled,
  startSilentServer,
  startSlapd,
} from "../helpers/ldap.js";
import { describeWithService } from "../helpers/services.js";

function storage(urls: string[], options: LdapUserStorageOptions = {}): LdapUserStorage {
  return new LdapUserStorage(new InMemoryUserStorage(), {
    ldapUrls: urls,
    ldapUserSearchBase: LDAP_USER_SEARCH_BASE,
    ...options,
  });
}

describe("escapeDnValue (RFC 4514)", () => {
  it.each([
    ["alice", "alice"],
    ["Smith, John", "Smith\\, John"],
    [',+"\\<>;=', '\\,\\+\\"\\\\\\<\\>\\;\\='],
    [" leading", "\\ leading"],
    ["#leading", "\\#leading"],
    ["mid # hash", "mid # hash"],
    ["trailing ", "trailing\\ "],
    [" ", "\\ "],
    ["  two  ", "\\  two \\ "],
    ["nul\0byte", "nul\\00byte"],
    ["line\nfeed", "line\\0Afeed"],
    ["ünïcode", "ünïcode"],
    ["#o'neil, jr+ünï=test", "\\#o'neil\\, jr\\+ünï\\=test"],
    ["", ""],
  ])("%j → %j", (raw, escaped) => {
    expect(escapeDnValue(raw)).toBe(escaped);
  });
});

describe("escapeFilterValue (RFC 4515)", () => {
  it.each([
    ["alice", "alice"],
    ["*", "\\2a"],
    ["(", "\\28"],
    [")", "\\29"],
    ["\\", "\\5c"],
    ["\0", "\\00"],
    ["*)(uid=*", "\\2a\\29\\28uid=\\2a"],
    [
      "Parens R Us (for all your parenthetical needs)",
      "Parens R Us \\28for all your parenthetical needs\\29",
    ],
    ["C:\\MyFile", "C:\\5cMyFile"],
    ["#o'neil, jr+ünï=test", "#o'neil, jr+ünï=test"],
  ])("%j → %j", (raw, escaped) => {
    expect(escapeFilterValue(raw)).toBe(escaped);
  });
});

describe("LdapUserStorage configuration", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("requires ldapUrls", () => {
    vi.stubEnv("CROSSAUTH_LDAP_URLS", undefined);
    const e = expectCrossauthError(
      () => new LdapUserStorage(new InMemoryUserStorage()),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("ldapUrls is required");
  });

  it("reads CROSSAUTH_LDAP_* variables, with defaults", () => {
    vi.stubEnv("CROSSAUTH_LDAP_URLS", '["ldap://ldap.example.com", "ldaps://ldap2.example.com:636"]');
    vi.stubEnv("CROSSAUTH_LDAP_USER_SEARCH_BASE", "ou=people,dc=example,dc=org");
    const s = new LdapUserStorage(new InMemoryUserStorage());
    expect(s.ldapUrls).toEqual(["ldap://ldap.example.com", "ldaps://ldap2.example.com:636"]);
    expect(s.ldapUserSearchBase).toBe("ou=people,dc=example,dc=org");
    expect(s.ldapUsernameAttribute).toBe("cn");
    expect(s.createUserFn).toBe(defaultCreateUserDn);
    expect(s.requireUserEntry()).toBe(false);
  });

  it.each([[[]], [["http://ldap.example.com"]], [["ldap://"]], [["ldap://h:99999"]], [[389]]])(
    "refuses ldapUrls %j",
    (urls) => {
      expectCrossauthError(() => storage(urls as string[]), ErrorCode.Configuration);
    },
  );

  it("refuses a username attribute that is not an attribute name", () => {
    expectCrossauthError(
      () => storage(["ldap://127.0.0.1"], { ldapUsernameAttribute: "cn=x,dc" }),
      ErrorCode.Configuration,
    );
  });

  it("builds the user DN with the username escaped", () => {
    const s = storage(["ldap://127.0.0.1"], { ldapUsernameAttribute: "uid" });
    expect(s.userDn("bob,ou=admins")).toBe("uid=bob\\,ou\\=admins,ou=users,dc=example,dc=com");
    expect(storage(["ldap://127.0.0.1"], { ldapUserSearchBase: "" }).userDn(" x")).toBe("cn=\\ x");
  });
});

describe("defaultCreateUserDn", () => {
  it("takes the username from LDAP, state active, and the given fields", () => {
    const ldapUser = { dn: "cn=alice,ou=users", uid: "alice-uid", username: "alice", mail: "a@example.com" };
    expect(
      defaultCreateUserDn(
        { username: "ALICE", state: "", factor1: "ldap", email: "a@example.com" },
        ldapUser,
      ),
    ).toEqual({ username: "alice", state: "active", factor1: "ldap", email: "a@example.com" });
  });

  it("falls back to the first uid, and keeps a given state", () => {
    expect(
      defaultCreateUserDn(
        { username: "x", state: "disabled", factor1: "ldap" },
        { dn: "cn=x", uid: ["u1", "u2"] },
      ),
    ).toEqual({ username: "u1", state: "disabled", factor1: "ldap" });
  });
});

describe("LdapUserStorage without a server", () => {
  it("refuses an empty password before connecting: UsernameOrPasswordInvalid even at a closed port", async () => {
    const s = storage([`ldap://127.0.0.1:${await freePort()}`]);
    await expectCrossauthRejection(s.getLdapUser("alice", ""), ErrorCode.UsernameOrPasswordInvalid);
  });

  it("makes no connection at all for an empty password or username", async () => {
    const server = await startSilentServer();
    try {
      const s = storage([server.url]);
      await expectCrossauthRejection(s.getLdapUser("alice", ""), ErrorCode.UsernameOrPasswordInvalid);
      await expectCrossauthRejection(s.getLdapUser("", "alicePass1"), ErrorCode.UsernameOrPasswordInvalid);
      await expectCrossauthRejection(
        s.createUser({ username: "alice", state: "active", factor1: "ldap" }, {}),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("reports a server that is down (closed port) as Connection", async () => {
    const s = storage([`ldap://127.0.0.1:${await freePort()}`, `ldap://127.0.0.1:${await freePort()}`]);
    const e = await expectCrossauthRejection(s.getLdapUser("alice", "alicePass1"), ErrorCode.Connection);
    expect(e.message).not.toContain("alicePass1");
  });

  it("reports a server that never answers as Connection after ldapTimeout", async () => {
    const server = await startSilentServer();
    try {
      const s = storage([server.url], { ldapTimeout: 200 });
      await expectCrossauthRejection(s.getLdapUser("alice", "alicePass1"), ErrorCode.Connection);
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describeWithService(`OpenLDAP slapd (${SLAPD})`, slapdInstalled, "LdapUserStorage with slapd", () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.stop();
  });

  it("binds as alice and reads her own entry, without userPassword", async () => {
    const ldapUser = await storage([slapd.url]).getLdapUser("alice", LDAP_USERS.alice.password);
    expect(ldapUser.dn).toBe("cn=alice,ou=users,dc=example,dc=com");
    expect(ldapUser.username).toBe("alice");
    expect(ldapUser.uid).toBe("alice");
    expect(ldapUser.mail).toBe("alice@example.com");
    expect(ldapUser.givenName).toBe("Alice");
    expect(Object.keys(ldapUser).map((k) => k.toLowerCase())).not.toContain("userpassword");
  });

  it("returns the username as spelled in LDAP", async () => {
    const ldapUser = await storage([slapd.url]).getLdapUser("ALICE", LDAP_USERS.alice.password);
    expect(ldapUser.username).toBe("alice");
  });

  it("refuses a wrong password", async () => {
    const e = await expectCrossauthRejection(
      storage([slapd.url]).getLdapUser("alice", "alicePass2"),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    expect(e.message).not.toContain("alicePass2");
  });

  it("refuses another user's password", async () => {
    await expectCrossauthRejection(
      storage([slapd.url]).getLdapUser("alice", LDAP_USERS.bob.password),
      ErrorCode.UsernameOrPasswordInvalid,
    );
  });

  it("refuses an unknown user", async () => {
    await expectCrossauthRejection(
      storage([slapd.url]).getLdapUser("mallory", "whatever1"),
      ErrorCode.UsernameOrPasswordInvalid,
    );
  });

  it("keeps DN and filter syntax in usernames literal", async () => {
    const s = storage([slapd.url]);
    for (const username of ["bob,ou=users", "*", "alice)(cn=*", "\\61lice", "alice\0"]) {
      await expectCrossauthRejection(
        s.getLdapUser(username, LDAP_USERS.alice.password),
        ErrorCode.UsernameOrPasswordInvalid,
      );
    }
  });

  it("refuses an empty password although the server would reject it too", async () => {
    await expectCrossauthRejection(
      storage([slapd.url]).getLdapUser("bob", ""),
      ErrorCode.UsernameOrPasswordInvalid,
    );
  });

  it("logs in the user with special characters in the name", async () => {
    const { username, password, uid } = LDAP_USERS.special;
    const ldapUser = await storage([slapd.url]).getLdapUser(username, password);
    expect(ldapUser.username).toBe(username);
    expect(ldapUser.uid).toBe(uid);
    expect(ldapUser.mail).toBe("oneil@example.com");
  });

  it("tries the next URL when one is down", async () => {
    const s = storage([`ldap://127.0.0.1:${await freePort()}`, slapd.url]);
    expect((await s.getLdapUser("bob", LDAP_USERS.bob.password)).username).toBe("bob");
  });

  it("does not try the next URL when credentials are refused", async () => {
    const server = await startSilentServer();
    try {
      const s = storage([slapd.url, server.url]);
      await expectCrossauthRejection(s.getLdapUser("bob", "wrongPass1"), ErrorCode.UsernameOrPasswordInvalid);
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("createUser stores a local user with factor1 ldap, the LDAP username and no password", async () => {
    const local = new InMemoryUserStorage();
    const s = new LdapUserStorage(local, {
      ldapUrls: [slapd.url],
      ldapUserSearchBase: LDAP_USER_SEARCH_BASE,
    });
    const { username, password } = LDAP_USERS.special;
    const user = await s.createUser(
      { username: username.toUpperCase(), state: "", factor1: "", email: "oneil@example.com" },
      { password, totpsecret: "JBSWY3DPEHPK3PXP" },
    );
    expect(user).toMatchObject({ username, state: "active", factor1: "ldap", email: "oneil@example.com" });
    const stored = await s.getUserByUsername(username);
    expect(stored.user.id).toBe(user.id);
    expect(stored.secrets).toEqual({ userid: user.id, totpsecret: "JBSWY3DPEHPK3PXP" });
    expect((await local.getUserById(user.id)).user.username).toBe(username);
  });

  it("createUser refuses a missing or wrong LDAP password and creates nothing", async () => {
    const s = storage([slapd.url]);
    const fields = { username: "bob", state: "active", factor1: "ldap" };
    await expectCrossauthRejection(s.createUser(fields), ErrorCode.UsernameOrPasswordInvalid);
    await expectCrossauthRejection(
      s.createUser(fields, { password: "wrongPass1" }),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    await expectCrossauthRejection(s.getUserByUsername("bob"), ErrorCode.UserNotExist);
  });

  it("createUser uses createUserFn and keeps a factor1 it sets", async () => {
    const s = storage([slapd.url], {
      createUserFn: (user, ldapUser) => ({
        ...user,
        username: String(ldapUser.uid),
        email: String(ldapUser.mail),
      }),
    });
    const user = await s.createUser(
      { username: "alice", state: "active", factor1: "corpldap" },
      { password: LDAP_USERS.alice.password },
    );
    expect(user).toMatchObject({ username: "alice", email: "alice@example.com", factor1: "corpldap" });
  });

  it("delegates lookups, updates, listing and deletion to local storage", async () => {
    const s = storage([slapd.url]);
    const user = await s.createUser(
      { username: "bob", state: "active", factor1: "ldap" },
      { password: "bobPass123" },
    );
    expect((await s.getUserById(user.id)).user.username).toBe("bob");
    await s.updateUser({ id: user.id, email: "bob@example.com" });
    expect((await s.getUserByEmail("BOB@example.com")).user.id).toBe(user.id);
    expect((await s.getUserBy("email", "bob@example.com")).user.id).toBe(user.id);
    expect((await s.getUsers()).map((u) => u.username)).toEqual(["bob"]);
    await s.deleteUserById(user.id);
    await expectCrossauthRejection(s.getUserByUsername("bob"), ErrorCode.UserNotExist);
    await s.createUser({ username: "bob", state: "active", factor1: "ldap" }, { password: "bobPass123" });
    await s.deleteUserByUsername("bob");
    expect(await s.getUsers()).toEqual([]);
  });
});
