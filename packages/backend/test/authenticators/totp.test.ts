/** TotpAuthenticator: RFC 6238 vectors, drift window, replay refusal, concurrency and QR round trip. */
import {
  CrossauthLogger,
  type CrossauthLoggerInterface,
  ErrorCode,
  type Key,
  type UserInputFields,
} from "@crossauth/common";
import jsqr from "jsqr";
import { generateURI } from "otplib";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTotpSecret,
  InMemoryTotpReplayStore,
  TotpAuthenticator,
  type TotpReplayStore,
  totpCode,
  totpUri,
} from "../../src/authenticators/totp-authenticator.js";
import { hash } from "../../src/crypto/index.js";
import { KeyStorage } from "../../src/storage/key-storage.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

/** Independent RFC 4648 base32 encoder (no padding), to derive the RFC 6238 secret. */
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of text) {
    value = (value << 5) | B32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Decodes a PNG data URL's QR code to its text. */
function decodeQr(dataUrl: string): string {
  const prefix = "data:image/png;base64,";
  expect(dataUrl.startsWith(prefix)).toBe(true);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), "base64"));
  const result = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(result).not.toBeNull();
  return result!.data;
}

const RFC_SECRET = base32(Buffer.from("12345678901234567890", "ascii"));
const RFC_VECTORS: [number, string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

/** A clock tests move by hand. */
function clock(startMs: number) {
  const c = { t: startMs, now: () => c.t };
  return c;
}

const T = 1_700_000_015_000; // 15 s into a step
const alice: UserInputFields = {
  username: "alice",
  state: "active",
  factor1: "localpassword",
  factor2: "totp",
};

function sessionKey(data: Record<string, unknown>): Key {
  return { value: "s:x", created: new Date(0), expires: null, data: KeyStorage.encodeData(data) };
}

describe("RFC 6238 Appendix B (SHA-1)", () => {
  it("derives the base32 secret of ASCII 12345678901234567890", () => {
    expect(RFC_SECRET).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  });

  it.each(RFC_VECTORS)("t=%i gives %s (8 digits) and its last 6 digits (6 digits)", async (t, code) => {
    expect(await totpCode(RFC_SECRET, t * 1000, 8)).toBe(code);
    expect(await totpCode(RFC_SECRET, t * 1000)).toBe(code.slice(2));
  });

  it("the authenticator accepts exactly those 6-digit codes at those times", async () => {
    const c = clock(0);
    const auth = new TotpAuthenticator("Test", { now: c.now });
    for (const [t, code] of RFC_VECTORS) {
      c.t = t * 1000;
      await auth.authenticateUser(alice, { totpsecret: RFC_SECRET }, { otp: code.slice(2) });
    }
  });
});

describe("secrets", () => {
  it("createPersistentSecrets gives 20 random bytes in RFC 4648 base32", async () => {
    const auth = new TotpAuthenticator("Test");
    const a = await auth.createPersistentSecrets("alice", {});
    const b = await auth.createPersistentSecrets("alice", {});
    expect(Object.keys(a)).toEqual(["totpsecret"]);
    expect(a.totpsecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a.totpsecret!)).toHaveLength(20);
    expect(base32(base32Decode(a.totpsecret!))).toBe(a.totpsecret);
    expect(b.totpsecret).not.toBe(a.totpsecret);
    expect(createTotpSecret()).toMatch(/^[A-Z2-7]{32}$/);
  });
});

