/**
 * OAuthTokenConsumer with keys given in code (PEM public keys, HMAC secrets, JWK Sets): what is
 * accepted, and every token that must be refused.
 */
import { randomUUID } from "node:crypto";
import {
  hash,
  InMemoryKeyStorage,
  OAuthTokenConsumer,
  type OAuthTokenConsumerOptions,
} from "@crossauth/backend";
import { KeyPrefix } from "@crossauth/common";
import { importJWK } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  b64json,
  captureLogs,
  claims,
  ISSUER,
  makeKey,
  NOW,
  NOW_S,
  signToken,
  type TestKey,
} from "./fixtures.js";

let rsa: TestKey;
let ec256: TestKey;
let ec384: TestKey;
let ed: TestKey;
const secret = "an-hmac-secret-of-at-least-32-bytes!";
const secretBytes = new TextEncoder().encode(secret);

function consumer(options: OAuthTokenConsumerOptions): OAuthTokenConsumer {
  return new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: ISSUER, now: () => NOW, ...options });
}

let logs: ReturnType<typeof captureLogs>;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

beforeAll(async () => {
  [rsa, ec256, ec384, ed] = await Promise.all([
    makeKey("RS256"),
    makeKey("ES256"),
    makeKey("ES384"),
    makeKey("EdDSA"),
  ]);
});

/** Asserts the token is refused, with a log line whose reason matches. */
async function expectRefused(
  c: OAuthTokenConsumer,
  token: string,
  reason: RegExp,
  tokenType = "access" as const,
) {
  expect(await c.tokenAuthorized(token, tokenType)).toBeUndefined();
  const refusal = logs.lines.find((l) => l.record.msg === "Token refused");
  expect(refusal, "a refusal is logged").toBeDefined();
  expect(String(refusal?.record.reason)).toMatch(reason);
  expect(logs.text()).not.toContain(token);
}

