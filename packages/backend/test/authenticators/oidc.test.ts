/** OidcAuthenticator: the factor1 of users who sign in through an OpenID provider. */
import { OIDC_PASSWORD_REFUSED_MESSAGE, OidcAuthenticator } from "@crossauth/backend";
import { ErrorCode, type Key, type User } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const user: User = { id: 7, username: "carol@example.com", state: "active", factor1: "oidc" };

describe("OidcAuthenticator", () => {
  it("refuses every password login with PasswordInvalid and a message naming the OpenID provider", async () => {
    const authenticator = new OidcAuthenticator();
    const attempts: Array<[User | undefined, Record<string, unknown>, Record<string, string>]> = [
      [user, {}, { password: "anything1A" }],
      [user, {}, { password: "" }],
      [user, {}, {}],
      [user, { password: "anything1A" }, { password: "anything1A" }],
      [user, { otp: "123456" }, { otp: "123456" }],
      [undefined, {}, { password: "anything1A" }],
    ];
    for (const [u, secrets, params] of attempts) {
      const e = await expectCrossauthRejection(
        authenticator.authenticateUser(u, secrets, params),
        ErrorCode.PasswordInvalid,
      );
      expect(e.message).toBe(OIDC_PASSWORD_REFUSED_MESSAGE);
      expect(e.message).toBe("This account signs in through its OpenID provider, not with a password");
    }
  });

  it("stores no secrets and has nothing to configure", async () => {
    const authenticator = new OidcAuthenticator();
    expect(
      await authenticator.createPersistentSecrets("carol", { password: "x" }, { password: "x" }),
    ).toEqual({});
    expect(await authenticator.createOneTimeSecrets(user)).toEqual({});
    expect(authenticator.secretNames()).toEqual([]);
    expect(authenticator.transientSecretNames()).toEqual([]);
    expect(authenticator.validateSecrets({ password: "x" })).toEqual([]);
    expect(await authenticator.prepareConfiguration(user)).toBeUndefined();
    const key: Key = { value: "s", created: new Date(), expires: null };
    expect(await authenticator.reprepareConfiguration("carol", key)).toBeUndefined();
  });

  it("has the reference's capabilities and flags", () => {
    const authenticator = new OidcAuthenticator();
    expect(authenticator.capabilities()).toEqual({
      canCreateUser: true,
      canUpdateSecrets: true,
      canUpdateUser: true,
    });
    expect(authenticator.mfaType()).toBe("none");
    expect(authenticator.mfaChannel()).toBe("none");
    expect(authenticator.skipEmailVerificationOnSignup()).toBe(false);
    expect(authenticator.requireUserEntry()).toBe(true);
    expect(authenticator.friendlyName).toBe("OpenID Connect");
    expect(new OidcAuthenticator({ friendlyName: "Google" }).friendlyName).toBe("Google");
  });
});
