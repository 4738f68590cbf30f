import {
  decodePasswordHash,
  defaultPasswordValidator,
  InMemoryUserStorage,
  LocalPasswordAuthenticator,
  type LocalPasswordAuthenticatorOptions,
  passwordHash,
} from "@crossauth/backend";
import { CrossauthLogger, ErrorCode, type UserInputFields } from "@crossauth/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const SALT = "ABCDEFGHIJKLMNOPQRSTUV";
/** The wire-formats.md vectors for `bobPass123` (1000 iterations, with and without the pepper `PEPPER`). */
const BARE_HASH = "pyk0wDckb4Fyt-G9RC4UgTKpHdoJW1prfTWh2jPgDbA";
const VECTOR = `pbkdf2:sha256:32:1000:0:${SALT}:${BARE_HASH}`;
const PEPPERED = `pbkdf2:sha256:32:1000:1:${SALT}:DmKv-AKfOkWG6j9Fyj-QIogJSX_bOeukhemImtsUAn8`;
const BOB: UserInputFields = { username: "bob", state: "active", factor1: "localpassword" };

const ENV_NAMES = [
  "CROSSAUTH_SECRET",
  "CROSSAUTH_ENABLE_SECRET_FOR_PASSWORD_HASH",
  "CROSSAUTH_PBKDF2_DIGEST",
  "CROSSAUTH_PBKDF2_ITERATIONS",
  "CROSSAUTH_PBKDF2_KEY_LENGTH",
  "CROSSAUTH_PBKDF2_SALT_LENGTH",
];
let savedEnv: Record<string, string | undefined> = {};
let logs: unknown[] = [];
beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
  for (const n of ENV_NAMES) delete process.env[n];
  logs = [];
  const push = (o: unknown) => {
    logs.push(o);
  };
  CrossauthLogger.setLogger({ error: push, warn: push, info: push, debug: push }, true);
});
afterEach(() => {
  for (const n of ENV_NAMES) {
    if (savedEnv[n] === undefined) delete process.env[n];
    else process.env[n] = savedEnv[n];
  }
  CrossauthLogger.setLogger(new CrossauthLogger(), true);
});

function authenticator(options: LocalPasswordAuthenticatorOptions = {}): LocalPasswordAuthenticator {
  return new LocalPasswordAuthenticator(new InMemoryUserStorage(), { pbkdf2Iterations: 1000, ...options });
}