describe("authenticateUser", () => {
  it("accepts codes for the previous, current and next step and refuses two steps away", async () => {
    const secret = createTotpSecret();
    for (const offset of [-30_000, 0, 30_000]) {
      const auth = new TotpAuthenticator("Test", { now: () => T });
      await auth.authenticateUser(alice, { totpsecret: secret }, { otp: await totpCode(secret, T + offset) });
    }
    for (const offset of [-60_000, 60_000]) {
      const auth = new TotpAuthenticator("Test", { now: () => T });
      const e = await expectCrossauthRejection(
        auth.authenticateUser(alice, { totpsecret: secret }, { otp: await totpCode(secret, T + offset) }),
        ErrorCode.InvalidToken,
      );
      expect(e.message).toBe("Invalid code");
    }
  });

  it("refuses a code presented a second time, even a step later", async () => {
    const c = clock(T);
    const auth = new TotpAuthenticator("Test", { now: c.now });
    const secret = createTotpSecret();
    const code = await totpCode(secret, T);
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp: code });
    const e = await expectCrossauthRejection(
      auth.authenticateUser(alice, { totpsecret: secret }, { otp: code }),
      ErrorCode.InvalidToken,
    );
    expect(e.message).toBe("This code has already been used");
    c.t = T + 30_000; // the code is still inside the window as the previous step
    await expectCrossauthRejection(
      auth.authenticateUser(alice, { totpsecret: secret }, { otp: code }),
      ErrorCode.InvalidToken,
    );
    // The next step's code is new, so it is accepted.
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp: await totpCode(secret, c.t) });
  });

  it("refuses an older step's code once a newer one was accepted", async () => {
    const auth = new TotpAuthenticator("Test", { now: () => T });
    const secret = createTotpSecret();
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp: await totpCode(secret, T + 30_000) });
    for (const offset of [-30_000, 0]) {
      await expectCrossauthRejection(
        auth.authenticateUser(alice, { totpsecret: secret }, { otp: await totpCode(secret, T + offset) }),
        ErrorCode.InvalidToken,
      );
    }
  });

  it("keeps replay state per secret", async () => {
    const auth = new TotpAuthenticator("Test", { now: () => T });
    const s1 = createTotpSecret();
    const s2 = createTotpSecret();
    await auth.authenticateUser(alice, { totpsecret: s1 }, { otp: await totpCode(s1, T) });
    await auth.authenticateUser(undefined, { totpsecret: s2 }, { otp: await totpCode(s2, T) });
  });

  it("lets exactly one of several simultaneous logins with the same code succeed", async () => {
    const auth = new TotpAuthenticator("Test", { now: () => T });
    const secret = createTotpSecret();
    const otp = await totpCode(secret, T);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => auth.authenticateUser(alice, { totpsecret: secret }, { otp })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect((r as PromiseRejectedResult).reason.codeName).toBe("InvalidToken");
    }
  });

  it("shares replay state between instances given the same store", async () => {
    const store = new InMemoryTotpReplayStore({ now: () => T });
    const a = new TotpAuthenticator("Test", { now: () => T, replayStore: store });
    const b = new TotpAuthenticator("Test", { now: () => T, replayStore: store });
    const secret = createTotpSecret();
    const otp = await totpCode(secret, T);
    const results = await Promise.allSettled([
      a.authenticateUser(alice, { totpsecret: secret }, { otp }),
      b.authenticateUser(alice, { totpsecret: secret }, { otp }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
  });

  it("keys the replay store by a hash of the secret and records the matched step", async () => {
    const calls: [string, string, number?][] = [];
    const inner = new InMemoryTotpReplayStore({ now: () => T });
    const spy: TotpReplayStore = {
      lastAcceptedStep: async (id) => {
        calls.push(["last", id]);
        return inner.lastAcceptedStep(id);
      },
      recordAcceptedStep: async (id, step) => {
        calls.push(["record", id, step]);
        return inner.recordAcceptedStep(id, step);
      },
    };
    const auth = new TotpAuthenticator("Test", { now: () => T, replayStore: spy });
    const secret = createTotpSecret();
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp: await totpCode(secret, T - 30_000) });
    const id = hash(`totp:${secret}`);
    expect(calls).toEqual([
      ["last", id],
      ["record", id, Math.floor(T / 30_000) - 1],
    ]);
    expect(id).not.toContain(secret);
  });

  it.each([["12345"], ["1234567"], ["12a456"], [" 123456"], [""]])(
    "refuses the malformed code %j",
    async (otp) => {
      const auth = new TotpAuthenticator("Test", { now: () => T });
      const e = await expectCrossauthRejection(
        auth.authenticateUser(alice, { totpsecret: createTotpSecret() }, { otp }),
        ErrorCode.InvalidToken,
      );
      expect(e.message).toBe("The code must be 6 digits");
    },
  );

  it("refuses a missing code and a missing secret with InvalidToken", async () => {
    const auth = new TotpAuthenticator("Test", { now: () => T });
    await expectCrossauthRejection(
      auth.authenticateUser(alice, { totpsecret: createTotpSecret() }, {}),
      ErrorCode.InvalidToken,
    );
    const e = await expectCrossauthRejection(
      auth.authenticateUser(alice, {}, { otp: "123456" }),
      ErrorCode.InvalidToken,
    );
    expect(e.message).toBe("TOTP is not set up for this user");
  });

  it.each([["not base32!"], ["GEZDGNBV"]])(
    "reports the invalid secret %j as Configuration without quoting it",
    async (bad) => {
      const auth = new TotpAuthenticator("Test", { now: () => T });
      const e = await expectCrossauthRejection(
        auth.authenticateUser(alice, { totpsecret: bad }, { otp: "123456" }),
        ErrorCode.Configuration,
      );
      expect(e.message).toBe("The TOTP secret is not a valid base32 secret");
    },
  );
});

