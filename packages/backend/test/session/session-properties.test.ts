/**
 * Model-based property test of the account and session flows: random sequences of signup, email
 * verification, login, logout, password change, password-reset request and use, user deletion,
 * session-data writes and clock jumps for three users (and one unknown address). Every result is
 * compared with a small model, and after every step the storages are checked against invariants:
 * - only active users hold user sessions, and exactly the sessions the model expects;
 * - a used or expired token never works, a live one does;
 * - a deleted user has no keys left (sessions, tokens) in either key storage;
 * - every session's data is valid JSON and holds what was written.
 *
 * Emails are rendered by the real TokenEmailer; only the SMTP hop is replaced by an in-process
 * capture, because the SMTP fixture's listener delays every connection by 100 ms (smtp-server's
 * early-talker check) and a property test sends hundreds of emails. The flow tests
 * (`*-flow.test.ts`) cover delivery over real SMTP.
 */
import { CrossauthError, ErrorCode, UserState } from "@crossauth/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EmailMessage } from "../../src/email/email-transport.js";
import { applyEmailVerificationToken, deleteUserByUsername } from "../../src/session/flows/account.js";
import { createAnonymousSession, login, logout } from "../../src/session/flows/login.js";
import { changeSecrets, requestPasswordReset, resetSecret } from "../../src/session/flows/secrets.js";
import { updateSessionData } from "../../src/session/flows/session-data.js";
import { createUser } from "../../src/session/flows/signup.js";
import { SessionCookie } from "../../src/session/session-cookie.js";
import { type FlowFixture, linkToken, makeFlowContext } from "./flow-context.js";

const USERS = 3;
const PASSWORDS = ["Password-1a", "Password-2b", "Password-3c"] as const;
const WRONG_PASSWORD = "Wrong-Pass-9";
const TOKEN_LIFETIME_MS = 86400 * 1000;

/** One step of a random sequence. Indexes (`pick`) select among what exists at that point. */
type Op =
  | { kind: "signup"; user: number; password: number; skipVerification: boolean }
  | { kind: "verify"; pick: number }
  | { kind: "login"; user: number; correct: boolean }
  | { kind: "anonymous" }
  | { kind: "logout"; pick: number }
  | { kind: "changePassword"; user: number; password: number; correctOld: boolean; keep: number }
  | { kind: "requestReset"; user: number }
  | { kind: "applyReset"; pick: number; password: number }
  | { kind: "delete"; user: number }
  | { kind: "advance"; seconds: number }
  | { kind: "writeData"; pick: number; name: string; value: unknown };

const user = fc.nat({ max: USERS - 1 });
const password = fc.nat({ max: PASSWORDS.length - 1 });
const pick = fc.nat({ max: 20 });
const jsonData: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 12, unit: "binary" }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 6, unit: "binary" }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom("x", "y", "z"), fc.string({ maxLength: 6, unit: "binary" }), { maxKeys: 2 }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("signup" as const),
      user,
      password,
      skipVerification: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("verify" as const), pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("login" as const), user, correct: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("anonymous" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("logout" as const), pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("changePassword" as const),
      user,
      password,
      correctOld: fc.boolean(),
      keep: pick,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("requestReset" as const), user: fc.nat({ max: USERS }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("applyReset" as const), pick, password }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), user }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      seconds: fc.constantFrom(60, 3600, 43200, 90000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("writeData" as const),
      pick,
      name: fc.constantFrom("a", "b", "note"),
      value: jsonData,
    }),
  },
);

/** What the model knows of one user slot. */
interface ModelUser {
  /** Id of the current incarnation; undefined when the user does not exist. */
  id: string | number | undefined;
  state: string | undefined;
  password: string;
  /** Raw ids of the user's sessions → the data expected in each. */
  sessions: Map<string, Record<string, unknown>>;
}

/** An emailed token the model has seen. */
interface ModelToken {
  token: string;
  kind: "verifyemail" | "resetpassword";
  user: number;
  userid: string | number;
  expires: number;
  /** Still in storage (not consumed or deleted). */
  live: boolean;
}

/** The system under test and its model. */
class World {
  readonly f: FlowFixture = makeFlowContext({ separateEmailTokenStorage: true });
  readonly mails: EmailMessage[] = [];
  readonly users: ModelUser[] = Array.from({ length: USERS }, () => ({
    id: undefined,
    state: undefined,
    password: "",
    sessions: new Map(),
  }));
  readonly anonymous = new Map<string, Record<string, unknown>>();
  readonly tokens: ModelToken[] = [];
  readonly deletedIds: (string | number)[] = [];

  constructor() {
    this.f.tokenEmailer.transport.send = async (message: EmailMessage) => {
      this.mails.push(message);
      return `<${this.mails.length}@test>`;
    };
  }

  get ctx() {
    return this.f.ctx;
  }
  now(): number {
    return this.f.clock.nowMs();
  }
  username(u: number): string {
    return `user${u}`;
  }
  address(u: number): string {
    return u < USERS ? `user${u}@example.com` : "nobody@example.com";
  }