describe("LocalPasswordAuthenticator hashes", () => {
  it("has the reference defaults", () => {
    const auth = new LocalPasswordAuthenticator(new InMemoryUserStorage());
    expect(auth.pbkdf2Digest).toBe("sha256");
    expect(auth.pbkdf2Iterations).toBe(600000);
    expect(auth.pbkdf2KeyLength).toBe(32);
    expect(auth.pbkdf2SaltLength).toBe(16);
    expect(auth.enableSecretForPasswordHash).toBe(false);
    expect(auth.friendlyName).toBe("Password");
  });

  for (const digest of ["sha256", "sha512"]) {
    for (const iterations of [1000, 2500]) {
      for (const keyLength of [16, 32, 64]) {
        it(`verifies hashes made with ${digest}, ${iterations} iterations, ${keyLength}-byte keys`, async () => {
          const auth = authenticator({
            pbkdf2Digest: digest,
            pbkdf2Iterations: iterations,
            pbkdf2KeyLength: keyLength,
          });
          const stored = await auth.createPasswordForStorage("Secret1pass");
          const parts = decodePasswordHash(stored);
          expect(parts).toMatchObject({ digest, iterations, keyLen: keyLength, useSecret: false });
          expect(parts.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
          expect(await auth.passwordMatchesHash("Secret1pass", stored)).toBe(true);
          expect(await auth.passwordMatchesHash("Secret1pasS", stored)).toBe(false);
          await auth.authenticateUser(BOB, { password: stored }, { password: "Secret1pass" });
          // Another configuration checks it with the hash's own parameters.
          const other = authenticator({
            pbkdf2Digest: "sha512",
            pbkdf2Iterations: 1200,
            pbkdf2KeyLength: 48,
          });
          expect(await other.passwordMatchesHash("Secret1pass", stored)).toBe(true);
        });
      }
    }
  }

  it("makes salts of pbkdf2SaltLength random bytes, different each time", async () => {
    const auth = authenticator({ pbkdf2SaltLength: 8 });
    const a = decodePasswordHash(await auth.createPasswordForStorage("Secret1pass"));
    const b = decodePasswordHash(await auth.createPasswordForStorage("Secret1pass"));
    expect(a.salt).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hashedPassword).not.toBe(b.hashedPassword);
  });

  it("reproduces the wire-formats.md vector, encoded or bare", async () => {
    const auth = authenticator();
    expect(await auth.createPasswordHash("bobPass123", SALT)).toBe(VECTOR);
    expect(await auth.createPasswordHash("bobPass123", SALT, false)).toBe(BARE_HASH);
    expect(await auth.passwordMatchesHash("bobPass123", VECTOR)).toBe(true);
  });

  it("is false, not an error, for a malformed hash", async () => {
    const auth = authenticator();
    expect(await auth.passwordMatchesHash("bobPass123", "pbkdf2:sha256:32:1000:0:salt")).toBe(false);
    expect(await auth.passwordMatchesHash("bobPass123", "plaintext")).toBe(false);
  });

  const badSettings: LocalPasswordAuthenticatorOptions[] = [
    { pbkdf2Iterations: 0 },
    { pbkdf2Iterations: 1.5 },
    { pbkdf2KeyLength: 0 },
    { pbkdf2SaltLength: 0 },
    { pbkdf2Digest: "md9" },
  ];
  for (const options of badSettings) {
    it(`refuses ${JSON.stringify(options)} with Configuration`, () => {
      const storage = new InMemoryUserStorage();
      expectCrossauthError(() => new LocalPasswordAuthenticator(storage, options), ErrorCode.Configuration);
    });
  }
});

describe("LocalPasswordAuthenticator pepper", () => {
  it("peppers new hashes when enableSecretForPasswordHash is set", async () => {
    const auth = authenticator({ secret: "PEPPER", enableSecretForPasswordHash: true });
    expect(await auth.createPasswordHash("bobPass123", SALT)).toBe(PEPPERED);
    const stored = await auth.createPasswordForStorage("Secret1pass");
    expect(decodePasswordHash(stored).useSecret).toBe(true);
    expect(await auth.passwordMatchesHash("Secret1pass", stored)).toBe(true);
    await auth.authenticateUser(BOB, { password: stored }, { password: "Secret1pass" });
  });

  it("does not pepper when only a secret is given", async () => {
    const auth = authenticator({ secret: "PEPPER" });
    expect(await auth.createPasswordHash("bobPass123", SALT)).toBe(VECTOR);
  });

  it("still accepts flag-0 hashes when a pepper is configured", async () => {
    const auth = authenticator({ secret: "PEPPER", enableSecretForPasswordHash: true });
    expect(await auth.passwordMatchesHash("bobPass123", VECTOR)).toBe(true);
    await auth.authenticateUser(BOB, { password: VECTOR }, { password: "bobPass123" });
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, { password: VECTOR }, { password: "bobPass124" }),
      ErrorCode.PasswordInvalid,
    );
  });

  it("checks flag-1 hashes with the secret even after peppering new hashes is turned off", async () => {
    const auth = authenticator({ secret: "PEPPER" });
    await auth.authenticateUser(BOB, { password: PEPPERED }, { password: "bobPass123" });
    expect(await auth.passwordMatchesHash("bobPass123", PEPPERED, "PEPPEX")).toBe(false);
    expect(await auth.passwordMatchesHash("bobPass123", PEPPERED, "PEPPER")).toBe(true);
  });

  it("refuses a flag-1 hash when no secret is configured, logging why", async () => {
    const auth = authenticator();
    expect(await auth.passwordMatchesHash("bobPass123", PEPPERED)).toBe(false);
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, { password: PEPPERED }, { password: "bobPass123" }),
      ErrorCode.PasswordInvalid,
    );
    expect(logs).toContainEqual(expect.objectContaining({ errorCodeName: "Configuration", username: "bob" }));
  });

  it("needs a secret to pepper", () => {
    expectCrossauthError(() => authenticator({ enableSecretForPasswordHash: true }), ErrorCode.Configuration);
  });
});