describe("RSA public key (jwtPublicKey)", () => {
  it("accepts a valid RS256 token and returns its payload", async () => {
    const payload = claims();
    const token = await signToken(payload, rsa.privateKey, { alg: "RS256" });
    expect(await consumer({ jwtPublicKey: rsa.publicPem }).tokenAuthorized(token, "access")).toEqual(payload);
  });

  it("accepts the other RSA algorithms (RS384/512, PS256/384/512) with the same key", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    for (const alg of ["RS384", "RS512", "PS256", "PS384", "PS512"]) {
      const key = await importJWK({ ...rsa.privateJwk, alg }, alg);
      expect(await c.tokenAuthorized(await signToken(claims(), key, { alg }), "access"), alg).toBeDefined();
    }
    expect(c.keys).toEqual([
      { kid: undefined, keyType: "RSA", algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] },
    ]);
  });

  it("with jwtKeyType accepts only that algorithm", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem, jwtKeyType: "RS256" });
    const pss = await importJWK({ ...rsa.privateJwk, alg: "PS256" }, "PS256");
    expect(
      await c.tokenAuthorized(await signToken(claims(), rsa.privateKey, { alg: "RS256" }), "access"),
    ).toBeDefined();
    await expectRefused(c, await signToken(claims(), pss, { alg: "PS256" }), /PS256 is not accepted/);
  });

  it("refuses an expired token beyond the 10 s clock tolerance, accepts one within it", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    expect(c.clockTolerance).toBe(10);
    const within = await signToken(claims({ exp: NOW_S - 9 }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(within, "access")).toBeDefined();
    const expired = await signToken(claims({ exp: NOW_S - 11 }), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, expired, /expired/);
    expect(logs.lines.find((l) => l.record.msg === "Token refused")?.record.errorCodeName).toBe("Expired");
  });

  it("refuses a token without exp", async () => {
    const token = await signToken(claims({ exp: undefined }), rsa.privateKey, { alg: "RS256" });
    await expectRefused(consumer({ jwtPublicKey: rsa.publicPem }), token, /exp claim is missing/);
  });

  it("refuses a token not yet valid (nbf) beyond the tolerance, accepts one within it", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem, clockTolerance: 30 });
    const within = await signToken(claims({ nbf: NOW_S + 29 }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(within, "access")).toBeDefined();
    const early = await signToken(claims({ nbf: NOW_S + 31 }), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, early, /not yet valid/);
  });

  it("refuses a token from another issuer, or without one", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const other = await signToken(claims({ iss: "https://evil.example.com" }), rsa.privateKey, {
      alg: "RS256",
    });
    await expectRefused(c, other, /iss claim is not accepted/);
    const slash = await signToken(claims({ iss: `${ISSUER}/` }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(slash, "access")).toBeUndefined();
    const none = await signToken(claims({ iss: undefined }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(none, "access")).toBeUndefined();
  });

  it("checks aud as a string or an array containing the audience", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const inArray = await signToken(claims({ aud: ["https://other", AUDIENCE] }), rsa.privateKey, {
      alg: "RS256",
    });
    expect(await c.tokenAuthorized(inArray, "access")).toBeDefined();
    const wrong = await signToken(claims({ aud: "https://other.example" }), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, wrong, /aud claim is not accepted/);
    const wrongArray = await signToken(claims({ aud: ["https://a", "https://b"] }), rsa.privateKey, {
      alg: "RS256",
    });
    expect(await c.tokenAuthorized(wrongArray, "access")).toBeUndefined();
    const missing = await signToken(claims({ aud: undefined }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(missing, "access")).toBeUndefined();
  });

  it("refuses a token whose type claim is not the requested one", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const refresh = await signToken(claims({ type: "refresh" }), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, refresh, /type claim does not match/);
    expect(await c.tokenAuthorized(refresh, "refresh")).toBeDefined();
    const untyped = await signToken(claims({ type: undefined }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(untyped, "access")).toBeUndefined();
    expect(await c.tokenAuthorized(refresh, "bogus" as "access")).toBeUndefined();
  });

  it('refuses a hand-crafted alg "none" token (with or without a signature part)', async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const unsigned = `${b64json({ alg: "none", typ: "JWT" })}.${b64json(claims())}.`;
    await expectRefused(c, unsigned, /algorithm is not accepted/);
    for (const alg of ["none", "None", "NONE", ""]) {
      expect(await c.tokenAuthorized(`${b64json({ alg })}.${b64json(claims())}.`, "access")).toBeUndefined();
    }
    const real = await signToken(claims(), rsa.privateKey, { alg: "RS256" });
    const withSig = `${b64json({ alg: "none" })}.${b64json(claims())}.${real.split(".")[2]}`;
    expect(await c.tokenAuthorized(withSig, "access")).toBeUndefined();
  });

  it("refuses HS256 signed with the RSA public key's PEM as the HMAC secret", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    for (const pem of [rsa.publicPem, rsa.publicPem.trim()]) {
      const forged = await signToken(claims(), new TextEncoder().encode(pem), { alg: "HS256" });
      await expectRefused(c, forged, /HS256 is not accepted/);
    }
    // Also when the RSA key comes from a JWK Set and the forgery names its kid.
    const jwksConsumer = consumer({ jwks: { keys: [rsa.publicJwk as never] } });
    const forged = await signToken(claims(), new TextEncoder().encode(rsa.publicPem), {
      alg: "HS256",
      kid: rsa.kid,
    });
    expect(await jwksConsumer.tokenAuthorized(forged, "access")).toBeUndefined();
  });

  it("refuses a tampered payload and a tampered signature", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const [header, , signature] = (await signToken(claims(), rsa.privateKey, { alg: "RS256" })).split(".");
    const tampered = `${header}.${b64json(claims({ sub: "admin", scope: "admin" }))}.${signature}`;
    await expectRefused(c, tampered, /signature is invalid/);
    const token = await signToken(claims(), rsa.privateKey, { alg: "RS256" });
    const flipped = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    expect(await c.tokenAuthorized(flipped, "access")).toBeUndefined();
  });

  it("refuses truncated and malformed tokens without throwing", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const token = await signToken(claims(), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, token.slice(0, -10), /signature|malformed/);
    const [h, p] = token.split(".");
    for (const bad of [`${h}.${p}`, `${h}`, "", "a.b.c", `${h}.${p}.sig.extra.part`, "x".repeat(20_000)]) {
      expect(await c.tokenAuthorized(bad, "access")).toBeUndefined();
    }
    for (const bad of [undefined, null, 42, {}] as unknown as string[]) {
      expect(await c.tokenAuthorized(bad, "access")).toBeUndefined();
    }
  });

  it("logs the hash of the jti, never the token", async () => {
    const c = consumer({ jwtPublicKey: rsa.publicPem });
    const jti = randomUUID();
    const token = await signToken(claims({ jti, iss: "https://evil" }), rsa.privateKey, { alg: "RS256" });
    await c.tokenAuthorized(token, "access");
    const refusal = logs.lines.find((l) => l.record.msg === "Token refused");
    expect(refusal?.level).toBe("warn");
    expect(refusal?.record.accessTokenHash).toBe(hash(jti));
    expect(logs.text()).not.toContain(token);
    expect(logs.text()).not.toContain(token.split(".")[2]);
  });
});

