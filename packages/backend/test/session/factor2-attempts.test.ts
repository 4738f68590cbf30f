/**
 * A held second-factor step (2FA login or step-up) allows MAX_FACTOR2_ATTEMPTS code checks, even
 * under a burst of parallel guesses; then the user must start again.
 */
import { type CrossauthError, ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { KeyStorage, SessionCookie } from "../../src/index.js";
import { MAX_FACTOR2_ATTEMPTS } from "../../src/session/flows/factor2-secrets.js";
import { completeTwoFactorLogin, login, startSession } from "../../src/session/flows/login.js";
import { completeTwoFactorPageVisit, initiateTwoFactorPageVisit } from "../../src/session/flows/step-up.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { DUMMY_CODE, TEST_PASSWORD, useFlowSuite } from "./flow-context.js";

const s = useFlowSuite();

async function sessionData(sessionId: string): Promise<Record<string, unknown>> {
  return KeyStorage.decodeData((await s.f.keyStorage.getKey(SessionCookie.hashSessionId(sessionId))).data);
}

/** Codes of the settled results, by error code name ("ok" for a success). */
function outcomes(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const name = r.status === "fulfilled" ? "ok" : (r.reason as CrossauthError).codeName;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

async function twoFactorLogin(): Promise<string> {
  await s.f.createUser({ username: "alice", factor2: "dummy" });
  const tokens = await login(s.f.ctx, "alice", { password: TEST_PASSWORD });
  expect(tokens.twoFactorRequired).toBe(true);
  return tokens.sessionId as string;
}

describe("second-factor attempts", () => {
  it(`a 2FA login allows ${MAX_FACTOR2_ATTEMPTS} wrong codes, then even the right one needs a new login`, async () => {
    const anonymousId = await twoFactorLogin();
    for (let i = 1; i <= MAX_FACTOR2_ATTEMPTS; i++) {
      await expectCrossauthRejection(
        completeTwoFactorLogin(s.f.ctx, { otp: "9999" }, anonymousId),
        ErrorCode.InvalidToken,
      );
      expect(((await sessionData(anonymousId))["2fa"] as { attempts: number }).attempts).toBe(i);
    }
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, anonymousId),
      ErrorCode.Unauthorized,
    );
    expect((await sessionData(anonymousId))["2fa"]).toBeUndefined();
  });

  it("the right code within the limit logs in", async () => {
    const anonymousId = await twoFactorLogin();
    for (let i = 1; i < MAX_FACTOR2_ATTEMPTS; i++) {
      await expectCrossauthRejection(
        completeTwoFactorLogin(s.f.ctx, { otp: "9999" }, anonymousId),
        ErrorCode.InvalidToken,
      );
    }
    expect((await completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, anonymousId)).user?.username).toBe(
      "alice",
    );
  });

  it("a burst of 20 parallel guesses gets exactly the allowed number of checks", async () => {
    const anonymousId = await twoFactorLogin();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => completeTwoFactorLogin(s.f.ctx, { otp: "9999" }, anonymousId)),
    );
    expect(outcomes(results)).toEqual({
      InvalidToken: MAX_FACTOR2_ATTEMPTS,
      Unauthorized: 20 - MAX_FACTOR2_ATTEMPTS,
    });
  });

  it("a step-up allows the same number of codes, then the held request is dropped", async () => {
    const { user } = await s.f.createUser({ username: "bob", factor2: "dummy" });
    const sessionId = (await startSession(s.f.ctx, user.id)).sessionId as string;
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, { new_password: "x" }, "/api/changepassword");
    const results = await Promise.allSettled(
      Array.from({ length: MAX_FACTOR2_ATTEMPTS + 3 }, () =>
        completeTwoFactorPageVisit(s.f.ctx, { otp: "9999" }, sessionId),
      ),
    );
    expect(outcomes(results)).toEqual({ InvalidToken: MAX_FACTOR2_ATTEMPTS, Unauthorized: 3 });
    expect((await sessionData(sessionId)).pre2fa).toBeUndefined();
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId),
      ErrorCode.Unauthorized,
    );
  });
});
