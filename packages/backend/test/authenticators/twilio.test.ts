import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TwilioAuthenticator, type TwilioAuthenticatorOptions } from "@crossauth/backend";
import { CrossauthLogger, ErrorCode, type User } from "@crossauth/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "s3cr3t-auth-token";
const FROM = "+15005550006";
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
  "CROSSAUTH_TWILIO_ACCOUNT_SID",
  "CROSSAUTH_TWILIO_AUTH_TOKEN",
  "CROSSAUTH_TWILIO_API_BASE",
  "CROSSAUTH_SMS_AUTHENTICATOR_FROM",
];

interface Recorded {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage["headers"];
  form: Record<string, string>;
}

/** A local stand-in for Twilio's API: records requests and answers with `reply`. */
class FakeTwilio {
  requests: Recorded[] = [];
  reply: (res: ServerResponse) => void = (res) =>
    json(res, 201, { sid: "SM0123456789abcdef0123456789abcdef", status: "queued" });
  private readonly server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      this.requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(body)),
      });
      this.reply(res);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

let twilio: FakeTwilio;
let apiBase: string;
let savedEnv: Record<string, string | undefined> = {};
let logs: unknown[] = [];
beforeEach(async () => {
  savedEnv = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
  for (const n of ENV_NAMES) delete process.env[n];
  logs = [];
  const push = (o: unknown) => {
    logs.push(o);
  };
  CrossauthLogger.setLogger({ error: push, warn: push, info: push, debug: push }, true);
  twilio = new FakeTwilio();
  apiBase = await twilio.start();
});
afterEach(async () => {
  await twilio.stop();
  for (const n of ENV_NAMES) {
    if (savedEnv[n] === undefined) delete process.env[n];
    else process.env[n] = savedEnv[n];
  }
  CrossauthLogger.setLogger(new CrossauthLogger(), true);
});

function authenticator(options: TwilioAuthenticatorOptions = {}): TwilioAuthenticator {
  return new TwilioAuthenticator({
    twilioAccountSid: SID,
    twilioAuthToken: TOKEN,
    twilioApiBase: apiBase,
    smsAuthenticatorFrom: FROM,
    ...options,
  });
}

describe("TwilioAuthenticator", () => {
  it("posts the message to the Messages API with Basic auth and returns the SID", async () => {
    const sid = await authenticator().sendSms(PHONE, "Hello & welcome");
    expect(sid).toBe("SM0123456789abcdef0123456789abcdef");
    expect(twilio.requests).toHaveLength(1);
    const [request] = twilio.requests;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`);
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request?.form).toEqual({ To: PHONE, From: FROM, Body: "Hello & welcome" });
  });

  it("delivers a login code the user can log in with", async () => {
    const clock = { now: 1_700_000_000_000 };
    const auth = authenticator({ now: () => clock.now });
    const secrets = await auth.createOneTimeSecrets(BOB);
    const body = twilio.requests[0]?.form.Body ?? "";
    expect(body).toMatch(/^Your verification code is [0-9]{6}$/);
    const otp = body.slice(-6);
    expect(secrets).toEqual({ otp, expiry: clock.now + 300_000 });
    expect(twilio.requests[0]?.form.To).toBe(PHONE);
    await auth.authenticateUser(BOB, secrets, { otp });
    clock.now += 300_001;
    await expectCrossauthRejection(auth.authenticateUser(BOB, secrets, { otp }), ErrorCode.Expired);
    const logged = JSON.stringify(logs);
    expect(logged).toContain("SM0123456789abcdef0123456789abcdef");
    expect(logged).not.toContain(otp);
    expect(logged).not.toContain(TOKEN);
  });

  it("reports Twilio's refusal as FetchError with its message and no secrets", async () => {
    twilio.reply = (res) =>
      json(res, 400, {
        code: 21211,
        message: "The 'To' number +15005550001 is not a valid phone number.",
        status: 400,
      });
    const e = await expectCrossauthRejection(
      authenticator().sendSms("+15005550001", "code 123456"),
      ErrorCode.FetchError,
    );
    expect(e.message).toBe("Twilio error 400: The 'To' number +15005550001 is not a valid phone number.");
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
    expect(logs).toContainEqual(expect.objectContaining({ status: 400, twilioCode: 21211 }));
  });

  it("reports a refusal without a JSON body by its status", async () => {
    twilio.reply = (res) => {
      res.writeHead(401, { "Content-Type": "text/plain" });
      res.end("Unauthorized");
    };
    const e = await expectCrossauthRejection(authenticator().sendSms(PHONE, "x"), ErrorCode.FetchError);
    expect(e.message).toBe("Twilio error 401");
  });

  it("reports an answer without a SID as FetchError", async () => {
    twilio.reply = (res) => json(res, 201, { status: "queued" });
    await expectCrossauthRejection(authenticator().sendSms(PHONE, "x"), ErrorCode.FetchError);
  });

  it("reports a dropped connection and an unreachable server as Connection", async () => {
    twilio.reply = (res) => res.socket?.destroy();
    await expectCrossauthRejection(authenticator().sendSms(PHONE, "x"), ErrorCode.Connection);
    const base = apiBase;
    await twilio.stop();
    twilio = new FakeTwilio();
    apiBase = await twilio.start();
    const e = await expectCrossauthRejection(
      authenticator({ twilioApiBase: base }).sendSms(PHONE, "x"),
      ErrorCode.Connection,
    );
    expect(e.message).not.toContain(TOKEN);
  });

  it("accepts an API base with a trailing slash", async () => {
    await authenticator({ twilioApiBase: `${apiBase}/` }).sendSms(PHONE, "x");
    expect(twilio.requests[0]?.url).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
  });

  it("takes its credentials and API base from CROSSAUTH_* variables", async () => {
    process.env.CROSSAUTH_TWILIO_ACCOUNT_SID = "ACenv";
    process.env.CROSSAUTH_TWILIO_AUTH_TOKEN = "envtoken";
    process.env.CROSSAUTH_TWILIO_API_BASE = apiBase;
    process.env.CROSSAUTH_SMS_AUTHENTICATOR_FROM = "Crossauth";
    const auth = new TwilioAuthenticator();
    expect(auth.twilioApiBase).toBe(apiBase);
    await auth.sendSms(PHONE, "x");
    const [request] = twilio.requests;
    expect(request?.url).toBe("/2010-04-01/Accounts/ACenv/Messages.json");
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from("ACenv:envtoken").toString("base64")}`);
    expect(request?.form.From).toBe("Crossauth");
  });

  it("requires an account SID, an auth token and a sender", () => {
    const base = { twilioAccountSid: SID, twilioAuthToken: TOKEN, smsAuthenticatorFrom: FROM };
    expectCrossauthError(
      () => new TwilioAuthenticator({ ...base, twilioAccountSid: undefined }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TwilioAuthenticator({ ...base, twilioAuthToken: undefined }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TwilioAuthenticator({ ...base, twilioAuthToken: "" }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TwilioAuthenticator({ ...base, smsAuthenticatorFrom: undefined }),
      ErrorCode.Configuration,
    );
    expect(new TwilioAuthenticator(base).twilioApiBase).toBe("https://api.twilio.com");
  });
});