describe("EC, EdDSA and JWK Sets", () => {
  it("accepts ES256 with a P-256 key and refuses ES384 for it (algorithm pinned by curve)", async () => {
    const c = consumer({ jwtPublicKey: ec256.publicPem });
    expect(
      await c.tokenAuthorized(await signToken(claims(), ec256.privateKey, { alg: "ES256" }), "access"),
    ).toBeDefined();
    expect(c.keys[0]?.algorithms).toEqual(["ES256"]);
    const p384 = await signToken(claims(), ec384.privateKey, { alg: "ES384" });
    await expectRefused(c, p384, /ES384 is not accepted/);
  });

  it("accepts ES384 and EdDSA from a JWK Set, choosing the key by kid", async () => {
    const c = consumer({ jwks: { keys: [ec384.publicJwk, ed.publicJwk, rsa.publicJwk] as never[] } });
    const es = await signToken(claims(), ec384.privateKey, { alg: "ES384", kid: ec384.kid });
    expect(await c.tokenAuthorized(es, "access")).toBeDefined();
    const eddsa = await signToken(claims(), ed.privateKey, { alg: "EdDSA", kid: ed.kid });
    expect(await c.tokenAuthorized(eddsa, "access")).toBeDefined();
    // The EC key's kid with an Ed25519 signature: the kid's key does not take EdDSA.
    const mismatch = await signToken(claims(), ed.privateKey, { alg: "EdDSA", kid: ec384.kid });
    await expectRefused(c, mismatch, /EdDSA is not accepted/);
  });

  it("refuses an unknown kid (static JWK Set: nothing to refresh)", async () => {
    const c = consumer({ jwks: { keys: [rsa.publicJwk] as never[] } });
    const token = await signToken(claims(), rsa.privateKey, { alg: "RS256", kid: "no-such-kid" });
    await expectRefused(c, token, /No key matches the token's kid/);
  });

  it("uses the only key fitting alg for a token without kid, refuses when none or several fit", async () => {
    const one = consumer({ jwks: { keys: [rsa.publicJwk, ec256.publicJwk] as never[] } });
    expect(
      await one.tokenAuthorized(await signToken(claims(), rsa.privateKey, { alg: "RS256" }), "access"),
    ).toBeDefined();
    const other = await makeKey("RS256");
    const two = consumer({ jwks: { keys: [rsa.publicJwk, other.publicJwk] as never[] } });
    await expectRefused(two, await signToken(claims(), rsa.privateKey, { alg: "RS256" }), /several keys fit/);
  });

  it("pins a JWK with alg to that algorithm", async () => {
    const c = consumer({ jwks: { keys: [{ ...rsa.publicJwk, alg: "PS256" }] as never[] } });
    const rs = await signToken(claims(), rsa.privateKey, { alg: "RS256", kid: rsa.kid });
    await expectRefused(c, rs, /RS256 is not accepted/);
  });
});

describe("HMAC secret (jwtSecretKey)", () => {
  it("accepts HS256 with the secret and refuses HS512 (secret shorter than 64 bytes)", async () => {
    const c = consumer({ jwtSecretKey: secret, jwtKeyType: "HS256" });
    expect(
      await c.tokenAuthorized(await signToken(claims(), secretBytes, { alg: "HS256" }), "access"),
    ).toBeDefined();
    const hs512 = await signToken(claims(), secretBytes, { alg: "HS512" });
    expect(await consumer({ jwtSecretKey: secret }).tokenAuthorized(hs512, "access")).toBeUndefined();
    const long = "x".repeat(64);
    const c64 = consumer({ jwtSecretKey: long });
    const ok = await signToken(claims(), new TextEncoder().encode(long), { alg: "HS512" });
    expect(await c64.tokenAuthorized(ok, "access")).toBeDefined();
  });

  it("refuses a token signed with another secret, and RS256 tokens", async () => {
    const c = consumer({ jwtSecretKey: secret });
    const other = await signToken(claims(), new TextEncoder().encode(`${secret}-other`), { alg: "HS256" });
    await expectRefused(c, other, /signature is invalid/);
    const rs = await signToken(claims(), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(rs, "access")).toBeUndefined();
  });

  it("accepts a symmetric JWK given in code", async () => {
    const k = Buffer.from(secretBytes).toString("base64url");
    const c = consumer({ jwks: { keys: [{ kty: "oct", k, kid: "hmac-1" }] } });
    const token = await signToken(claims(), secretBytes, { alg: "HS256", kid: "hmac-1" });
    expect(await c.tokenAuthorized(token, "access")).toBeDefined();
  });
});

describe("persisted access tokens (persistAccessToken)", () => {
  async function setUp() {
    const keyStorage = new InMemoryKeyStorage();
    const c = consumer({ jwtPublicKey: rsa.publicPem, persistAccessToken: true, keyStorage });
    return { keyStorage, c };
  }

  it("accepts a token whose access:hash(jti) entry is live", async () => {
    const { keyStorage, c } = await setUp();
    const jti = randomUUID();
    await keyStorage.saveKey(
      "client-1",
      KeyPrefix.accessToken + hash(jti),
      NOW,
      new Date(NOW.getTime() + 60_000),
    );
    const token = await signToken(claims({ jti }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(token, "access")).toBeDefined();
    await keyStorage.saveKey(null, KeyPrefix.accessToken + hash("forever"), NOW, null);
    expect(
      await c.tokenAuthorized(
        await signToken(claims({ jti: "forever" }), rsa.privateKey, { alg: "RS256" }),
        "access",
      ),
    ).toBeDefined();
  });

  it("refuses a revoked token (jti not in key storage) and one without jti", async () => {
    const { c } = await setUp();
    const token = await signToken(claims(), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, token, /not in key storage/);
    const noJti = await signToken(claims({ jti: undefined }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(noJti, "access")).toBeUndefined();
  });

  it("refuses a token whose storage entry has expired, and one deleted after use", async () => {
    const { keyStorage, c } = await setUp();
    const jti = randomUUID();
    await keyStorage.saveKey(
      "client-1",
      KeyPrefix.accessToken + hash(jti),
      NOW,
      new Date(NOW.getTime() - 1000),
    );
    const token = await signToken(claims({ jti }), rsa.privateKey, { alg: "RS256" });
    await expectRefused(c, token, /expired in key storage/);
    const live = randomUUID();
    await keyStorage.saveKey("client-1", KeyPrefix.accessToken + hash(live), NOW, null);
    const liveToken = await signToken(claims({ jti: live }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(liveToken, "access")).toBeDefined();
    await keyStorage.deleteKey(KeyPrefix.accessToken + hash(live));
    expect(await c.tokenAuthorized(liveToken, "access")).toBeUndefined();
  });

  it("does not look refresh tokens up as access tokens", async () => {
    const { c } = await setUp();
    const token = await signToken(claims({ type: "refresh" }), rsa.privateKey, { alg: "RS256" });
    expect(await c.tokenAuthorized(token, "refresh")).toBeDefined();
  });
});
