/**
 * Fixtures of the OAuth tests: keys and tokens made with jose, a captured logger, a real OpenID
 * provider (`oidc-provider`) and a plain JWKS server, both on loopback ports.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CrossauthLogger } from "@crossauth/common";
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import Provider from "oidc-provider";

/** The fixed time of static-key tests. */
export const NOW = new Date("2030-01-01T00:00:00Z");
/** `NOW` in seconds. */
export const NOW_S = Math.floor(NOW.getTime() / 1000);
/** Issuer of static-key tests. */
export const ISSUER = "https://auth.example.com";
/** Audience (resource) of every test. */
export const AUDIENCE = "https://api.test.example";

/** A generated signing key: the private key, its public JWK (with `kid`) and PEM. */
export interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
  privateJwk: JWK;
}

/**
 * Generates a key pair for `alg` with a fresh `kid`.
 * @param alg - e.g. RS256, ES256, EdDSA
 */
export async function makeKey(alg: string, kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey), privateJwk };
}

/** Valid claims at `NOW` for `ISSUER` / `AUDIENCE`, with `overrides` applied (undefined removes a claim). */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "client-1",
    type: "access",
    jti: randomUUID(),
    iat: NOW_S,
    exp: NOW_S + 300,
    scope: "read",
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base as JWTPayload;
}

/**
 * Signs claims into a compact JWS.
 * @param payload - the claims
 * @param key - private key or HMAC secret bytes
 * @param header - protected header (`alg` required)
 */
export function signToken(
  payload: JWTPayload,
  key: CryptoKey | Uint8Array,
  header: { alg: string; kid?: string; [name: string]: unknown },
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** base64url of a JSON value. */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** One captured log call. */
export interface LogLine {
  level: "error" | "warn" | "info" | "debug";
  record: Record<string, unknown>;
}

/** Replaces the Crossauth logger by one that records every call; `restore()` puts the default back. */
export function captureLogs(): { lines: LogLine[]; text: () => string; restore: () => void } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (output: unknown) =>
    lines.push({ level, record: output as Record<string, unknown> });
  CrossauthLogger.setLogger(
    { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") },
    true,
  );
  return {
    lines,
    text: () => JSON.stringify(lines),
    restore: () => CrossauthLogger.setLogger(new CrossauthLogger(), true),
  };
}

/** Starts an HTTP server on a loopback port; resolves with it and its base URL. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPortUrl(): Promise<string> {
  const { url, close } = await listen(() => undefined);
  await close();
  return url;
}

/** Client of the provider allowed the client-credentials grant. */
const CLIENT_ID = "resource-client";
const CLIENT_SECRET = "client-secret-for-tests-only-0123456789";

/** A Map-backed storage adapter for the provider (its default one prints a warning). */
class MemoryAdapter {
  private static readonly store = new Map<string, Record<string, unknown>>();
  constructor(private readonly model: string) {}
  private key(id: string): string {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
    MemoryAdapter.store.set(this.key(id), payload);
  }
  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return MemoryAdapter.store.get(this.key(id));
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async consume(id: string): Promise<void> {
    const entry = MemoryAdapter.store.get(this.key(id));
    if (entry) entry.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string): Promise<void> {
    MemoryAdapter.store.delete(this.key(id));
  }
  async revokeByGrantId(): Promise<void> {}
}

function providerConfiguration(signingKeys: JWK[]): Record<string, unknown> {
  return {
    adapter: MemoryAdapter,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
      },
    ],
    jwks: { keys: signingKeys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: "read write",
          audience: resource,
          accessTokenFormat: "jwt",
          accessTokenTTL: 300,
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
    // RFC 9068 access tokens have no `type` claim; Crossauth's do, and the consumer requires it.
    extraTokenClaims: () => ({ type: "access" }),
    ttl: { ClientCredentials: 300 },
    cookies: { keys: ["cookie-signing-key-for-tests-only"] },
  };
}

/** A running oidc-provider. */
export interface ProviderFixture {
  issuer: string;
  /** Requests made to the provider's `jwks_uri` so far. */
  jwksRequests: () => number;
  /** Issues a JWT access token by the client-credentials grant (POST /token). */
  issueToken: (resource?: string) => Promise<string>;
  /** Replaces the provider by one signing with other keys (the first is used to sign), same issuer. */
  rotate: (signingKeys: JWK[]) => void;
  close: () => Promise<void>;
}

/**
 * Starts an oidc-provider on a loopback port, issuing RFC 9068 JWT access tokens for `AUDIENCE`.
 * @param signingKeys - private JWKs (with `kid`); the first signs
 */
export async function startProvider(signingKeys: JWK[]): Promise<ProviderFixture> {
  let jwksRequests = 0;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const { url: issuer, close } = await listen((req, res) => {
    if (req.url?.startsWith("/jwks")) jwksRequests++;
    handler?.(req, res);
  });
  const rotate = (keys: JWK[]) => {
    handler = new Provider(issuer, providerConfiguration(keys)).callback();
  };
  rotate(signingKeys);
  const issueToken = async (resource = AUDIENCE): Promise<string> => {
    const response = await fetch(`${issuer}/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
      },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "read", resource }),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!response.ok || !body.access_token) throw new Error(`Token request failed: ${response.status}`);
    return body.access_token;
  };
  return { issuer, jwksRequests: () => jwksRequests, issueToken, rotate, close };
}

/** A minimal authorization server: discovery document and JWK Set, with request counters. */
export interface JwksServer {
  url: string;
  /** Keys served; change to rotate. */
  jwks: { keys: JWK[] };
  /** Status to answer with (200 serves the documents). */
  status: number;
  configRequests: number;
  jwksRequests: number;
  close: () => Promise<void>;
}

/**
 * Starts a loopback server serving `/.well-known/openid-configuration` (issuer = its URL) and `/jwks`.
 * @param keys - public JWKs to serve
 */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { jwks: { keys }, status: 200, configRequests: 0, jwksRequests: 0 };
  const started = await listen((req, res) => {
    if (req.url === "/.well-known/openid-configuration") state.configRequests++;
    else if (req.url === "/jwks") state.jwksRequests++;
    if (state.status !== 200) {
      res.writeHead(state.status).end();
      return;
    }
    const body =
      req.url === "/jwks"
        ? state.jwks
        : { issuer: started.url, jwks_uri: `${started.url}/jwks`, token_endpoint: `${started.url}/token` };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  return Object.assign(state, { url: started.url, close: started.close });
}