describe("defaultPasswordValidator", () => {
  const cases: [string | undefined, string[]][] = [
    [undefined, ["Password not provided"]],
    ["", ["Password not provided"]],
    [
      "?",
      [
        "Password must be at least 8 characters",
        "Password must contain at least one lowercase character",
        "Password must contain at least one uppercase character",
        "Password must contain at least one digit",
      ],
    ],
    ["Ab1", ["Password must be at least 8 characters"]],
    ["ABCDEFGH1", ["Password must contain at least one lowercase character"]],
    ["abcdefgh1", ["Password must contain at least one uppercase character"]],
    ["Abcdefgh", ["Password must contain at least one digit"]],
    [
      "abcdefgh",
      ["Password must contain at least one uppercase character", "Password must contain at least one digit"],
    ],
    ["Abcdefg1", []],
    ["Ünïcödé9", []],
    // Eight code points (the emoji are two UTF-16 units each), so long enough.
    ["Ab1\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}", []],
    ["Ab1\u{1F600}\u{1F600}\u{1F600}\u{1F600}", ["Password must be at least 8 characters"]],
  ];
  for (const [password, expected] of cases) {
    it(`gives ${JSON.stringify(expected)} for ${JSON.stringify(password)}`, () => {
      expect(defaultPasswordValidator({ password })).toEqual(expected);
      expect(authenticator().validateSecrets({ password })).toEqual(expected);
    });
  }

  it("can be replaced", () => {
    const auth = authenticator({ validatePasswordFn: (p) => (p.password === "x" ? [] : ["Must be x"]) });
    expect(auth.validateSecrets({ password: "x" })).toEqual([]);
    expect(auth.validateSecrets({ password: "Abcdefg1" })).toEqual(["Must be x"]);
  });
});

describe("LocalPasswordAuthenticator.createPersistentSecrets", () => {
  it("returns a hash of an acceptable password", async () => {
    const auth = authenticator();
    const secrets = await auth.createPersistentSecrets(
      "bob",
      { password: "Secret1pass" },
      { password: "Secret1pass" },
    );
    expect(Object.keys(secrets)).toEqual(["password"]);
    expect(await auth.passwordMatchesHash("Secret1pass", secrets.password as string)).toBe(true);
  });

  it("refuses a different repeat with PasswordMatch", async () => {
    const auth = authenticator();
    await expectCrossauthRejection(
      auth.createPersistentSecrets("bob", { password: "Secret1pass" }, { password: "Secret1pasS" }),
      ErrorCode.PasswordMatch,
    );
    await expectCrossauthRejection(
      auth.createPersistentSecrets("bob", { password: "Secret1pass" }, {}),
      ErrorCode.PasswordMatch,
    );
  });

  it("refuses a weak password with PasswordFormat and every message", async () => {
    const auth = authenticator();
    const e = await expectCrossauthRejection(
      auth.createPersistentSecrets("bob", { password: "abc" }),
      ErrorCode.PasswordFormat,
    );
    expect(e.messages).toEqual([
      "Password must be at least 8 characters",
      "Password must contain at least one uppercase character",
      "Password must contain at least one digit",
    ]);
    const missing = await expectCrossauthRejection(
      auth.createPersistentSecrets("bob", {}),
      ErrorCode.PasswordFormat,
    );
    expect(missing.messages).toEqual(["Password not provided"]);
  });
});

