/**
 * Test helper: a real {@link SessionContext} for the session flows — SessionCookie,
 * DoubleSubmitCsrfToken, linked in-memory storages, the password, TOTP, email and dummy
 * authenticators, a TokenEmailer (email pointed at an SMTP fixture when a port is given), one
 * injectable clock for all of them and a `background` that collects its work.
 */
import { type User, type UserInputFields, type UserSecretsInputFields, UserState } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { TokenEmailer, type TokenEmailerOptions } from "../../src/email/token-emailer.js";
import {
  createTotpSecret,
  DoubleSubmitCsrfToken,
  DummyFactor2Authenticator,
  EmailAuthenticator,
  InMemoryKeyStorage,
  InMemoryUserStorage,
  LocalPasswordAuthenticator,
  SessionCookie,
  type SessionCookieOptions,
  sessionDataKey,
  TotpAuthenticator,
  type UserStorageOptions,
} from "../../src/index.js";
import type { SessionContext } from "../../src/session/flows/context.js";
import { LogCapture, type ReceivedMail, SmtpFixture } from "../email/smtp-fixture.js";

/** The secret signing session and CSRF cookies in tests. */
export const TEST_SECRET = "ABCDEFGHIJKLMNOPQRSTUVWX";
/** A password that satisfies the default policy. */
export const TEST_PASSWORD = "Correct-Horse-9";
/** The code of the `dummy` factor. */
export const DUMMY_CODE = "0000";
/** Sender of every email. */
export const TEST_EMAIL_FROM = "Crossauth <noreply@example.com>";
/** Site URL of email links. */
export const TEST_SITE_URL = "https://auth.example.com";
/** Where the clock starts: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1);

/** A clock the test moves by hand, in the forms the different components want. */
export interface ManualClock {
  /** Now as a Date. */
  now(): Date;
  /** Now in milliseconds since the epoch. */
  nowMs(): number;
  /** Moves the clock forward. */
  advance(seconds: number): void;
}

/** Options of {@link makeFlowContext}. */
export interface FlowContextOptions {
  /** Port of an SMTP fixture; when absent, sending email fails with `Configuration`. */
  smtpPort?: number;
  /** Default true. */
  enableEmailVerification?: boolean;
  /** Default true. */
  enablePasswordReset?: boolean;
  /** Default `["totp", "email", "dummy"]`. */
  allowedFactor2?: string[];
  /** Keep email tokens in their own key storage instead of the session storage. */
  separateEmailTokenStorage?: boolean;
  /** Extra SessionCookie options (the secret, user storage and clock are set). */
  sessionOptions?: SessionCookieOptions;
  /** Options of the user storage (editable fields...). */
  userStorageOptions?: UserStorageOptions;
  /** Extra TokenEmailer options. */
  tokenEmailerOptions?: TokenEmailerOptions;
}

/** A context with handles on everything inside it. */
export interface FlowFixture {
  ctx: SessionContext;
  clock: ManualClock;
  keyStorage: InMemoryKeyStorage;
  emailTokenStorage: InMemoryKeyStorage;
  userStorage: InMemoryUserStorage;
  passwordAuthenticator: LocalPasswordAuthenticator;
  totpAuthenticator: TotpAuthenticator;
  emailAuthenticator: EmailAuthenticator;
  dummyAuthenticator: DummyFactor2Authenticator;
  tokenEmailer: TokenEmailer;
  /** Failures of background work, by name. */
  backgroundErrors: { name: string; error: unknown }[];
  /** Resolves once all background work (including work it started) has finished. */
  whenIdle(): Promise<void>;
  /**
   * Creates a user (default: active, factor1 `localpassword`, email `<username>@example.com`) with
   * the password hashed, and a TOTP secret when `factor2` is `totp`.
   */
  createUser(
    fields: Partial<UserInputFields> & { username: string },
    password?: string,
  ): Promise<{ user: User; secrets: UserSecretsInputFields }>;
  /** Closes the SMTP connections. */
  close(): void;
}

