/**
 * Key rotation and an unreachable authorization server: unknown kids trigger at most one JWK Set
 * download per refresh interval (concurrent ones share it), and fetch failures refuse tokens with a
 * logged `Connection` error instead of throwing or hanging.
 */
import { createServer } from "node:net";
import { OAuthTokenConsumer, type OAuthTokenConsumerOptions } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  AUDIENCE,
  captureLogs,
  claims,
  closedPortUrl,
  type JwksServer,
  listen,
  makeKey,
  signToken,
  startJwksServer,
  type TestKey,
} from "./fixtures.js";

let signer: TestKey;
let intruder: TestKey;
let server: JwksServer;
let logs: ReturnType<typeof captureLogs>;
let clock: number;

beforeAll(async () => {
  [signer, intruder] = await Promise.all([makeKey("ES256", "live-key"), makeKey("ES256", "intruder")]);
});
beforeEach(async () => {
  logs = captureLogs();
  server = await startJwksServer([signer.publicJwk]);
  clock = Date.now();
});
afterEach(async () => {
  logs.restore();
  await server.close();
});

function consumerFor(baseUrl: string, options: OAuthTokenConsumerOptions = {}): OAuthTokenConsumer {
  return new OAuthTokenConsumer(AUDIENCE, {
    authServerBaseUrl: baseUrl,
    now: () => new Date(clock),
    ...options,
  });
}

function tokenFor(issuer: string, key: TestKey, kid: string): Promise<string> {
  const now = Math.floor(clock / 1000);
  return signToken(claims({ iss: issuer, iat: now, exp: now + 3600 }), key.privateKey, { alg: "ES256", kid });
}

function connectionLogged(): boolean {
  return logs.lines.some((l) => l.level === "error" && l.record.errorCodeName === "Connection");
}

describe("JWK Set refresh on unknown kid", () => {
  it("100 concurrent tokens with bogus kids cause one refresh; more within the interval cause none", async () => {
    const consumer = consumerFor(server.url);
    await consumer.loadKeys();
    expect([server.configRequests, server.jwksRequests]).toEqual([1, 1]);
    clock += 31_000;
    const bogus = await Promise.all(
      Array.from({ length: 100 }, (_, i) => tokenFor(server.url, intruder, `bogus-${i}`)),
    );
    const results = await Promise.all(bogus.map((t) => consumer.tokenAuthorized(t, "access")));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(server.jwksRequests).toBe(2);
    for (const t of bogus) expect(await consumer.tokenAuthorized(t, "access")).toBeUndefined();
    expect(server.jwksRequests).toBe(2);
    expect(server.configRequests).toBe(1);
    expect(logs.lines.some((l) => String(l.record.reason).includes("rate-limited"))).toBe(true);
    // Genuine tokens keep working all along.
    expect(
      await consumer.tokenAuthorized(await tokenFor(server.url, signer, "live-key"), "access"),
    ).toBeDefined();
  });

  it("refreshes again once the interval has passed, picking up a new key", async () => {
    const consumer = consumerFor(server.url, { jwksRefreshInterval: 60 });
    await consumer.loadKeys();
    server.jwks = { keys: [signer.publicJwk, intruder.publicJwk] };
    const newKid = await tokenFor(server.url, intruder, "intruder");
    clock += 59_000;
    expect(await consumer.tokenAuthorized(newKid, "access")).toBeUndefined();
    expect(server.jwksRequests).toBe(1);
    clock += 2_000;
    expect(await consumer.tokenAuthorized(newKid, "access")).toBeDefined();
    expect(server.jwksRequests).toBe(2);
  });

  it("concurrent tokens with a new genuine kid all wait for the one refresh in flight and are accepted", async () => {
    const consumer = consumerFor(server.url);
    await consumer.loadKeys();
    server.jwks = { keys: [signer.publicJwk, intruder.publicJwk] };
    clock += 31_000;
    const fresh = await Promise.all(
      Array.from({ length: 20 }, () => tokenFor(server.url, intruder, "intruder")),
    );
    const results = await Promise.all(fresh.map((t) => consumer.tokenAuthorized(t, "access")));
    expect(results.every((r) => r?.type === "access")).toBe(true);
    expect(server.jwksRequests).toBe(2);
  });

  it("loads keys lazily on first use, counting that download towards the interval", async () => {
    const consumer = consumerFor(server.url);
    const bogus = await Promise.all([1, 2, 3].map((i) => tokenFor(server.url, intruder, `lazy-${i}`)));
    await Promise.all(bogus.map((t) => consumer.tokenAuthorized(t, "access")));
    expect([server.configRequests, server.jwksRequests]).toEqual([1, 1]);
  });

  it("ignores symmetric keys published on a JWKS endpoint", async () => {
    server.jwks = {
      keys: [{ kty: "oct", k: Buffer.alloc(32, 7).toString("base64url"), kid: "oct" }, signer.publicJwk],
    };
    const consumer = consumerFor(server.url);
    await consumer.loadKeys();
    expect(consumer.keys.map((k) => k.kid)).toEqual(["live-key"]);
    const now = Math.floor(clock / 1000);
    const forged = await signToken(
      claims({ iss: server.url, iat: now, exp: now + 60 }),
      Buffer.alloc(32, 7),
      {
        alg: "HS256",
        kid: "oct",
      },
    );
    expect(await consumer.tokenAuthorized(forged, "access")).toBeUndefined();
    expect(logs.lines.some((l) => l.record.msg === "Skipping JWK" && l.record.kid === "oct")).toBe(true);
  });
});