describe("LocalPasswordAuthenticator.authenticateUser", () => {
  it("logs in a user kept in InMemoryUserStorage", async () => {
    const storage = new InMemoryUserStorage();
    const auth = new LocalPasswordAuthenticator(storage, { pbkdf2Iterations: 1000 });
    await storage.createUser(BOB, await auth.createPersistentSecrets("bob", { password: "Secret1pass" }));
    const { user, secrets } = await storage.getUserByUsername("bob");
    await auth.authenticateUser(user, secrets, { password: "Secret1pass" });
    await expectCrossauthRejection(
      auth.authenticateUser(user, secrets, { password: "Secret2pass" }),
      ErrorCode.PasswordInvalid,
    );
    expect(auth.userStorage).toBe(storage);
  });

  it("refuses a missing or empty password with PasswordInvalid", async () => {
    const auth = authenticator();
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, { password: VECTOR }, {}),
      ErrorCode.PasswordInvalid,
    );
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, { password: VECTOR }, { password: "" }),
      ErrorCode.PasswordInvalid,
    );
  });

  it("refuses a user without a stored password", async () => {
    const auth = authenticator();
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, {}, { password: "bobPass123" }),
      ErrorCode.PasswordInvalid,
    );
  });

  it("never matches the NoPassword sentinel", async () => {
    const auth = authenticator();
    expect(LocalPasswordAuthenticator.NoPassword).toBe("********");
    const noPassword = LocalPasswordAuthenticator.NoPassword;
    expect(await auth.passwordMatchesHash(noPassword, noPassword)).toBe(false);
    expect(await auth.passwordMatchesHash("", noPassword)).toBe(false);
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, { password: noPassword }, { password: noPassword }),
      ErrorCode.PasswordInvalid,
    );
  });

  it("reports a malformed stored hash as PasswordInvalid, logging InvalidHash without the password", async () => {
    const auth = authenticator();
    const e = await expectCrossauthRejection(
      auth.authenticateUser(
        BOB,
        { password: "pbkdf2:sha256:32:1000:0:salt:short" },
        { password: "Secret1pass" },
      ),
      ErrorCode.PasswordInvalid,
    );
    expect(e.message).not.toMatch(/hash/i);
    expect(logs).toContainEqual(expect.objectContaining({ errorCodeName: "InvalidHash", username: "bob" }));
    expect(JSON.stringify(logs)).not.toContain("Secret1pass");
  });

  it("refuses an unknown user with UserNotExist", async () => {
    const auth = authenticator();
    await expectCrossauthRejection(
      auth.authenticateUser(undefined, {}, { password: "bobPass123" }),
      ErrorCode.UserNotExist,
    );
    await expectCrossauthRejection(
      auth.authenticateUnknownUser({ password: "bobPass123" }),
      ErrorCode.UserNotExist,
    );
    await expectCrossauthRejection(auth.authenticateUnknownUser(), ErrorCode.UserNotExist);
  });

  // The one timing comparison the issue asks for: 20 unknown-user and 20 wrong-password logins,
  // interleaved, with a small iteration count; their mean costs must be within 10%. Cost is the
  // process's CPU time (PBKDF2 runs on libuv's pool, which process.cpuUsage counts), so waiting
  // for a busy machine's CPUs does not count as work. A skipped PBKDF2 makes one side near zero
  // (a 100% gap); up to three rounds are measured so a burst of load in one round is not a failure.
  it("costs the same PBKDF2 work for an unknown user as for a wrong password", async () => {
    const auth = authenticator({ pbkdf2Iterations: 20000 });
    const stored = await auth.createPasswordForStorage("Secret1pass");
    const unknownUser = () => auth.authenticateUser(undefined, {}, { password: "Wrong1pass" });
    const wrongPassword = () => auth.authenticateUser(BOB, { password: stored }, { password: "Wrong1pass" });
    const cost = async (attempt: () => Promise<void>, code: ErrorCode): Promise<number> => {
      const start = process.cpuUsage();
      await expectCrossauthRejection(attempt(), code);
      const used = process.cpuUsage(start);
      return used.user + used.system;
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (let i = 0; i < 3; i++) {
      await cost(unknownUser, ErrorCode.UserNotExist);
      await cost(wrongPassword, ErrorCode.PasswordInvalid);
    }
    const gaps: number[] = [];
    for (let round = 0; round < 3 && !gaps.some((gap) => gap < 0.1); round++) {
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 20; i++) {
        // Alternate which kind goes first, so changes in machine load hit both alike.
        if (i % 2 === 0) unknown.push(await cost(unknownUser, ErrorCode.UserNotExist));
        wrong.push(await cost(wrongPassword, ErrorCode.PasswordInvalid));
        if (i % 2 === 1) unknown.push(await cost(unknownUser, ErrorCode.UserNotExist));
      }
      const [u, w] = [mean(unknown), mean(wrong)];
      gaps.push(Math.abs(u - w) / Math.max(u, w));
    }
    expect(Math.min(...gaps)).toBeLessThan(0.1);
  });
});

