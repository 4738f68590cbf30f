/**
 * `LocalPasswordAuthenticator`: passwords hashed with PBKDF2 and kept in local user storage.
 * @module
 */
import { getHashes } from "node:crypto";
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/set-parameter.js";
import { bytesToBase64url } from "../crypto/base64.js";
import {
  DEFAULT_PBKDF2_DIGEST,
  DEFAULT_PBKDF2_ITERATIONS,
  DEFAULT_PBKDF2_KEY_LENGTH,
  encodePasswordHash,
  passwordHash,
  passwordsEqual,
} from "../crypto/password-hash.js";
import { randomValue } from "../crypto/random.js";
import type { UserStorage } from "../storage/user-storage.js";
import {
  type AuthenticationOptions,
  type AuthenticationParameters,
  type AuthenticatorCapabilities,
  PasswordAuthenticator,
} from "./authenticator.js";
import { constantTimeEqual } from "./one-time-code.js";

/** A password policy: returns one message per failed rule (empty when the password is acceptable). */
export type ValidatePasswordFn = (params: AuthenticationParameters) => string[];

/** Options of {@link LocalPasswordAuthenticator}. Each may also come from `CROSSAUTH_<NAME>`. */
export interface LocalPasswordAuthenticatorOptions extends AuthenticationOptions {
  /** Application secret, used as the pepper (`CROSSAUTH_SECRET`). */
  secret?: string;
  /** When true, new hashes are peppered with `secret` (`CROSSAUTH_ENABLE_SECRET_FOR_PASSWORD_HASH`). */
  enableSecretForPasswordHash?: boolean;
  /** PBKDF2 HMAC digest; default `sha256` (`CROSSAUTH_PBKDF2_DIGEST`). */
  pbkdf2Digest?: string;
  /** PBKDF2 iterations; default 600000 (`CROSSAUTH_PBKDF2_ITERATIONS`). */
  pbkdf2Iterations?: number;
  /** PBKDF2 output length in bytes, before base64url; default 32 (`CROSSAUTH_PBKDF2_KEY_LENGTH`). */
  pbkdf2KeyLength?: number;
  /** Random salt length in bytes, before base64url; default 16 (`CROSSAUTH_PBKDF2_SALT_LENGTH`). */
  pbkdf2SaltLength?: number;
  /** Password policy; default {@link defaultPasswordValidator}. */
  validatePasswordFn?: ValidatePasswordFn;
}

/**
 * The default password policy: at least 8 characters (Unicode code points), a lowercase letter, an
 * uppercase letter (Unicode categories Ll / Lu) and a decimal digit (Nd). Each failed rule adds
 * its own message, in that order.
 * @param params - `password` is checked
 * @returns `["Password not provided"]` when the password is absent or empty; otherwise the messages
 *   "Password must be at least 8 characters", "Password must contain at least one lowercase
 *   character", "Password must contain at least one uppercase character", "Password must contain
 *   at least one digit" for the rules that fail (empty when all pass)
 */
export function defaultPasswordValidator(params: AuthenticationParameters): string[] {
  const password = params.password;
  if (typeof password !== "string" || password === "") return ["Password not provided"];
  const errors: string[] = [];
  if ([...password].length < 8) errors.push("Password must be at least 8 characters");
  if (!/\p{Ll}/u.test(password)) errors.push("Password must contain at least one lowercase character");
  if (!/\p{Lu}/u.test(password)) errors.push("Password must contain at least one uppercase character");
  if (!/\p{Nd}/u.test(password)) errors.push("Password must contain at least one digit");
  return errors;
}

/** Salt of the dummy hash checked for unknown users; any fixed text works. */
const DUMMY_SALT_CHARACTER = "A";
const MAX_SALT_LENGTH = 1024;

function configError(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.Configuration, message);
}

/**
 * Authenticates users with a password checked against a PBKDF2 hash (wire-formats.md, "Password
 * hashes"). Factor name `localpassword`.
 *
 * Every failed login costs one PBKDF2 derivation with the configured parameters — a wrong
 * password, an unknown user, a user without a password or a malformed stored hash alike — so the
 * response time does not tell an attacker which usernames exist.
 */