describe("logging", () => {
  const original = CrossauthLogger.logger;
  afterEach(() => CrossauthLogger.setLogger(original, true));

  it("never logs the secret or the code", async () => {
    const lines: string[] = [];
    const capture = (o: unknown) => lines.push(JSON.stringify(o));
    const logger: CrossauthLoggerInterface = { error: capture, warn: capture, info: capture, debug: capture };
    CrossauthLogger.setLogger(logger, true);
    const auth = new TotpAuthenticator("Test", { now: () => T });
    const secret = createTotpSecret();
    const otp = await totpCode(secret, T);
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp });
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp }).catch(() => undefined);
    await auth.authenticateUser(alice, { totpsecret: secret }, { otp: "000000" }).catch(() => undefined);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(otp);
    }
  });
});

describe("InMemoryTotpReplayStore", () => {
  it("records only newer steps", async () => {
    const store = new InMemoryTotpReplayStore({ now: () => 100 * 30_000 });
    expect(await store.lastAcceptedStep("a")).toBeUndefined();
    expect(await store.recordAcceptedStep("a", 100)).toBe(true);
    expect(await store.recordAcceptedStep("a", 100)).toBe(false);
    expect(await store.recordAcceptedStep("a", 99)).toBe(false);
    expect(await store.recordAcceptedStep("a", 101)).toBe(true);
    expect(await store.lastAcceptedStep("a")).toBe(101);
    expect(await store.recordAcceptedStep("b", 99)).toBe(true);
  });

  it("evicts entries more than two steps old", async () => {
    const c = clock(100 * 30_000);
    const store = new InMemoryTotpReplayStore({ now: c.now });
    await store.recordAcceptedStep("a", 99);
    await store.recordAcceptedStep("b", 101);
    c.t = 101 * 30_000;
    expect(store.size).toBe(2);
    c.t = 102 * 30_000; // a: 3 steps old
    expect(store.size).toBe(1);
    expect(await store.lastAcceptedStep("a")).toBeUndefined();
    c.t = 104 * 30_000;
    expect(store.size).toBe(0);
  });
});

