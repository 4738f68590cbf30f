/**
 * `TotpAuthenticator`: second factor with an authenticator app (RFC 6238 time-based codes).
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type Key,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import QRCode from "qrcode";
import { hash } from "../crypto/index.js";
import { KeyStorage } from "../storage/key-storage.js";
import {
  type AuthenticationOptions,
  type AuthenticationParameters,
  Authenticator,
  type AuthenticatorCapabilities,
  type MfaChannel,
  type MfaType,
  type PrepareConfigurationResult,
  type ReprepareConfigurationResult,
} from "./authenticator.js";
import { createTotpSecret, matchingTotpSteps, TOTP_DIGITS, totpUri } from "./totp-code.js";
import { InMemoryTotpReplayStore, type TotpReplayStore } from "./totp-replay-store.js";

export * from "./totp-code.js";
export * from "./totp-replay-store.js";

/** Factor name used when the session layer has not set {@link Authenticator.factorName}. */
export const TOTP_FACTOR_NAME = "totp";

const CODE_FORMAT = new RegExp(`^[0-9]{${TOTP_DIGITS}}$`);

/** Options of {@link TotpAuthenticator}. */
export interface TotpAuthenticatorOptions extends AuthenticationOptions {
  /** Clock in milliseconds since the epoch; default `Date.now`. Tests inject a fixed clock. */
  now?: () => number;
  /**
   * Where accepted time steps are remembered to refuse replays; default an
   * {@link InMemoryTotpReplayStore} on the same clock (one per authenticator). Pass a shared store
   * when several server instances check codes.
   */
  replayStore?: TotpReplayStore;
}

/**
 * Second factor with an authenticator app (Google Authenticator, Authy, 1Password...): RFC 6238
 * with HMAC-SHA-1, 6 digits and 30 s steps, accepting the previous, current and next step.
 *
 * The shared secret (`totpsecret`) is 20 random bytes in RFC 4648 base32. Set-up shows it with a
 * QR code (PNG data URL) of `otpauth://totp/<appName>:<username>?secret=...&issuer=<appName>`.
 * Codes are compared in constant time, and a code is accepted at most once: the time step of the
 * last accepted code is remembered per secret (under a SHA-256 hash of it) in a
 * {@link TotpReplayStore}, and codes of that step or earlier are refused.
 */