  /** Takes the token of the email just sent to a user, if any. */
  takeToken(u: number, kind: ModelToken["kind"], userid: string | number): void {
    const mail = this.mails.shift();
    expect(mail?.to).toBe(this.address(u));
    expect(this.mails).toEqual([]);
    const token = linkToken(mail?.text ?? "", kind);
    this.tokens.push({ token, kind, user: u, userid, expires: this.now() + TOKEN_LIFETIME_MS, live: true });
  }

  /** Marks a user's live tokens of a kind (or every kind) as gone. */
  killTokens(u: number, kind?: ModelToken["kind"]): void {
    for (const t of this.tokens)
      if (t.user === u && t.live && (kind === undefined || t.kind === kind)) t.live = false;
  }

  /** A token of a kind chosen by a generated index, live or not; undefined when none was sent. */
  token(kind: ModelToken["kind"], index: number): ModelToken | undefined {
    return choose(
      this.tokens.filter((t) => t.kind === kind),
      index,
    );
  }

  /** What using a token must give now: `InvalidKey` once gone, `Expired` at or past its expiry, else success. */
  expectedCode(t: ModelToken): ErrorCode | undefined {
    if (!t.live) return ErrorCode.InvalidKey;
    return this.now() >= t.expires ? ErrorCode.Expired : undefined;
  }

  /** Every session the model holds: raw id → expected data. */
  allSessions(): [string, Record<string, unknown>][] {
    return [...this.users.flatMap((u) => [...u.sessions.entries()]), ...this.anonymous.entries()];
  }
}

/** Awaits a call expected to succeed (code undefined) or to fail with a code. */
async function outcome<T>(call: Promise<T>, code: ErrorCode | undefined): Promise<T | undefined> {
  if (code === undefined) return call;
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CrossauthError);
  expect((error as CrossauthError).codeName).toBe(new CrossauthError(code).codeName);
  return undefined;
}

/** Picks an element by a generated index, or undefined from an empty list. */
function choose<T>(list: T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}

/** Runs one step against the flows and the model, checking the flow's result. */
async function step(w: World, op: Op): Promise<void> {
  switch (op.kind) {
    case "signup": {
      const m = w.users[op.user] as ModelUser;
      const exists = m.id !== undefined;
      const pw = PASSWORDS[op.password] as string;
      const fields = {
        username: w.username(op.user),
        email: w.address(op.user),
        state: "",
        factor1: "localpassword",
      };
      const created = await outcome(
        createUser(w.ctx, fields, { password: pw }, { password: pw }, op.skipVerification),
        exists ? ErrorCode.UserExists : undefined,
      );
      if (!created) return;
      Object.assign(m, { id: created.id, password: pw, sessions: new Map() });
      m.state = op.skipVerification ? UserState.active : UserState.awaitingEmailVerification;
      expect(created.state).toBe(m.state);
      if (!op.skipVerification) w.takeToken(op.user, "verifyemail", created.id);
      return;
    }
    case "verify": {
      const t = w.token("verifyemail", op.pick);
      if (!t) return;
      const code = w.expectedCode(t);
      const verified = await outcome(applyEmailVerificationToken(w.ctx, t.token), code);
      t.live = false;
      if (!verified) return;
      const m = w.users[t.user] as ModelUser;
      if (m.state === UserState.awaitingEmailVerification) m.state = UserState.active;
      expect(verified.state).toBe(m.state);
      return;
    }
    case "login": {
      const m = w.users[op.user] as ModelUser;
      const code =
        m.id === undefined || !op.correct
          ? ErrorCode.UsernameOrPasswordInvalid
          : m.state === UserState.awaitingEmailVerification
            ? ErrorCode.EmailNotVerified
            : undefined;
      const pw = op.correct ? m.password : WRONG_PASSWORD;
      const tokens = await outcome(login(w.ctx, w.username(op.user), { password: pw }), code);
      if (!tokens) return;
      expect(tokens.user?.id).toBe(m.id);
      m.sessions.set(tokens.sessionId as string, {});
      w.killTokens(op.user, "resetpassword");
      return;
    }
    case "anonymous": {
      const tokens = await createAnonymousSession(w.ctx);
      w.anonymous.set(tokens.sessionId as string, {});
      return;
    }
    case "logout": {
      const chosen = choose(w.allSessions(), op.pick);
      if (!chosen) return;
      await logout(w.ctx, chosen[0]);
      w.anonymous.delete(chosen[0]);
      for (const m of w.users) m.sessions.delete(chosen[0]);
      return;
    }
    case "changePassword": {
      const m = w.users[op.user] as ModelUser;
      const pw = PASSWORDS[op.password] as string;
      const code =
        m.id === undefined ? ErrorCode.UserNotExist : op.correctOld ? undefined : ErrorCode.PasswordInvalid;
      const own = [...m.sessions.keys()];
      const keep = op.keep % (own.length + 1) < own.length ? own[op.keep % (own.length + 1)] : undefined;
      const old = { password: op.correctOld ? m.password : WRONG_PASSWORD };
      const changed = await outcome(
        changeSecrets(w.ctx, w.username(op.user), 1, { password: pw }, { password: pw }, old, keep),
        code,
      );
      if (!changed) return;
      m.password = pw;
      for (const sid of own) if (sid !== keep) m.sessions.delete(sid);
      w.killTokens(op.user, "resetpassword");
      return;
    }
    case "requestReset": {
      await expect(requestPasswordReset(w.ctx, w.address(op.user))).resolves.toBeUndefined();
      await w.f.whenIdle();
      expect(w.f.backgroundErrors).toEqual([]);
      const m = w.users[op.user];
      if (m?.id !== undefined && m.state === UserState.active) w.takeToken(op.user, "resetpassword", m.id);
      else expect(w.mails).toEqual([]);
      return;
    }
    case "applyReset": {
      const t = w.token("resetpassword", op.pick);
      if (!t) return;
      const code = w.expectedCode(t);
      const pw = PASSWORDS[op.password] as string;
      const reset = await outcome(resetSecret(w.ctx, t.token, 1, { password: pw }, { password: pw }), code);
      if (!reset) return;
      const m = w.users[t.user] as ModelUser;
      expect(reset.id).toBe(m.id);
      m.password = pw;
      m.sessions.clear();
      w.killTokens(t.user, "resetpassword");
      return;
    }
    case "delete": {
      const m = w.users[op.user] as ModelUser;
      const code = m.id === undefined ? ErrorCode.UserNotExist : undefined;
      await outcome(deleteUserByUsername(w.ctx, w.username(op.user)), code);
      if (m.id === undefined) return;
      w.deletedIds.push(m.id);
      Object.assign(m, { id: undefined, state: undefined, password: "", sessions: new Map() });
      w.killTokens(op.user);
      return;
    }
    case "advance":
      w.f.clock.advance(op.seconds);
      return;
    case "writeData": {
      const chosen = choose(w.allSessions(), op.pick);
      if (!chosen) return;
      await updateSessionData(w.ctx, chosen[0], op.name, op.value);
      chosen[1][op.name] = op.value;
      return;
    }
  }
}