describe("set-up", () => {
  const appName = "My App";
  const username = "bob+test@example.com";
  const user: UserInputFields = { username, state: "active", factor1: "localpassword" };

  it("builds the otpauth URI with percent-encoding, matching otplib for colon-free names", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const uri = totpUri(appName, username, secret);
    expect(uri).toBe(`otpauth://totp/My%20App:bob%2Btest%40example.com?secret=${secret}&issuer=My%20App`);
    expect(uri).toBe(generateURI({ issuer: appName, label: username, secret }));
    expect(totpUri("A:B", "c:d", secret)).toBe(`otpauth://totp/A%3AB:c%3Ad?secret=${secret}&issuer=A%3AB`);
  });

  it("prepareConfiguration returns a new secret and a QR code of the otpauth URI", async () => {
    const auth = new TotpAuthenticator(appName, { now: () => T });
    const { userData, sessionData } = await auth.prepareConfiguration(user);
    const totpsecret = sessionData.totpsecret as string;
    expect(totpsecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(sessionData).toEqual({ username, totpsecret, factor2: "totp" });
    expect(userData).toEqual({ username, totpsecret, factor2: "totp", qr: expect.any(String) });
    expect(decodeQr(userData.qr as string)).toBe(
      `otpauth://totp/My%20App:bob%2Btest%40example.com?secret=${totpsecret}&issuer=My%20App`,
    );
    // Completing set-up with the app's code works.
    await auth.authenticateUser(user, { totpsecret }, { otp: await totpCode(totpsecret, T) });
    const again = await auth.prepareConfiguration(user);
    expect(again.sessionData.totpsecret).not.toBe(totpsecret);
  });

  it("uses the registered factor name", async () => {
    const auth = new TotpAuthenticator(appName);
    auth.factorName = "authapp";
    const { sessionData } = await auth.prepareConfiguration(user);
    expect(sessionData.factor2).toBe("authapp");
  });

  it("prepareConfiguration needs a username", async () => {
    const auth = new TotpAuthenticator(appName);
    await expectCrossauthRejection(
      auth.prepareConfiguration({ ...user, username: "" }),
      ErrorCode.BadRequest,
    );
  });

  it("reprepareConfiguration rebuilds the same secret and QR code from the session", async () => {
    const auth = new TotpAuthenticator(appName);
    const { sessionData } = await auth.prepareConfiguration(user);
    const totpsecret = sessionData.totpsecret as string;
    const result = await auth.reprepareConfiguration(username, sessionKey({ "2fa": sessionData, other: 1 }));
    expect(result.secrets).toEqual({ totpsecret });
    expect(result.newSessionData).toEqual(sessionData);
    expect(result.userData).toEqual({ totpsecret, factor2: "totp", qr: expect.any(String) });
    expect(decodeQr(result.userData.qr as string)).toBe(totpUri(appName, username, totpsecret));
  });

  it.each([
    ["no data", undefined],
    ["no 2fa object", { other: 1 }],
    ["another factor's set-up", { "2fa": { username, factor2: "email", otp: "123456" } }],
    [
      "another user's set-up",
      { "2fa": { username: "eve", factor2: "totp", totpsecret: "GEZDGNBVGY3TQOJQ" } },
    ],
  ])("reprepareConfiguration refuses a session with %s", async (_label, data) => {
    const auth = new TotpAuthenticator(appName);
    const key: Key =
      data === undefined ? { value: "s:x", created: new Date(0), expires: null } : sessionKey(data);
    const e = await expectCrossauthRejection(
      auth.reprepareConfiguration(username, key),
      ErrorCode.BadRequest,
    );
    expect(e.message).toBe("No TOTP set-up in progress");
  });
});

describe("capabilities", () => {
  it("declares the factor's properties", async () => {
    const auth = new TotpAuthenticator("Test");
    expect(auth.friendlyName).toBe("Authenticator app");
    expect(new TotpAuthenticator("Test", { friendlyName: "App" }).friendlyName).toBe("App");
    expect(auth.appName).toBe("Test");
    expect(auth.mfaType()).toBe("otp");
    expect(auth.mfaChannel()).toBe("none");
    expect(auth.secretNames()).toEqual(["totpsecret"]);
    expect(auth.transientSecretNames()).toEqual(["otp"]);
    expect(auth.capabilities()).toEqual({
      canCreateUser: true,
      canUpdateSecrets: false,
      canUpdateUser: true,
    });
    expect(auth.skipEmailVerificationOnSignup()).toBe(false);
    expect(auth.validateSecrets({ otp: "1" })).toEqual([]);
    expect(auth.requireUserEntry()).toBe(true);
    expect(await auth.createOneTimeSecrets({ ...alice, id: 1 })).toEqual({});
  });

  it("needs an appName", () => {
    expectCrossauthError(() => new TotpAuthenticator(""), ErrorCode.Configuration);
  });
});