describe("LocalPasswordAuthenticator configuration", () => {
  it("reads every option from CROSSAUTH_* variables", async () => {
    process.env.CROSSAUTH_SECRET = "PEPPER";
    process.env.CROSSAUTH_ENABLE_SECRET_FOR_PASSWORD_HASH = "true";
    process.env.CROSSAUTH_PBKDF2_DIGEST = "sha512";
    process.env.CROSSAUTH_PBKDF2_ITERATIONS = "1100";
    process.env.CROSSAUTH_PBKDF2_KEY_LENGTH = "24";
    process.env.CROSSAUTH_PBKDF2_SALT_LENGTH = "12";
    const auth = new LocalPasswordAuthenticator(new InMemoryUserStorage());
    const stored = await auth.createPasswordForStorage("Secret1pass");
    const parts = decodePasswordHash(stored);
    expect(parts).toMatchObject({ digest: "sha512", iterations: 1100, keyLen: 24, useSecret: true });
    expect(parts.salt).toHaveLength(16);
    const expected = await passwordHash("Secret1pass", {
      salt: parts.salt,
      secret: "PEPPER",
      digest: "sha512",
      iterations: 1100,
      keyLen: 24,
    });
    expect(parts.hashedPassword).toBe(expected);
  });

  it("prefers options to the environment", () => {
    process.env.CROSSAUTH_PBKDF2_ITERATIONS = "1100";
    expect(authenticator({ pbkdf2Iterations: 1300 }).pbkdf2Iterations).toBe(1300);
  });

  it("refuses an unparsable variable", () => {
    process.env.CROSSAUTH_PBKDF2_ITERATIONS = "many";
    expectCrossauthError(
      () => new LocalPasswordAuthenticator(new InMemoryUserStorage()),
      ErrorCode.Configuration,
    );
  });

  it("describes the factor", async () => {
    const auth = authenticator({ friendlyName: "Your password" });
    expect(auth.friendlyName).toBe("Your password");
    expect(auth.capabilities()).toEqual({ canCreateUser: true, canUpdateSecrets: true, canUpdateUser: true });
    expect(auth.skipEmailVerificationOnSignup()).toBe(false);
    expect(auth.secretNames()).toEqual(["password"]);
    expect(auth.transientSecretNames()).toEqual([]);
    expect(auth.mfaType()).toBe("none");
    expect(auth.mfaChannel()).toBe("none");
    expect(await auth.prepareConfiguration(BOB)).toBeUndefined();
    expect(
      await auth.reprepareConfiguration("bob", { value: "s:x", created: new Date(0), expires: null }),
    ).toBeUndefined();
    expect(await auth.createOneTimeSecrets({ ...BOB, id: 1 })).toEqual({});
  });
});