/** Checks the storages against the invariants and the model. */
async function checkInvariants(w: World): Promise<void> {
  const { keyStorage, emailTokenStorage, userStorage, tokenEmailer } = w.f;
  const expectedData = new Map(
    w.allSessions().map(([sid, data]) => [SessionCookie.hashSessionId(sid), data]),
  );
  const checkSessionData = (keys: { value: string; data?: string }[]) => {
    for (const key of keys) {
      const data: unknown = JSON.parse(key.data ?? "");
      expect(data !== null && typeof data === "object" && !Array.isArray(data)).toBe(true);
      expect(data).toEqual(expectedData.get(key.value));
    }
  };
  for (const m of w.users) {
    if (m.id === undefined) continue;
    const sessions = (await keyStorage.getAllForUser(m.id)).filter((k) => k.value.startsWith("s:"));
    if (m.state !== UserState.active) expect(sessions).toEqual([]);
    const expected = [...m.sessions.keys()].map((sid) => SessionCookie.hashSessionId(sid));
    expect(sessions.map((k) => k.value).sort()).toEqual(expected.sort());
    checkSessionData(sessions);
  }
  const anonymous = (await keyStorage.getAllForUser(null)).filter((k) => k.value.startsWith("s:"));
  expect(anonymous.map((k) => k.value).sort()).toEqual(
    [...w.anonymous.keys()].map((sid) => SessionCookie.hashSessionId(sid)).sort(),
  );
  checkSessionData(anonymous);
  for (const id of w.deletedIds) {
    expect(await keyStorage.getAllForUser(id)).toEqual([]);
    expect(await emailTokenStorage.getAllForUser(id)).toEqual([]);
    await expect(userStorage.getUserById(id)).rejects.toMatchObject({ code: ErrorCode.UserNotExist });
  }
  for (const t of w.tokens) {
    const owner: Promise<string | number> =
      t.kind === "verifyemail"
        ? tokenEmailer.verifyEmailVerificationToken(t.token).then((d) => d.userid)
        : tokenEmailer.verifyPasswordResetToken(t.token).then((u) => u.id);
    const code = w.expectedCode(t);
    const found = await outcome(owner, code);
    if (code === undefined) expect(found).toBe(t.userid);
  }
}

describe("session flows: model-based property", () => {
  it("keeps the invariants over random sequences of operations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 60, size: "max" }), async (ops) => {
        const w = new World();
        try {
          for (const op of ops) {
            await step(w, op);
            await checkInvariants(w);
          }
        } finally {
          w.f.close();
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
