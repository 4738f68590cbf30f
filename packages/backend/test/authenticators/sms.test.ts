import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkOneTimeCode,
  constantTimeEqual,
  createOneTimeCode,
  DummySmsAuthenticator,
  InMemoryUserStorage,
  SmsAuthenticator,
  type SmsAuthenticatorOptions,
  zeroPad,
} from "@crossauth/backend";
import { CrossauthError, CrossauthLogger, ErrorCode, type Key, type User } from "@crossauth/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const NOW = 1_700_000_000_000;
const PHONE = "+447700900123";
const BOB: User = {
  id: 1,
  username: "bob",
  state: "active",
  factor1: "localpassword",
  factor2: "sms",
  phone: PHONE,
};
const ENV_NAMES = [
  "CROSSAUTH_SMS_AUTHENTICATOR_FROM",
  "CROSSAUTH_SMS_AUTHENTICATOR_TOKEN_EXPIRES",
  "CROSSAUTH_SMS_AUTHENTICATOR_BODY",
  "CROSSAUTH_VIEWS",
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

function withClock(options: SmsAuthenticatorOptions = {}) {
  const clock = { now: NOW };
  const auth = new DummySmsAuthenticator({
    smsAuthenticatorFrom: "+15005550006",
    now: () => clock.now,
    ...options,
  });
  auth.factorName = "sms";
  return { auth, clock };
}

function sessionKey(data: Record<string, unknown>): Key {
  return { value: "s:abc", created: new Date(NOW), expires: null, data: JSON.stringify(data) };
}

describe("one-time codes", () => {
  it("are zero-padded digit strings from the whole range", () => {
    const codes = Array.from({ length: 2000 }, () => createOneTimeCode());
    for (const code of codes) expect(code).toMatch(/^[0-9]{6}$/);
    expect(codes.some((c) => c.startsWith("0"))).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(1990);
    expect(createOneTimeCode(8)).toMatch(/^[0-9]{8}$/);
    expectCrossauthError(() => createOneTimeCode(0), ErrorCode.Configuration);
    expectCrossauthError(() => createOneTimeCode(16), ErrorCode.Configuration);
  });

  it("pad and compare", () => {
    expect(zeroPad(42, 6)).toBe("000042");
    expect(SmsAuthenticator.zeroPad(7, 3)).toBe("007");
    expect(zeroPad(123456, 6)).toBe("123456");
    expect(constantTimeEqual("123456", "123456")).toBe(true);
    expect(constantTimeEqual("123456", "123457")).toBe(false);
    expect(constantTimeEqual("123456", "1234567")).toBe(false);
  });

  it("check the code before the expiry", () => {
    const secrets = { otp: "123456", expiry: NOW };
    checkOneTimeCode("123456", secrets, NOW);
    expectCrossauthError(() => checkOneTimeCode("123456", secrets, NOW + 1), ErrorCode.Expired);
    expectCrossauthError(() => checkOneTimeCode("654321", secrets, NOW + 1), ErrorCode.InvalidToken);
    expectCrossauthError(() => checkOneTimeCode(123456, secrets, NOW), ErrorCode.InvalidToken);
    expectCrossauthError(() => checkOneTimeCode("", { otp: "", expiry: NOW }, NOW), ErrorCode.InvalidToken);
  });
});

describe("SmsAuthenticator phone numbers", () => {
  const good = ["+447700900123", "+12025550123", "+12345678", "+123456789012345"];
  const bad = [
    "447700900123",
    "+047700900123",
    "+1234567",
    "+1234567890123456",
    "+44 7700 900123",
    "+44-7700900123",
    "+4477009001a3",
    "+447700900123\n",
    "",
    "+",
  ];

  for (const number of good) {
    it(`accepts ${number}`, () => {
      expect(SmsAuthenticator.isPhoneValid(number)).toBe(true);
      SmsAuthenticator.validatePhone(number);
    });
  }
  for (const number of bad) {
    it(`refuses ${JSON.stringify(number)} with InvalidPhoneNumber, sending nothing`, async () => {
      expect(SmsAuthenticator.isPhoneValid(number)).toBe(false);
      expectCrossauthError(() => SmsAuthenticator.validatePhone(number), ErrorCode.InvalidPhoneNumber);
      const { auth } = withClock();
      await expectCrossauthRejection(
        auth.createOneTimeSecrets({ ...BOB, phone: number }),
        ErrorCode.InvalidPhoneNumber,
      );
      await expectCrossauthRejection(
        auth.prepareConfiguration({ ...BOB, phone: number }),
        ErrorCode.InvalidPhoneNumber,
      );
      expect(auth.lastMessage).toBeUndefined();
    });
  }

  it("refuses a missing phone number", async () => {
    expect(SmsAuthenticator.isPhoneValid(undefined)).toBe(false);
    expect(SmsAuthenticator.isPhoneValid(null)).toBe(false);
    expectCrossauthError(() => SmsAuthenticator.validatePhone(null), ErrorCode.InvalidPhoneNumber);
    const { auth } = withClock();
    await expectCrossauthRejection(
      auth.createOneTimeSecrets({ ...BOB, phone: null }),
      ErrorCode.InvalidPhoneNumber,
    );
    await expectCrossauthRejection(
      auth.prepareConfiguration({ ...BOB, phone: undefined }),
      ErrorCode.InvalidPhoneNumber,
    );
  });
});

describe("DummySmsAuthenticator", () => {
  it("sends a 6-digit code to the user's phone, valid for 300 seconds", async () => {
    const { auth } = withClock();
    const secrets = await auth.createOneTimeSecrets(BOB);
    expect(secrets.otp).toMatch(/^[0-9]{6}$/);
    expect(secrets.expiry).toBe(NOW + 300_000);
    expect(auth.lastCode).toBe(secrets.otp);
    expect(auth.lastMessage).toEqual({
      to: PHONE,
      from: "+15005550006",
      body: `Your verification code is ${secrets.otp}`,
      id: expect.stringMatching(/^DUMMY[A-Za-z0-9_-]{22}$/),
    });
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: "Sent SMS code", username: "bob", messageId: auth.lastMessage?.id }),
    );
    expect(JSON.stringify(logs)).not.toContain(secrets.otp as string);
  });

  it("logs a user from InMemoryUserStorage in with the code that arrived", async () => {
    const storage = new InMemoryUserStorage();
    await storage.createUser({
      username: "bob",
      state: "active",
      factor1: "localpassword",
      factor2: "sms",
      phone: PHONE,
    });
    const { user } = await storage.getUserByUsername("bob");
    const { auth } = withClock();
    const secrets = await auth.createOneTimeSecrets(user);
    expect(auth.lastMessage?.to).toBe(PHONE);
    await auth.authenticateUser(user, secrets, { otp: auth.lastCode });
  });

  it("refuses a wrong code with InvalidToken", async () => {
    const { auth } = withClock();
    const secrets = await auth.createOneTimeSecrets(BOB);
    const wrong = zeroPad((Number(secrets.otp) + 1) % 1_000_000, 6);
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, secrets, { otp: wrong }),
      ErrorCode.InvalidToken,
    );
    await expectCrossauthRejection(auth.authenticateUser(BOB, secrets, {}), ErrorCode.InvalidToken);
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, secrets, { otp: `${secrets.otp} ` }),
      ErrorCode.InvalidToken,
    );
  });

  it("refuses the code after it expires with Expired", async () => {
    const { auth, clock } = withClock({ smsAuthenticatorTokenExpires: 60 });
    const secrets = await auth.createOneTimeSecrets(BOB);
    expect(secrets.expiry).toBe(NOW + 60_000);
    clock.now = NOW + 60_000;
    await auth.authenticateUser(BOB, secrets, { otp: auth.lastCode });
    clock.now = NOW + 60_001;
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, secrets, { otp: auth.lastCode }),
      ErrorCode.Expired,
    );
  });

  it("prepares the configuration by sending a code", async () => {
    const { auth } = withClock();
    const result = await auth.prepareConfiguration(BOB);
    const otp = auth.lastCode;
    expect(result).toEqual({
      userData: { username: "bob", phone: PHONE, factor2: "sms" },
      sessionData: { username: "bob", phone: PHONE, factor2: "sms", otp, expiry: NOW + 300_000 },
    });
    const other = await auth.prepareConfiguration({
      username: "ann",
      state: "active",
      factor1: "localpassword",
      phone: "+12025550123",
    });
    expect(other?.userData).toEqual({ username: "ann", phone: "+12025550123", factor2: "sms" });
    expect(auth.lastMessage?.to).toBe("+12025550123");
  });

  it("reprepares by sending a new code to the phone in the 2fa session data", async () => {
    const { auth, clock } = withClock();
    const prepared = await auth.prepareConfiguration(BOB);
    clock.now = NOW + 5000;
    const result = await auth.reprepareConfiguration("ignored", sessionKey({ "2fa": prepared?.sessionData }));
    const otp = auth.lastCode;
    expect(result).toEqual({
      userData: { username: "bob", phone: PHONE, factor2: "sms" },
      secrets: { otp, expiry: NOW + 305_000 },
      newSessionData: { username: "bob", phone: PHONE, factor2: "sms", otp, expiry: NOW + 305_000 },
    });
    expect(auth.lastMessage?.to).toBe(PHONE);
    await auth.authenticateUser(BOB, result?.secrets ?? {}, { otp });
  });

  it("has nothing to reprepare without 2fa data, and refuses a bad stored phone", async () => {
    const { auth } = withClock();
    expect(await auth.reprepareConfiguration("bob", sessionKey({}))).toBeUndefined();
    await expectCrossauthRejection(
      auth.reprepareConfiguration("bob", sessionKey({ "2fa": { username: "bob", factor2: "sms" } })),
      ErrorCode.InvalidPhoneNumber,
    );
    expect(auth.lastMessage).toBeUndefined();
  });

  it("describes the factor as in the reference", async () => {
    const { auth } = withClock();
    expect(auth.capabilities()).toEqual({
      canCreateUser: true,
      canUpdateSecrets: false,
      canUpdateUser: true,
    });
    expect(auth.secretNames()).toEqual([]);
    expect(auth.transientSecretNames()).toEqual(["otp"]);
    expect(auth.validateSecrets({})).toEqual([]);
    expect(auth.skipEmailVerificationOnSignup()).toBe(false);
    expect(auth.mfaType()).toBe("oob");
    expect(auth.mfaChannel()).toBe("sms");
    expect(await auth.createPersistentSecrets("alice", {})).toEqual({});
    expect(auth.friendlyName).toBe("SMS");
    expect(auth.lastCode).toBeUndefined();
  });
});

