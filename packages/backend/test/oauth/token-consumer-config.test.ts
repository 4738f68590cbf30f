/**
 * OAuthTokenConsumer configuration: options, `CROSSAUTH_*` environment variables, key files, and
 * the errors for configurations that cannot work; plus `decodeHeader`, `hash` and `JWT`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemoryKeyStorage, JWT, OAuthTokenConsumer, sha256 } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  AUDIENCE,
  b64json,
  captureLogs,
  claims,
  ISSUER,
  makeKey,
  NOW,
  signToken,
  type TestKey,
} from "./fixtures.js";

const ENV_NAMES = [
  "AUTH_SERVER_BASE_URL",
  "JWT_KEY_TYPE",
  "JWT_SECRET_KEY",
  "JWT_SECRET_KEY_FILE",
  "JWT_PUBLIC_KEY",
  "JWT_PUBLIC_KEY_FILE",
  "CLOCK_TOLERANCE",
  "PERSIST_ACCESS_TOKEN",
  "OIDC_CONFIG",
  "JWKS",
  "JWKS_REFRESH_INTERVAL",
  "FETCH_TIMEOUT",
].map((n) => `CROSSAUTH_${n}`);

let rsa: TestKey;
let dir: string;
let logs: ReturnType<typeof captureLogs>;
const secret = "shared-secret-of-thirty-two-bytes-or-more";

beforeAll(async () => {
  rsa = await makeKey("RS256");
  dir = await mkdtemp(join(tmpdir(), "crossauth-oauth-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  logs = captureLogs();
  for (const name of ENV_NAMES) delete process.env[name];
});
afterEach(() => {
  logs.restore();
  for (const name of ENV_NAMES) delete process.env[name];
});

const rs256 = (overrides: Record<string, unknown> = {}) =>
  signToken(claims(overrides), rsa.privateKey, { alg: "RS256" });

describe("configuration", () => {
  it("reads options from CROSSAUTH_* environment variables; options in code win", async () => {
    process.env.CROSSAUTH_AUTH_SERVER_BASE_URL = ISSUER;
    process.env.CROSSAUTH_JWT_PUBLIC_KEY = rsa.publicPem;
    process.env.CROSSAUTH_JWT_KEY_TYPE = "RS256";
    process.env.CROSSAUTH_CLOCK_TOLERANCE = "0";
    const consumer = new OAuthTokenConsumer(AUDIENCE, { now: () => NOW });
    expect(consumer.authServerBaseUrl).toBe(ISSUER);
    expect(consumer.clockTolerance).toBe(0);
    expect(await consumer.tokenAuthorized(await rs256(), "access")).toBeDefined();
    const nowS = Math.floor(NOW.getTime() / 1000);
    expect(await consumer.tokenAuthorized(await rs256({ exp: nowS - 1 }), "access")).toBeUndefined();
    expect(new OAuthTokenConsumer(AUDIENCE, { clockTolerance: 5 }).clockTolerance).toBe(5);
    expect(
      new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: "https://x.example" }).authServerBaseUrl,
    ).toBe("https://x.example");
  });

  it("reads persistAccessToken, a secret key, oidcConfig and jwks from the environment", async () => {
    process.env.CROSSAUTH_AUTH_SERVER_BASE_URL = ISSUER;
    process.env.CROSSAUTH_PERSIST_ACCESS_TOKEN = "true";
    expectCrossauthError(() => new OAuthTokenConsumer(AUDIENCE), ErrorCode.Configuration);
    const persisted = new OAuthTokenConsumer(AUDIENCE, { keyStorage: new InMemoryKeyStorage() });
    expect(persisted.persistAccessToken).toBe(true);
    delete process.env.CROSSAUTH_PERSIST_ACCESS_TOKEN;

    process.env.CROSSAUTH_JWT_SECRET_KEY = secret;
    const hmac = new OAuthTokenConsumer(AUDIENCE, { now: () => NOW });
    const token = await signToken(claims(), new TextEncoder().encode(secret), { alg: "HS256" });
    expect(await hmac.tokenAuthorized(token, "access")).toBeDefined();
    delete process.env.CROSSAUTH_JWT_SECRET_KEY;

    process.env.CROSSAUTH_JWKS = JSON.stringify({ keys: [rsa.publicJwk] });
    process.env.CROSSAUTH_OIDC_CONFIG = JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` });
    const fromEnv = new OAuthTokenConsumer(AUDIENCE, { now: () => NOW });
    expect(fromEnv.oidcConfig?.jwks_uri).toBe(`${ISSUER}/jwks`);
    const kidToken = await signToken(claims(), rsa.privateKey, { alg: "RS256", kid: rsa.kid });
    expect(await fromEnv.tokenAuthorized(kidToken, "access")).toBeDefined();
  });

  it("reads keys from files (a secret file loses its trailing newline)", async () => {
    const secretFile = join(dir, "secret.txt");
    const pemFile = join(dir, "public.pem");
    await writeFile(secretFile, `${secret}\n`);
    await writeFile(pemFile, rsa.publicPem);
    const hmac = new OAuthTokenConsumer(AUDIENCE, {
      authServerBaseUrl: ISSUER,
      jwtSecretKeyFile: secretFile,
      now: () => NOW,
    });
    const token = await signToken(claims(), new TextEncoder().encode(secret), { alg: "HS256" });
    expect(await hmac.tokenAuthorized(token, "access")).toBeDefined();
    process.env.CROSSAUTH_JWT_PUBLIC_KEY_FILE = pemFile;
    const pem = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: ISSUER, now: () => NOW });
    expect(await pem.tokenAuthorized(await rs256(), "access")).toBeDefined();
  });

  it("refuses configurations that cannot work with Configuration", () => {
    const base = { authServerBaseUrl: ISSUER };
    const bad: Array<() => unknown> = [
      () => new OAuthTokenConsumer("", base),
      () => new OAuthTokenConsumer(AUDIENCE, {}),
      () => new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: "not a url" }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, clockTolerance: -1 }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, fetchTimeout: Number.NaN }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, fetchTimeout: 0 }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwksRefreshInterval: -30 }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, persistAccessToken: true }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwtSecretKey: secret, jwtPublicKey: rsa.publicPem }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwtSecretKey: secret, jwtSecretKeyFile: "/x" }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwtPublicKey: rsa.publicPem, jwtKeyType: "HS256" }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwtSecretKey: secret, jwtKeyType: "RS256" }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwtPublicKey: rsa.publicPem, jwtKeyType: "none" }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, oidcConfig: { issuer: "https://evil" } as never }),
      () => new OAuthTokenConsumer(AUDIENCE, { ...base, jwks: { keys: "x" } as never }),
    ];
    for (const make of bad) expectCrossauthError(make, ErrorCode.Configuration);
    process.env.CROSSAUTH_CLOCK_TOLERANCE = "ten";
    expectCrossauthError(() => new OAuthTokenConsumer(AUDIENCE, base), ErrorCode.Configuration);
  });

  it("refuses bad keys when loading them; tokens are refused with the error logged", async () => {
    const base = { authServerBaseUrl: ISSUER, now: () => NOW };
    const short = new OAuthTokenConsumer(AUDIENCE, { ...base, jwtSecretKey: "too-short" });
    await expectCrossauthRejection(short.loadKeys(), ErrorCode.Configuration);
    expect(await short.tokenAuthorized(await rs256(), "access")).toBeUndefined();
    expect(logs.lines.some((l) => l.level === "error" && l.record.errorCodeName === "Configuration")).toBe(
      true,
    );
    const privatePem = new OAuthTokenConsumer(AUDIENCE, {
      ...base,
      jwtPublicKey: "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    });
    await expectCrossauthRejection(privatePem.loadKeys(), ErrorCode.Configuration);
    const garbage = new OAuthTokenConsumer(AUDIENCE, { ...base, jwtPublicKey: "not a pem" });
    await expectCrossauthRejection(garbage.loadKeys(), ErrorCode.Configuration);
    const missing = new OAuthTokenConsumer(AUDIENCE, { ...base, jwtPublicKeyFile: join(dir, "absent.pem") });
    await expectCrossauthRejection(missing.loadKeys(), ErrorCode.Configuration);
    const pinnedWrong = new OAuthTokenConsumer(AUDIENCE, {
      ...base,
      jwtPublicKey: rsa.publicPem,
      jwtKeyType: "ES256",
    });
    await expectCrossauthRejection(pinnedWrong.loadKeys(), ErrorCode.UnsupportedAlgorithm);
    expect(logs.text()).not.toContain("too-short");
  });

  it("loadConfig checks a given configuration's issuer; loadJwks needs a configuration to fetch", async () => {
    const consumer = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: ISSUER });
    await expectCrossauthRejection(
      consumer.loadConfig({ issuer: "https://evil", jwks_uri: "https://evil/jwks" } as never),
      ErrorCode.Configuration,
    );
    await expectCrossauthRejection(consumer.loadJwks(), ErrorCode.Connection);
    const config = await consumer.loadConfig({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` } as never);
    expect(consumer.oidcConfig).toBe(config);
    await consumer.loadJwks({
      keys: [rsa.publicJwk as never, { kty: "RSA", n: "AQAB", e: "AQAB", kid: "tiny" }],
    });
    expect(consumer.keys.map((k) => k.kid)).toEqual([rsa.kid]);
    expect(logs.lines.some((l) => l.record.msg === "Skipping JWK" && l.record.kid === "tiny")).toBe(true);
  });
});

describe("decodeHeader, hash and JWT", () => {
  it("decodeHeader returns the protected header, InvalidToken when malformed", async () => {
    const token = await signToken(claims(), rsa.privateKey, { alg: "RS256", kid: "k", typ: "at+jwt" });
    expect(OAuthTokenConsumer.decodeHeader(token)).toEqual({ alg: "RS256", kid: "k", typ: "at+jwt" });
    for (const bad of ["", "abc", "a.b", `${b64json("x")}.e30.`, "!!!.e30.x"]) {
      expectCrossauthError(() => OAuthTokenConsumer.decodeHeader(bad), ErrorCode.InvalidToken);
    }
  });

  it("hash is the Crossauth SHA-256 base64url hash, static and per instance", () => {
    const consumer = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: ISSUER });
    expect(OAuthTokenConsumer.hash("jti-1")).toBe(sha256("jti-1"));
    expect(consumer.hash("jti-1")).toBe(OAuthTokenConsumer.hash("jti-1"));
    expect(OAuthTokenConsumer.hash("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("JWT holds a token and its payload", () => {
    expect(new JWT("a.b.c", { sub: "x" })).toMatchObject({ token: "a.b.c", payload: { sub: "x" } });
    expect(new JWT().payload).toEqual({});
  });
});