export class LocalPasswordAuthenticator extends PasswordAuthenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: true,
    canUpdateSecrets: true,
    canUpdateUser: true,
  };
  /** Stored in place of a hash for users who have no password (e.g. OIDC users); never matches. */
  static readonly NoPassword = "********";

  /** The storage of the users this authenticator checks. */
  readonly userStorage: UserStorage;
  /** PBKDF2 digest of new hashes. */
  pbkdf2Digest = DEFAULT_PBKDF2_DIGEST;
  /** PBKDF2 iterations of new hashes. */
  pbkdf2Iterations = DEFAULT_PBKDF2_ITERATIONS;
  /** PBKDF2 output length in bytes of new hashes. */
  pbkdf2KeyLength = DEFAULT_PBKDF2_KEY_LENGTH;
  /** Salt length in bytes of new hashes. */
  pbkdf2SaltLength = 16;
  /** Whether new hashes are peppered with the secret. */
  enableSecretForPasswordHash = false;
  /** The password policy. */
  readonly validatePasswordFn: ValidatePasswordFn;
  private secret = "";
  private readonly dummyHash: string;

  /**
   * @param userStorage - where users are stored
   * @param options - see {@link LocalPasswordAuthenticatorOptions}
   * @throws CrossauthError `Configuration` for an option of the wrong type, an unsupported digest,
   *   non-positive or absurd PBKDF2 parameters, or `enableSecretForPasswordHash` without a `secret`
   */
  constructor(userStorage: UserStorage, options: LocalPasswordAuthenticatorOptions = {}) {
    super(options, "Password");
    this.userStorage = userStorage;
    const opts = options as Record<string, unknown>;
    setParameter("secret", ParamType.String, this, opts, "SECRET");
    setParameter(
      "enableSecretForPasswordHash",
      ParamType.Boolean,
      this,
      opts,
      "ENABLE_SECRET_FOR_PASSWORD_HASH",
    );
    setParameter("pbkdf2Digest", ParamType.String, this, opts, "PBKDF2_DIGEST");
    setParameter("pbkdf2Iterations", ParamType.Integer, this, opts, "PBKDF2_ITERATIONS");
    setParameter("pbkdf2KeyLength", ParamType.Integer, this, opts, "PBKDF2_KEY_LENGTH");
    setParameter("pbkdf2SaltLength", ParamType.Integer, this, opts, "PBKDF2_SALT_LENGTH");
    this.validatePasswordFn = options.validatePasswordFn ?? defaultPasswordValidator;
    this.checkConfiguration();
    this.dummyHash = encodePasswordHash(
      bytesToBase64url(new Uint8Array(this.pbkdf2KeyLength)),
      DUMMY_SALT_CHARACTER.repeat(randomValue(this.pbkdf2SaltLength).length),
      false,
      this.pbkdf2Iterations,
      this.pbkdf2KeyLength,
      this.pbkdf2Digest,
    );
  }

  private checkConfiguration(): void {
    const digests = new Set(getHashes().map((h) => h.toLowerCase()));
    if (!digests.has(this.pbkdf2Digest.toLowerCase()) || this.pbkdf2Digest.includes(":")) {
      throw configError("pbkdf2Digest is not a supported digest");
    }
    if (this.pbkdf2Iterations < 1 || this.pbkdf2Iterations > 100_000_000) {
      throw configError("pbkdf2Iterations must be from 1 to 100000000");
    }
    if (this.pbkdf2KeyLength < 1 || this.pbkdf2KeyLength > 1024) {
      throw configError("pbkdf2KeyLength must be from 1 to 1024");
    }
    if (this.pbkdf2SaltLength < 1 || this.pbkdf2SaltLength > MAX_SALT_LENGTH) {
      throw configError(`pbkdf2SaltLength must be from 1 to ${MAX_SALT_LENGTH}`);
    }
    if (this.enableSecretForPasswordHash && !this.secret) {
      throw configError("enableSecretForPasswordHash needs a secret");
    }
  }

  /**
   * Hashes a password with the configured PBKDF2 parameters, peppered with the secret when
   * `enableSecretForPasswordHash` is set.
   * @param password - the password
   * @param salt - salt text; default a new `randomValue(pbkdf2SaltLength)`
   * @param encode - true (default) for the stored form `pbkdf2:<digest>:<keyLen>:<iterations>:<0|1>:<salt>:<hash>`,
   *   false for the bare base64url hash
   * @throws CrossauthError `InvalidHash` when the salt contains `:`
   */
  async createPasswordHash(password: string, salt?: string, encode = true): Promise<string> {
    return passwordHash(password, {
      salt: salt ?? randomValue(this.pbkdf2SaltLength),
      secret: this.enableSecretForPasswordHash ? this.secret : undefined,
      encode,
      iterations: this.pbkdf2Iterations,
      keyLen: this.pbkdf2KeyLength,
      digest: this.pbkdf2Digest,
    });
  }

  /**
   * The stored form of a password's hash: {@link createPasswordHash} with a random salt, encoded.
   * @param password - the password
   */
  async createPasswordForStorage(password: string): Promise<string> {
    return this.createPasswordHash(password, undefined, true);
  }

  /**
   * Checks a password against a stored hash, using the hash's own parameters. The pepper is used
   * only for hashes whose flag is `1`.
   * @param password - the password offered
   * @param hash - the stored form
   * @param secret - the pepper; default the configured `secret`
   * @returns true when it matches; false when it does not, when the hash is {@link NoPassword} or
   *   is malformed (logged), or when it needs a pepper and none is configured (logged)
   */
  async passwordMatchesHash(password: string, hash: string, secret?: string): Promise<boolean> {
    if (hash === LocalPasswordAuthenticator.NoPassword) return false;
    try {
      return await passwordsEqual(password, hash, secret ?? this.secret);
    } catch (e) {
      const error = CrossauthError.asCrossauthError(e);
      CrossauthLogger.logger.error(
        j({
          msg: "Stored password hash cannot be checked",
          errorCode: error.code,
          errorCodeName: error.codeName,
        }),
      );
      return false;
    }
  }

  /**
   * Checks a password. Succeeds silently; otherwise throws after one PBKDF2 derivation whatever
   * the reason, so failures take the same time.
   * @param user - the user; `undefined` for an unknown username
   * @param secrets - the user's stored secrets; `password` is the stored hash
   * @param params - the user's input; `password` is the password offered
   * @throws CrossauthError `PasswordInvalid` when no password is offered, it is wrong, the user has
   *   no password (absent or {@link NoPassword}) or the stored hash is malformed (logged, not
   *   reported); `UserNotExist` when `user` is undefined (see {@link authenticateUnknownUser})
   */
  async authenticateUser(
    user: UserInputFields | undefined,
    secrets: UserSecretsInputFields,
    params: AuthenticationParameters,
  ): Promise<void> {
    if (user === undefined) return this.authenticateUnknownUser(params);
    const password = params.password;
    if (typeof password !== "string" || password === "") {
      await this.dummyCheck("");
      throw new CrossauthError(ErrorCode.PasswordInvalid, "Password not provided");
    }
    const stored = secrets.password;
    let matches = false;
    if (typeof stored === "string" && stored !== LocalPasswordAuthenticator.NoPassword) {
      try {
        matches = await passwordsEqual(password, stored, this.secret);
      } catch (e) {
        const error = CrossauthError.asCrossauthError(e);
        CrossauthLogger.logger.error(
          j({
            msg: "Stored password hash cannot be checked",
            username: user.username,
            errorCode: error.code,
            errorCodeName: error.codeName,
          }),
        );
        await this.dummyCheck(password);
      }
    } else {
      await this.dummyCheck(password);
    }
    if (!matches) {
      CrossauthLogger.logger.debug(j({ msg: "Invalid password", username: user.username }));
      throw new CrossauthError(ErrorCode.PasswordInvalid);
    }
  }

  /**
   * Fails a login for a username that does not exist, after the same PBKDF2 work as checking a
   * real password (one derivation with the configured parameters against a fixed dummy hash), so
   * that timing does not reveal whether the user exists. {@link authenticateUser} calls it when
   * `user` is undefined.
   * @param params - the user's input; `password` is hashed when present
   * @throws CrossauthError `UserNotExist`, always
   */
  async authenticateUnknownUser(params: AuthenticationParameters = {}): Promise<never> {
    await this.dummyCheck(typeof params.password === "string" ? params.password : "");
    throw new CrossauthError(ErrorCode.UserNotExist);
  }

  /** One PBKDF2 derivation against the dummy hash; the result is discarded. */
  private async dummyCheck(password: string): Promise<void> {
    await passwordsEqual(password, this.dummyHash);
  }

  /**
   * Hashes a new password for storage after checking it.
   * @param _username - ignored
   * @param params - `password` is the new password
   * @param repeatParams - when given, its `password` must equal `params.password`
   * @returns `{password: <stored hash>}`
   * @throws CrossauthError `PasswordMatch` when the repeat differs; `PasswordFormat` with one
   *   message per failed rule of `validatePasswordFn`
   */
  override async createPersistentSecrets(
    _username: string,
    params: AuthenticationParameters,
    repeatParams?: AuthenticationParameters,
  ): Promise<UserSecretsInputFields> {
    if (repeatParams !== undefined) {
      const repeat = typeof repeatParams.password === "string" ? repeatParams.password : "";
      if (!constantTimeEqual(repeat, typeof params.password === "string" ? params.password : "")) {
        throw new CrossauthError(ErrorCode.PasswordMatch);
      }
    }
    const errors = this.validateSecrets(params);
    if (errors.length > 0) throw new CrossauthError(ErrorCode.PasswordFormat, errors);
    return { password: await this.createPasswordForStorage(params.password as string) };
  }

  /**
   * Applies the password policy (`validatePasswordFn`).
   * @param params - `password` is checked
   * @returns one message per failed rule; empty when the password is acceptable
   */
  override validateSecrets(params: AuthenticationParameters): string[] {
    return this.validatePasswordFn(params);
  }
}