/** A manual clock starting at `start`. */
export function manualClock(start = T0): ManualClock {
  let ms = start;
  return {
    now: () => new Date(ms),
    nowMs: () => ms,
    advance: (seconds: number) => {
      ms += seconds * 1000;
    },
  };
}

/**
 * Builds a session context over fresh in-memory storages.
 * @param options - see {@link FlowContextOptions}
 */
export function makeFlowContext(options: FlowContextOptions = {}): FlowFixture {
  const clock = manualClock();
  const keyStorage = new InMemoryKeyStorage();
  const emailTokenStorage = options.separateEmailTokenStorage ? new InMemoryKeyStorage() : keyStorage;
  const userStorage = new InMemoryUserStorage({ ...options.userStorageOptions, keyStorage });
  const smtp =
    options.smtpPort === undefined
      ? { emailFrom: TEST_EMAIL_FROM }
      : { smtpHost: "127.0.0.1", smtpPort: options.smtpPort, emailFrom: TEST_EMAIL_FROM };
  const passwordAuthenticator = new LocalPasswordAuthenticator(userStorage, { pbkdf2Iterations: 1000 });
  const totpAuthenticator = new TotpAuthenticator("Crossauth Test", { now: clock.nowMs });
  const emailAuthenticator = new EmailAuthenticator({ ...smtp, now: clock.nowMs });
  const dummyAuthenticator = new DummyFactor2Authenticator(DUMMY_CODE, { now: clock.nowMs });
  const authenticators = {
    localpassword: passwordAuthenticator,
    totp: totpAuthenticator,
    email: emailAuthenticator,
    dummy: dummyAuthenticator,
  };
  for (const [name, authenticator] of Object.entries(authenticators)) authenticator.factorName = name;
  const tokenEmailer = new TokenEmailer(userStorage, emailTokenStorage, {
    ...smtp,
    siteUrl: TEST_SITE_URL,
    now: clock.now,
    ...options.tokenEmailerOptions,
  });
  const pending: Promise<void>[] = [];
  const backgroundErrors: { name: string; error: unknown }[] = [];
  const ctx: SessionContext = {
    keyStorage,
    emailTokenStorage,
    userStorage,
    authenticators,
    allowedFactor2: options.allowedFactor2 ?? ["totp", "email", "dummy"],
    enableEmailVerification: options.enableEmailVerification ?? true,
    enablePasswordReset: options.enablePasswordReset ?? true,
    session: new SessionCookie(keyStorage, {
      ...options.sessionOptions,
      secret: TEST_SECRET,
      userStorage,
      now: clock.now,
    }),
    csrfTokens: new DoubleSubmitCsrfToken({ secret: TEST_SECRET }),
    tokenEmailer,
    now: clock.now,
    sessionDataKey: sessionDataKey(TEST_SECRET),
    background: (name, work) => {
      pending.push(
        work().catch((error: unknown) => {
          backgroundErrors.push({ name, error });
        }),
      );
    },
  };
  return {
    ctx,
    clock,
    keyStorage,
    emailTokenStorage,
    userStorage,
    passwordAuthenticator,
    totpAuthenticator,
    emailAuthenticator,
    dummyAuthenticator,
    tokenEmailer,
    backgroundErrors,
    async whenIdle() {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
    async createUser(fields, password = TEST_PASSWORD) {
      const secrets: UserSecretsInputFields = {
        password: await passwordAuthenticator.createPasswordForStorage(password),
      };
      if (fields.factor2 === "totp") secrets.totpsecret = createTotpSecret();
      const user = await userStorage.createUser(
        {
          state: UserState.active,
          factor1: "localpassword",
          email: `${fields.username}@example.com`,
          ...fields,
        },
        secrets,
      );
      return { user, secrets };
    },
    close() {
      emailAuthenticator.transport.close();
      tokenEmailer.transport.close();
    },
  };
}

/**
 * The secret values in a set of session tokens (raw session id, cookie values, the CSRF token and
 * its masked value), for checking that none of them reaches the logs.
 * @param tokens - what a flow returned
 */
export function secretsOfTokens(tokens: {
  sessionId?: string;
  sessionCookie?: { value: string };
  csrfCookie?: { value: string };
  csrfFormOrHeaderValue?: string;
}): string[] {
  const values = [
    tokens.sessionId,
    tokens.sessionCookie?.value,
    tokens.csrfCookie?.value,
    tokens.csrfCookie?.value.split(".")[0],
    tokens.csrfFormOrHeaderValue,
  ];
  return values.filter((v): v is string => typeof v === "string" && v.length > 0);
}

/**
 * The token in the link of an emailed verification or reset message (text body), as a browser
 * following the link would see it.
 * @param mail - a message received by the SMTP fixture
 * @param path - the link's endpoint: `verifyemail` or `resetpassword`
 */
export function emailedToken(mail: ReceivedMail, path: "verifyemail" | "resetpassword"): string {
  return linkToken(mail.parsed.text ?? "", path);
}

/**
 * The token in a verification or reset link found in a text.
 * @param text - e.g. the text body of an email
 * @param path - the link's endpoint: `verifyemail` or `resetpassword`
 */
export function linkToken(text: string, path: "verifyemail" | "resetpassword"): string {
  const match = new RegExp(`${TEST_SITE_URL}/${path}/([A-Za-z0-9_-]+)`).exec(text);
  if (!match?.[1]) throw new Error(`No ${path} link in the text`);
  return match[1];
}

/**
 * The one-time code of an emailed second-factor message (text body).
 * @param mail - a message received by the SMTP fixture
 */
export function emailedCode(mail: ReceivedMail): string {
  const match = /\b(\d{6})\b/.exec(mail.parsed.text ?? "");
  if (!match?.[1]) throw new Error("No code in the email");
  return match[1];
}

/**
 * The messages the SMTP fixture received for one address, in order.
 * @param smtp - the fixture
 * @param address - the envelope recipient
 */
export function mailsTo(smtp: SmtpFixture, address: string): ReceivedMail[] {
  return smtp.messages.filter((m) => m.envelopeTo.includes(address));
}

/** What {@link useFlowSuite} gives each test: set afresh before every test. */
export interface FlowSuite {
  /** The SMTP listener (one per suite). */
  smtp: SmtpFixture;
  /** The context and its parts (one per test). */
  f: FlowFixture;
  /** Everything logged during the test. */
  logs: LogCapture;
  /**
   * Values that must not appear in the test's logs (checked after the test); starts with
   * {@link TEST_PASSWORD}.
   */
  secrets: string[];
  /** Adds values (ignoring undefined and empty ones) to {@link FlowSuite.secrets}. */
  neverLogged(...values: (string | undefined)[]): void;
}

/**
 * Registers the hooks of a flow test suite: an SMTP fixture for the suite; before each test a
 * fresh {@link makeFlowContext} pointed at it and a log capture; after each test the context is
 * closed and the logs are checked to contain none of `secrets`.
 * @param options - passed to {@link makeFlowContext} (the SMTP port is set)
 */
export function useFlowSuite(options: FlowContextOptions = {}): FlowSuite {
  const suite = { secrets: [] as string[] } as unknown as FlowSuite;
  suite.neverLogged = (...values) => {
    for (const v of values) if (typeof v === "string" && v !== "") suite.secrets.push(v);
  };
  beforeAll(async () => {
    suite.smtp = await SmtpFixture.start();
  });
  afterAll(async () => {
    await suite.smtp.close();
  });
  beforeEach(() => {
    suite.logs = new LogCapture();
    suite.f = makeFlowContext({ ...options, smtpPort: suite.smtp.port });
    suite.secrets = [TEST_PASSWORD];
  });
  afterEach(() => {
    suite.logs.restore();
    suite.f.close();
    const text = suite.logs.text();
    for (const secret of suite.secrets) expect(text).not.toContain(secret);
  });
  return suite;
}
