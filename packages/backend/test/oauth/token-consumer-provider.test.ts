/**
 * OAuthTokenConsumer against a real OpenID provider (`oidc-provider`) on a loopback port: discovery,
 * JWK Set download, validation of JWT access tokens issued by the client-credentials grant, and key
 * rotation on the provider side.
 */
import { OAuthTokenConsumer } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  AUDIENCE,
  captureLogs,
  makeKey,
  type ProviderFixture,
  startProvider,
  type TestKey,
} from "./fixtures.js";

let provider: ProviderFixture;
let first: TestKey;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  first = await makeKey("RS256", "provider-key-1");
  provider = await startProvider([first.privateJwk]);
});
afterAll(async () => {
  await provider?.close();
});
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

describe("OAuthTokenConsumer with oidc-provider", () => {
  it("discovers the provider's configuration and downloads its JWK Set", async () => {
    const consumer = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: provider.issuer });
    const config = await consumer.loadConfig();
    expect(config.issuer).toBe(provider.issuer);
    expect(config.jwks_uri).toBe(`${provider.issuer}/jwks`);
    expect(consumer.oidcConfig).toBe(config);
    await consumer.loadJwks();
    expect(consumer.keys).toEqual([{ kid: "provider-key-1", keyType: "RSA", algorithms: ["RS256"] }]);
  });

  it("accepts a JWT access token issued by the client-credentials grant, loading keys on first use", async () => {
    const token = await provider.issueToken();
    expect(OAuthTokenConsumer.decodeHeader(token)).toMatchObject({
      alg: "RS256",
      kid: "provider-key-1",
      typ: "at+jwt",
    });
    const consumer = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: provider.issuer });
    const payload = await consumer.tokenAuthorized(token, "access");
    expect(payload).toMatchObject({
      iss: provider.issuer,
      aud: AUDIENCE,
      type: "access",
      client_id: "resource-client",
      scope: "read",
    });
    expect(consumer.oidcConfig?.issuer).toBe(provider.issuer);
  });

  it("refuses the provider's tokens for another audience, as another token type, or from a mismatched issuer", async () => {
    const token = await provider.issueToken("https://other-api.example");
    const consumer = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: provider.issuer });
    expect(await consumer.tokenAuthorized(token, "access")).toBeUndefined();
    const mine = await provider.issueToken();
    expect(await consumer.tokenAuthorized(mine, "refresh")).toBeUndefined();
    expect(await consumer.tokenAuthorized(mine, "access")).toBeDefined();
    const slash = new OAuthTokenConsumer(AUDIENCE, { authServerBaseUrl: `${provider.issuer}/` });
    await expectCrossauthRejection(slash.loadConfig(), ErrorCode.Connection);
    expect(await slash.tokenAuthorized(mine, "access")).toBeUndefined();
  });

  it("follows a key rotation: one JWK Set refresh, then new tokens are accepted and retired keys refused", async () => {
    const second = await makeKey("RS256", "provider-key-2");
    const rotating = await startProvider([first.privateJwk]);
    try {
      let offset = 0;
      const consumer = new OAuthTokenConsumer(AUDIENCE, {
        authServerBaseUrl: rotating.issuer,
        now: () => new Date(Date.now() + offset),
      });
      const oldToken = await rotating.issueToken();
      expect(await consumer.tokenAuthorized(oldToken, "access")).toBeDefined();
      expect(rotating.jwksRequests()).toBe(1);

      rotating.rotate([second.privateJwk]);
      const newTokens = await Promise.all([1, 2, 3, 4, 5].map(() => rotating.issueToken()));
      expect(OAuthTokenConsumer.decodeHeader(newTokens[0]!).kid).toBe("provider-key-2");
      // Within the refresh interval of the first download: the unknown kid is refused, no fetch.
      expect(await consumer.tokenAuthorized(newTokens[0]!, "access")).toBeUndefined();
      expect(rotating.jwksRequests()).toBe(1);

      offset = 31_000;
      const results = await Promise.all(newTokens.map((t) => consumer.tokenAuthorized(t, "access")));
      expect(results.every((p) => p?.type === "access")).toBe(true);
      expect(rotating.jwksRequests()).toBe(2);
      expect(consumer.keys.map((k) => k.kid)).toEqual(["provider-key-2"]);
      // The retired key is gone: its tokens are refused, and the refusal does not fetch again.
      expect(await consumer.tokenAuthorized(oldToken, "access")).toBeUndefined();
      expect(rotating.jwksRequests()).toBe(2);
    } finally {
      await rotating.close();
    }
  });
});