export class TotpAuthenticator extends Authenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: true,
    canUpdateSecrets: false,
    canUpdateUser: true,
  };
  /** Issuer shown in authenticator apps and put in the QR code. */
  readonly appName: string;
  private readonly now: () => number;
  private readonly replayStore: TotpReplayStore;

  /**
   * @param appName - the issuer name shown in authenticator apps
   * @param options - see {@link TotpAuthenticatorOptions}
   * @throws CrossauthError `Configuration` when `appName` is empty
   */
  constructor(appName: string, options: TotpAuthenticatorOptions = {}) {
    super(options, "Authenticator app");
    if (typeof appName !== "string" || appName.length === 0) {
      throw new CrossauthError(ErrorCode.Configuration, "TotpAuthenticator needs a non-empty appName");
    }
    this.appName = appName;
    this.now = options.now ?? Date.now;
    this.replayStore = options.replayStore ?? new InMemoryTotpReplayStore({ now: this.now });
  }

  /** The factor name stored in `factor2`: {@link Authenticator.factorName}, or `totp` when unset. */
  private get factor(): string {
    return this.factorName || TOTP_FACTOR_NAME;
  }

  /**
   * Checks a code against the secret with one step of drift either way, refusing replays.
   * @param user - the user (only its username is used, for logging)
   * @param secrets - must contain `totpsecret` (stored, or from the session during set-up)
   * @param params - must contain `otp`, exactly 6 digits
   * @throws CrossauthError `InvalidToken` when `totpsecret` is missing (TOTP is not set up), when
   *   `otp` is not 6 digits, when it matches none of the three steps, or when it was already
   *   accepted (its step is not after the last accepted one); `Configuration` when `totpsecret` is
   *   not a valid base32 secret of at least 16 bytes; whatever the replay store throws
   */
  async authenticateUser(
    user: UserInputFields | undefined,
    secrets: UserSecretsInputFields,
    params: AuthenticationParameters,
  ): Promise<void> {
    const username = user?.username;
    const secret = secrets.totpsecret;
    if (typeof secret !== "string" || secret.length === 0) {
      CrossauthLogger.logger.warn(j({ msg: "TOTP login without a TOTP secret", username }));
      throw new CrossauthError(ErrorCode.InvalidToken, "TOTP is not set up for this user");
    }
    const otp = params.otp;
    if (typeof otp !== "string" || !CODE_FORMAT.test(otp)) {
      throw new CrossauthError(ErrorCode.InvalidToken, `The code must be ${TOTP_DIGITS} digits`);
    }
    const matches = await matchingTotpSteps(secret, otp, this.now());
    if (matches.length === 0) {
      CrossauthLogger.logger.debug(j({ msg: "Invalid TOTP code", username }));
      throw new CrossauthError(ErrorCode.InvalidToken, "Invalid code");
    }
    const id = replayId(secret);
    const last = await this.replayStore.lastAcceptedStep(id);
    const step = matches.find((s) => last === undefined || s > last);
    if (step === undefined || !(await this.replayStore.recordAcceptedStep(id, step))) {
      CrossauthLogger.logger.warn(j({ msg: "Replayed TOTP code refused", username }));
      throw new CrossauthError(ErrorCode.InvalidToken, "This code has already been used");
    }
    CrossauthLogger.logger.debug(j({ msg: "TOTP code accepted", username }));
  }

  /**
   * Creates a new shared secret. Parameters are ignored.
   * @returns `{totpsecret}`
   */
  override async createPersistentSecrets(
    _username: string,
    _params: AuthenticationParameters,
    _repeatParams?: AuthenticationParameters,
  ): Promise<UserSecretsInputFields> {
    return { totpsecret: createTotpSecret() };
  }

  /** `["totpsecret"]` */
  secretNames(): string[] {
    return ["totpsecret"];
  }
  /** `["otp"]` */
  transientSecretNames(): string[] {
    return ["otp"];
  }
  /** `"otp"` (OAuth password-MFA grant). */
  mfaType(): MfaType {
    return "otp";
  }
  /** `"none"`: the code comes from the user's app, nothing is sent. */
  mfaChannel(): MfaChannel {
    return "none";
  }

  /**
   * Starts set-up: creates a new secret and its QR code.
   * @param user - `username` is used; other fields are ignored
   * @returns `userData` `{username, totpsecret, factor2, qr}` (qr: PNG data URL of the otpauth URI)
   *   and `sessionData` `{username, totpsecret, factor2}`; `factor2` is this factor's name (`totp`)
   * @throws CrossauthError `BadRequest` when the username is missing or too long for a QR code
   */
  override async prepareConfiguration(user: UserInputFields): Promise<PrepareConfigurationResult> {
    const username = user?.username;
    if (typeof username !== "string" || username.length === 0) {
      throw new CrossauthError(ErrorCode.BadRequest, "A username is needed to set up TOTP");
    }
    const totpsecret = createTotpSecret();
    const qr = await this.qrCode(username, totpsecret);
    const factor2 = this.factor;
    return {
      userData: { username, totpsecret, factor2, qr },
      sessionData: { username, totpsecret, factor2 },
    };
  }

  /**
   * Resumes an interrupted set-up: rebuilds the QR code from the secret kept in the session's
   * `2fa` data, without creating a new secret.
   * @param username - the user setting the factor up; must match the `2fa` data's username
   * @param sessionKey - the session key, whose `data` holds `2fa` from {@link prepareConfiguration}
   * @returns `userData` `{totpsecret, factor2, qr}`, `secrets` `{totpsecret}` and `newSessionData`
   *   `{username, totpsecret, factor2}`
   * @throws CrossauthError `BadRequest` "No TOTP set-up in progress" when the session has no `2fa`
   *   data with a TOTP secret for this factor and user; `DataFormat` when the data is not JSON
   */
  override async reprepareConfiguration(
    username: string,
    sessionKey: Key,
  ): Promise<ReprepareConfigurationResult> {
    const data = KeyStorage.decodeData(sessionKey.data);
    const twoFa = data["2fa"];
    const setUp = twoFa !== null && typeof twoFa === "object" ? (twoFa as Record<string, unknown>) : {};
    const totpsecret = setUp.totpsecret;
    const factor2 = this.factor;
    if (
      typeof totpsecret !== "string" ||
      totpsecret.length === 0 ||
      (setUp.factor2 !== undefined && setUp.factor2 !== factor2) ||
      (setUp.username !== undefined && setUp.username !== username)
    ) {
      throw new CrossauthError(ErrorCode.BadRequest, "No TOTP set-up in progress");
    }
    const qr = await this.qrCode(username, totpsecret);
    return {
      userData: { totpsecret, factor2, qr },
      secrets: { totpsecret },
      newSessionData: { username, totpsecret, factor2 },
    };
  }

  /** PNG data URL of the QR code of {@link totpUri}. */
  private async qrCode(username: string, secret: string): Promise<string> {
    try {
      return await QRCode.toDataURL(totpUri(this.appName, username, secret), {
        type: "image/png",
        errorCorrectionLevel: "M",
      });
    } catch {
      throw new CrossauthError(ErrorCode.BadRequest, "Cannot make a QR code for this username");
    }
  }
}

/** Opaque replay-store id of a secret: a SHA-256 hash, never the secret itself. */
function replayId(secret: string): string {
  return hash(`totp:${secret}`);
}