describe("SmsAuthenticator configuration and templates", () => {
  it("reads its options from CROSSAUTH_* variables, with templates from CROSSAUTH_VIEWS", async () => {
    const views = mkdtempSync(join(tmpdir(), "sms-views-"));
    try {
      writeFileSync(join(views, "mysms.njk"), "{{ username }}: <code> {{ otp }} & valid {{ expires }}s");
      process.env.CROSSAUTH_SMS_AUTHENTICATOR_FROM = "Crossauth";
      process.env.CROSSAUTH_SMS_AUTHENTICATOR_TOKEN_EXPIRES = "120";
      process.env.CROSSAUTH_SMS_AUTHENTICATOR_BODY = "mysms.njk";
      process.env.CROSSAUTH_VIEWS = views;
      const auth = new DummySmsAuthenticator({ now: () => NOW });
      expect(auth.smsAuthenticatorFrom).toBe("Crossauth");
      const secrets = await auth.createOneTimeSecrets(BOB);
      expect(secrets.expiry).toBe(NOW + 120_000);
      // Autoescaping is off: SMS is plain text.
      expect(auth.lastMessage?.body).toBe(`bob: <code> ${secrets.otp} & valid 120s`);
      expect(auth.lastMessage?.from).toBe("Crossauth");
    } finally {
      rmSync(views, { recursive: true, force: true });
    }
  });

  it("falls back to the built-in template when views lacks it", async () => {
    const views = mkdtempSync(join(tmpdir(), "sms-views-"));
    try {
      const { auth } = withClock({ views });
      const secrets = await auth.createOneTimeSecrets(BOB);
      expect(auth.lastMessage?.body).toBe(`Your verification code is ${secrets.otp}`);
    } finally {
      rmSync(views, { recursive: true, force: true });
    }
  });

  it("uses a render function instead of Nunjucks", async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const render = (template: string, data: Record<string, unknown>) => {
      calls.push([template, data]);
      return `code=${data.otp}`;
    };
    const { auth } = withClock({ render, smsAuthenticatorBody: "custom" });
    const secrets = await auth.createOneTimeSecrets(BOB);
    expect(auth.lastMessage?.body).toBe(`code=${secrets.otp}`);
    expect(calls).toEqual([["custom", { otp: secrets.otp, username: "bob", expires: 300 }]]);
  });

  it("reports a template it cannot find as a Configuration error, sending nothing", async () => {
    const { auth } = withClock({ smsAuthenticatorBody: "missing.njk" });
    await expectCrossauthRejection(auth.createOneTimeSecrets(BOB), ErrorCode.Configuration);
    expect(auth.lastMessage).toBeUndefined();
  });

  it("refuses a non-positive expiry and a badly typed variable", () => {
    expectCrossauthError(
      () => new DummySmsAuthenticator({ smsAuthenticatorTokenExpires: 0 }),
      ErrorCode.Configuration,
    );
    process.env.CROSSAUTH_SMS_AUTHENTICATOR_TOKEN_EXPIRES = "soon";
    expectCrossauthError(() => new DummySmsAuthenticator(), ErrorCode.Configuration);
  });

  it("turns a provider's raw error into Connection and passes CrossauthErrors on", async () => {
    class Failing extends SmsAuthenticator {
      constructor(private readonly error: unknown) {
        super({ now: () => NOW });
      }
      async sendSms(): Promise<string> {
        throw this.error;
      }
    }
    await expectCrossauthRejection(
      new Failing(new Error("socket hang up")).createOneTimeSecrets(BOB),
      ErrorCode.Connection,
    );
    await expectCrossauthRejection(
      new Failing(new CrossauthError(ErrorCode.FetchError, "refused")).createOneTimeSecrets(BOB),
      ErrorCode.FetchError,
    );
  });
});