describe("unreachable authorization server", () => {
  it("refuses tokens with Connection logged when nothing listens (closed port)", async () => {
    const down = await closedPortUrl();
    const consumer = consumerFor(down);
    expect(
      await consumer.tokenAuthorized(await tokenFor(down, signer, "live-key"), "access"),
    ).toBeUndefined();
    expect(connectionLogged()).toBe(true);
    await expectCrossauthRejection(consumer.loadConfig(), ErrorCode.Connection);
    await expectCrossauthRejection(consumer.loadKeys(), ErrorCode.Connection);
    await expectCrossauthRejection(consumerFor(down).loadJwks(), ErrorCode.Connection);
  });

  it("refuses tokens with Connection logged when only the JWKS endpoint is down", async () => {
    const jwksDown = await closedPortUrl();
    const consumer = consumerFor(server.url, {
      oidcConfig: {
        issuer: server.url,
        jwks_uri: `${jwksDown}/jwks`,
        authorization_endpoint: `${server.url}/authorize`,
        token_endpoint: `${server.url}/token`,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["client_credentials"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      },
    });
    expect(
      await consumer.tokenAuthorized(await tokenFor(server.url, signer, "live-key"), "access"),
    ).toBeUndefined();
    expect(connectionLogged()).toBe(true);
    expect(server.configRequests).toBe(0);
  });

  it("does not hammer a failing server and keeps the old keys after a failed refresh", async () => {
    const consumer = consumerFor(server.url);
    await consumer.loadKeys();
    server.status = 503;
    clock += 31_000;
    const bogus = await Promise.all(
      Array.from({ length: 50 }, (_, i) => tokenFor(server.url, intruder, `x-${i}`)),
    );
    expect(
      (await Promise.all(bogus.map((t) => consumer.tokenAuthorized(t, "access")))).every((r) => !r),
    ).toBe(true);
    expect(server.jwksRequests).toBe(2);
    expect(connectionLogged()).toBe(true);
    expect(
      await consumer.tokenAuthorized(await tokenFor(server.url, signer, "live-key"), "access"),
    ).toBeDefined();
  });

  it("times out a server that never answers", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as import("node:net").AddressInfo;
    try {
      const consumer = consumerFor(`http://127.0.0.1:${port}`, { fetchTimeout: 0.2 });
      const started = Date.now();
      const error = await expectCrossauthRejection(consumer.loadConfig(), ErrorCode.Connection);
      expect(error.message).toMatch(/timed out/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("treats bad answers as Connection: error status, non-JSON, wrong issuer, no jwks_uri, oversized", async () => {
    const bodies: Record<string, string> = {};
    const bad = await listen((req, res) => {
      const body = bodies[req.url ?? ""];
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    try {
      const wellKnown = "/.well-known/openid-configuration";
      const cases = [
        undefined,
        "not json",
        "[1,2]",
        JSON.stringify({ issuer: "https://other", jwks_uri: `${bad.url}/jwks` }),
        JSON.stringify({ issuer: bad.url }),
        JSON.stringify({ issuer: bad.url, jwks_uri: "file:///etc/passwd" }),
        JSON.stringify({ issuer: bad.url, jwks_uri: `${bad.url}/jwks`, pad: "x".repeat(1024 * 1024) }),
      ];
      for (const body of cases) {
        if (body === undefined) delete bodies[wellKnown];
        else bodies[wellKnown] = body;
        await expectCrossauthRejection(consumerFor(bad.url).loadConfig(), ErrorCode.Connection);
      }
      bodies[wellKnown] = JSON.stringify({ issuer: bad.url, jwks_uri: `${bad.url}/jwks` });
      for (const jwks of ['{"keys": "none"}', '{"keys": [1]}', "{}"]) {
        bodies["/jwks"] = jwks;
        await expectCrossauthRejection(consumerFor(bad.url).loadKeys(), ErrorCode.Connection);
      }
    } finally {
      await bad.close();
    }
  });
});
