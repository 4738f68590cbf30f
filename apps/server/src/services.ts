/**
 * The Crossauth objects behind the reference server and its command-line tool: SQL storages, the
 * password, TOTP and email authenticators, the SessionManager, the ApiKeyManager and the
 * OAuthClientManager.
 * @module
 */
import {
  ApiKeyManager,
  defaultPbkdf2Pool,
  EmailAuthenticator,
  KyselyKeyStorage,
  KyselyOAuthClientStorage,
  KyselyUserStorage,
  LocalPasswordAuthenticator,
  OAuthClientManager,
  Pbkdf2Pool,
  SessionManager,
  setDefaultPbkdf2Pool,
  TotpAuthenticator,
} from "@crossauth/backend";
import type { ServerConfig } from "./config.js";
import type { Database } from "./database.js";

/** The storages of the server. */
export interface Storages {
  userStorage: KyselyUserStorage;
  keyStorage: KyselyKeyStorage;
  clientStorage: KyselyOAuthClientStorage;
}

/** Everything the server runs on. */
export interface CrossauthServices extends Storages {
  db: Database;
  passwordAuthenticator: LocalPasswordAuthenticator;
  emailAuthenticator: EmailAuthenticator;
  sessionManager: SessionManager;
  apiKeyManager: ApiKeyManager;
  clientManager: OAuthClientManager;
}

/**
 * The user, key and OAuth client storages over a migrated database. Users edit the fields of
 * `config.userEditableFields` (default `email`).
 * @throws CrossauthError `Configuration` for bad storage options
 */
export function createStorages(db: Database, config: ServerConfig): Storages {
  return {
    userStorage: new KyselyUserStorage(db, { userEditableFields: config.userEditableFields }),
    keyStorage: new KyselyKeyStorage(db),
    clientStorage: new KyselyOAuthClientStorage(db),
  };
}

/**
 * The OAuth client manager of the server and the command-line tool. The flows clients may be given
 * come from `CROSSAUTH_VALID_FLOWS` (JSON array; default every flow).
 * @throws CrossauthError `Configuration` for a bad `CROSSAUTH_VALID_FLOWS`
 */
export function createClientManager(clientStorage: KyselyOAuthClientStorage): OAuthClientManager {
  return new OAuthClientManager(clientStorage);
}

/**
 * The `localpassword` authenticator. Its options (`CROSSAUTH_PBKDF2_ITERATIONS`, ...) come from the
 * environment; `CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS`, when set, wins.
 * @param secret - the server secret, used as the pepper when `CROSSAUTH_ENABLE_SECRET_FOR_PASSWORD_HASH` is on
 * @throws CrossauthError `Configuration` for bad PBKDF2 settings
 */
export function createPasswordAuthenticator(
  userStorage: KyselyUserStorage,
  config: ServerConfig,
  secret: string | undefined,
): LocalPasswordAuthenticator {
  return new LocalPasswordAuthenticator(userStorage, {
    ...(secret ? { secret } : {}),
    ...(config.passwordPbkdf2Iterations !== undefined
      ? { pbkdf2Iterations: config.passwordPbkdf2Iterations }
      : {}),
  });
}

/**
 * Applies `CROSSAUTH_PASSWORD_HASH_THREADS`: when set and different from the current default pool's
 * size, a new default `Pbkdf2Pool` of that size replaces it (process-wide; the old pool's idle threads
 * never keep the process alive).
 * @param config - the server configuration
 */
export function applyPasswordHashThreads(config: ServerConfig): void {
  const threads = config.passwordHashThreads;
  if (threads === undefined || defaultPbkdf2Pool().concurrency === threads) return;
  setDefaultPbkdf2Pool(new Pbkdf2Pool({ concurrency: threads }));
}

/** Options of {@link createServices} for tests. */
export interface ServicesOptions {
  /** Clock of sessions and API keys; default the current time. */
  now?: () => Date;
}

/**
 * Builds the storages, authenticators and managers over a migrated database, after sizing the
 * password-hashing pool ({@link applyPasswordHashThreads}).
 * @param db - the database
 * @param config - the server configuration
 * @param secret - the server secret (see `loadSecret`)
 * @throws CrossauthError `Configuration` for inconsistent settings (e.g. an allowed second factor
 *   without authenticator)
 */
export function createServices(
  db: Database,
  config: ServerConfig,
  secret: string,
  options: ServicesOptions = {},
): CrossauthServices {
  applyPasswordHashThreads(config);
  const { userStorage, keyStorage, clientStorage } = createStorages(db, config);
  const email = { emailTransport: config.emailTransport, emailFrom: config.emailFrom };
  const passwordAuthenticator = createPasswordAuthenticator(userStorage, config, secret);
  const emailAuthenticator = new EmailAuthenticator(email);
  const authenticators = {
    localpassword: passwordAuthenticator,
    totp: new TotpAuthenticator(config.siteName),
    email: emailAuthenticator,
  };
  const sessionManager = new SessionManager(keyStorage, authenticators, {
    ...email,
    userStorage,
    secret,
    allowedFactor2: config.allowedFactor2,
    siteUrl: config.siteUrl,
    sessionCookieOptions: { secure: config.sessionCookieSecure },
    csrfOptions: { secure: config.csrfCookieSecure },
    ...(options.now ? { now: options.now } : {}),
  });
  const apiKeyManager = new ApiKeyManager(keyStorage, {
    secret,
    ...(options.now ? { now: options.now } : {}),
  });
  const clientManager = createClientManager(clientStorage);
  return {
    db,
    userStorage,
    keyStorage,
    clientStorage,
    passwordAuthenticator,
    emailAuthenticator,
    sessionManager,
    apiKeyManager,
    clientManager,
  };
}

/**
 * Waits for background work (password-reset emails), closes the email connections and the database.
 * Safe to call twice.
 */
export async function closeServices(services: CrossauthServices): Promise<void> {
  await services.sessionManager.whenIdle();
  services.emailAuthenticator.transport.close();
  services.sessionManager.tokenEmailer?.transport.close();
  await services.db.destroy().catch(() => undefined);
}
