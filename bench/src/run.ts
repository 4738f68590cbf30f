/**
 * `npm run bench [-- --quick | --smoke]`: starts each server as its own process, drives it with
 * autocannon from this process over 127.0.0.1, samples the server's event-loop delay, CPU and RSS
 * through the preload, and writes `bench/results/<date>.json` and `<date>.md` with the ratios of this
 * run and PASS/FAIL for each goal.
 *
 * Scenarios whose figures are compared run in groups, their rounds interleaved (round 1 of A, round 1
 * of B, round 2 of B, round 2 of A, ...), so that both sides of a ratio see the same machine: this
 * machine is shared, and its speed drifts within a run.
 * @module
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchProcess, freePort, type ServerHandle, startProcess, startServer } from "./child.js";
import { type Options, parseOptions, type ScenarioId } from "./config.js";
import { checkOnce, type LoadRun, type LoadSpec, type RequestSpec, runLoad } from "./load.js";
import {
  BASELINE_PATH,
  BENCH_PASSWORD,
  BETTER_AUTH_SESSION_PATH,
  BETTER_AUTH_SIGN_IN_PATH,
  CSRF_PATH,
  LOGIN_PATH,
  PROTECTED_PATH,
} from "./paths.js";
import type { Pbkdf2Round } from "./pbkdf2-limit.js";
import type { FromServer } from "./protocol.js";
import {
  type BenchReport,
  computeRatios,
  evaluateGoals,
  type RoundResult,
  type ScenarioResult,
  summarize,
  writeReport,
} from "./report.js";
import {
  type BenchDatabase,
  benchPasswordHash,
  freshPostgres,
  freshSqlite,
  type Seeded,
  seedCrossauth,
} from "./seed.js";
import type { BetterAuthSeedInfo } from "./servers/better-auth.js";
import { spread } from "./stats.js";

const startedAt = new Date();
const started = performance.now();
let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}
const profile = options.profile;
const want = (id: ScenarioId): boolean => profile.scenarios.includes(id);
const scenarios: ScenarioResult[] = [];
let failures = 0;

const outDir = options.outDir ?? fileURLToPath(new URL("../results/", import.meta.url));
const stamp = startedAt
  .toISOString()
  .replace(/:/g, "-")
  .replace(/\.\d+Z$/, "Z");
const cpuProfDir = options.cpuProf ? join(outDir, "profiles", stamp) : undefined;
const secret = randomBytes(32).toString("base64url");
const scratch = mkdtempSync(join(os.tmpdir(), "crossauth-bench-"));
const cleanups: (() => Promise<void>)[] = [async () => rmSync(scratch, { recursive: true, force: true })];

function log(message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[bench ${t}s] ${message}`);
}

const fmt = (v: number, digits = 0): string =>
  v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function describeRun(run: LoadRun): string {
  const other = Object.entries(run.statusCounts)
    .filter(([status]) => Number(status) !== 200 && Number(status) !== 401)
    .map(([status, count]) => `${status}×${count}`);
  return (
    `${fmt(run.rps, run.rps < 100 ? 1 : 0)}/s, p50 ${fmt(run.latencyMs.p50, 2)} ms, p99 ${fmt(run.latencyMs.p99, 2)} ms` +
    `${other.length ? `, other statuses ${other.join(" ")}` : ""}${run.errors ? `, ${run.errors} errors` : ""}`
  );
}

// ---------------------------------------------------------------------------------------------
// Interleaved groups of legs

/** One scenario of a group. */
interface Leg {
  id: ScenarioId;
  title: string;
  system: string;
  database?: "sqlite" | "postgres";
  dataset?: { users: number; sessions: number };
  /** The process whose statistics are sampled over each round. */
  server?: BenchProcess;
  /** The load (absent for a leg with its own `run`). */
  spec?: LoadSpec;
  /** A second load at the same time as `spec` (the flood's login attempts). */
  concurrent?: { title: string; spec: LoadSpec };
  /** A round of a leg that is no HTTP load (the plain PBKDF2 script). */
  run?: (seconds: number) => Promise<RoundResult>;
  /** Wait until the server is idle after each round (loads that leave hashing behind). */
  settle?: boolean;
  notes?: string[];
}

async function runLeg(leg: Leg, seconds: number): Promise<{ round: RoundResult; concurrent?: LoadRun }> {
  if (leg.run) return { round: await leg.run(seconds) };
  if (!leg.spec) throw new Error(`${leg.id} has no load`);
  await leg.server?.reset();
  const [load, concurrent] = await Promise.all([
    runLoad(leg.spec, seconds),
    leg.concurrent ? runLoad(leg.concurrent.spec, seconds) : Promise.resolve(undefined),
  ]);
  const stats = await leg.server?.sample();
  if (leg.settle) await leg.server?.settle();
  return { round: { load, ...(stats ? { server: stats } : {}) }, ...(concurrent ? { concurrent } : {}) };
}

/**
 * Runs legs side by side: each is checked and warmed up, then round i runs every leg once, starting
 * with leg i mod n (so that no leg is always first), and the results become scenarios.
 */
async function runGroup(name: string, allLegs: Leg[]): Promise<void> {
  const legs = allLegs.filter((l) => want(l.id));
  if (legs.length === 0) return;
  log(`${name}: ${legs.map((l) => l.id).join(", ")}`);
  for (const leg of legs) {
    if (leg.spec) await checkOnce(leg.spec);
    if (leg.concurrent) await checkOnce(leg.concurrent.spec);
    if (profile.warmupSeconds > 0 && !leg.run) {
      await runLeg({ ...leg, server: undefined }, profile.warmupSeconds);
      if (leg.settle || leg.concurrent) await leg.server?.settle();
    }
  }
  const rounds = new Map<Leg, RoundResult[]>(legs.map((l) => [l, []]));
  const concurrent = new Map<Leg, LoadRun[]>(legs.map((l) => [l, []]));
  for (let i = 0; i < profile.rounds; i++) {
    for (let k = 0; k < legs.length; k++) {
      const leg = legs[(i + k) % legs.length] as Leg;
      const { round, concurrent: c } = await runLeg(leg, profile.roundSeconds);
      rounds.get(leg)?.push(round);
      if (c) concurrent.get(leg)?.push(c);
      const s = round.server;
      log(
        `${leg.id} round ${i + 1}/${profile.rounds}: ${describeRun(round.load)}` +
          (c ? `; at the same time ${describeRun(c)}` : "") +
          (s
            ? `; event-loop p99 ${fmt(s.eventLoopDelayMs.p99, 1)} ms, CPU ${fmt(s.cpuPercent)} %, RSS ${fmt(s.rssMB)} MB`
            : ""),
      );
    }
  }
  for (const leg of legs) {
    const r = rounds.get(leg) ?? [];
    const first = leg.spec?.requests[0];
    const result: ScenarioResult = {
      id: leg.id,
      title: leg.title,
      system: leg.system,
      ...(leg.database ? { database: leg.database } : {}),
      ...(leg.dataset ? { dataset: leg.dataset } : {}),
      ...(leg.spec && first
        ? {
            load: {
              method: first.method ?? "GET",
              path: first.path,
              connections: leg.spec.connections,
              distinctRequests: leg.spec.requests.length,
              expectStatus: leg.spec.expectStatus,
            },
          }
        : {}),
      rounds: r,
      summary: summarize(r),
      ...(r.at(-1)?.server ? { endRssMB: r.at(-1)?.server?.rssMB } : {}),
      ...(leg.notes ? { notes: leg.notes } : {}),
    };
    if (leg.concurrent) {
      const c = concurrent.get(leg) ?? [];
      const cfirst = leg.concurrent.spec.requests[0];
      result.concurrent = {
        title: leg.concurrent.title,
        path: cfirst?.path ?? "",
        connections: leg.concurrent.spec.connections,
        expectStatus: leg.concurrent.spec.expectStatus,
        rounds: c,
        rps: spread(c.map((x) => x.rps)),
      };
    }
    scenarios.push(result);
  }
}

/** Runs a step; when it fails, the wanted scenarios it would have measured are marked failed. */
async function attempt(ids: [ScenarioId, string, string][], step: () => Promise<void>): Promise<void> {
  const wanted = ids.filter(([id]) => want(id));
  if (wanted.length === 0) return;
  try {
    await step();
  } catch (e) {
    failures++;
    const message = e instanceof Error ? e.message : String(e);
    log(`FAILED: ${message}`);
    for (const [id, title, system] of wanted) {
      if (!scenarios.some((s) => s.id === id)) {
        scenarios.push({ id, title, system, rounds: [], skipped: `failed: ${message.split("\n")[0]}` });
      }
    }
  }
}

function skip(id: ScenarioId, title: string, system: string, reason: string): void {
  if (!want(id) || scenarios.some((s) => s.id === id)) return;
  scenarios.push({ id, title, system, rounds: [], skipped: reason });
  log(`${id}: skipped (${reason})`);
}

// ---------------------------------------------------------------------------------------------
// Servers and data

const servers: ServerHandle[] = [];

async function start(name: string, script: string, env: Record<string, string>): Promise<ServerHandle> {
  const server = await startServer({ name, script, env, ...(cpuProfDir ? { cpuProfDir } : {}) });
  servers.push(server);
  return server;
}

async function stop(server: ServerHandle | undefined): Promise<void> {
  if (!server) return;
  await server.process.stop();
  servers.splice(servers.indexOf(server), 1);
}

/** A seeded reference-server database with its running server. */
interface Crossauth {
  db: BenchDatabase;
  seeded: Seeded;
  server: ServerHandle;
  csrf: { cookie: string; token: string };
}

async function newDatabase(kind: "sqlite" | "postgres", label: string): Promise<BenchDatabase | undefined> {
  const db =
    kind === "sqlite"
      ? freshSqlite(label)
      : options.postgresUrl
        ? await freshPostgres(options.postgresUrl, label)
        : undefined;
  if (db) cleanups.push(() => db.drop().catch(() => undefined));
  return db;
}

/** A CSRF cookie and its header value, as a browser holds them after its first page. */
async function csrfPair(baseUrl: string): Promise<{ cookie: string; token: string }> {
  const response = await fetch(`${baseUrl}${CSRF_PATH}`);
  const body = (await response.json()) as { csrfToken?: string };
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] ?? "")
    .find((c) => c.startsWith("CSRFTOKEN="));
  if (!cookie || !body.csrfToken) throw new Error(`${CSRF_PATH} gave no CSRF cookie and token`);
  return { cookie, token: body.csrfToken };
}

let passwordHashPromise: Promise<string> | undefined;

/** Creates, seeds and serves a reference-server database; undefined when PostgreSQL is unreachable. */
async function crossauth(
  kind: "sqlite" | "postgres",
  label: string,
  sessions: number,
): Promise<Crossauth | undefined> {
  const db = await newDatabase(kind, label);
  if (!db) return undefined;
  passwordHashPromise ??= benchPasswordHash();
  const seeded = await seedCrossauth({
    url: db.url,
    users: profile.users,
    sessions,
    cookiePool: profile.cookiePool,
    apiKeys: profile.apiKeys,
    secret,
    passwordHash: await passwordHashPromise,
  });
  log(
    `seeded ${kind} (${label}): ${fmt(seeded.users)} users, ${fmt(seeded.sessions)} sessions in ${fmt(seeded.ms / 1000, 1)} s`,
  );
  const server = await start(`crossauth-${kind}-${label}`, "servers/crossauth.js", {
    DATABASE_URL: db.url,
    CROSSAUTH_SECRET: secret,
    CROSSAUTH_DATA_DIR: scratch,
    // No request log on any benchmarked server (bare Fastify and Better Auth have none either).
    CROSSAUTH_SERVER_LOG_LEVEL: "warn",
    CROSSAUTH_PURGE_INTERVAL: "0",
    NODE_ENV: "development",
  });
  return { db, seeded, server, csrf: await csrfPair(server.baseUrl) };
}

async function retire(c: Crossauth | undefined): Promise<void> {
  if (!c) return;
  await stop(c.server);
  await c.db.drop().catch(() => undefined);
}

const dataset = (s: Seeded) => ({ users: s.users, sessions: s.sessions });

function sessionLoad(c: Crossauth): LoadSpec {
  return {
    baseUrl: c.server.baseUrl,
    connections: profile.connections,
    expectStatus: 200,
    requests: c.seeded.cookies.map((cookie) => ({
      path: PROTECTED_PATH,
      headers: { cookie: `SESSIONID=${cookie}; ${c.csrf.cookie}` },
    })),
  };
}

function loginLoad(c: Crossauth, connections: number, password: string, expectStatus: number): LoadSpec {
  const requests: RequestSpec[] = c.seeded.usernames.map((username) => ({
    method: "POST",
    path: LOGIN_PATH,
    headers: { "content-type": "application/json", cookie: c.csrf.cookie, "x-crossauth-csrf": c.csrf.token },
    body: JSON.stringify({ username, password }),
  }));
  return { baseUrl: c.server.baseUrl, connections, expectStatus, requests };
}

function sessionLeg(id: ScenarioId, title: string, c: Crossauth): Leg {
  const database = c.db.kind;
  return {
    id,
    title,
    system: "crossauth",
    database,
    dataset: dataset(c.seeded),
    server: c.server.process,
    spec: sessionLoad(c),
  };
}

/** One round of the plain PBKDF2 script (a new process each round, like a settled server). */
async function pbkdf2Round(seconds: number): Promise<RoundResult> {
  const child = startProcess({
    name: "pbkdf2-raw",
    script: "pbkdf2-limit.js",
    args: [`--concurrency=${THREADS}`, "--warmup=0", "--rounds=1", `--seconds=${seconds}`],
    env: {},
    preload: false,
  });
  await child.waitForExit(1000 * (seconds + 60));
  const line = child.recentOutput.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`pbkdf2-limit printed no result: ${child.recentOutput}`);
  const r = JSON.parse(line) as Pbkdf2Round;
  return {
    load: {
      seconds: r.seconds,
      ok: r.hashes,
      rps: r.hashesPerSecond,
      statusCounts: {},
      errors: 0,
      timeouts: 0,
      latencyMs: { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 },
      clientCpuPercent: r.cpuPercent,
    },
  };
}

const THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;

interface BetterAuth {
  server: ServerHandle;
  info: BetterAuthSeedInfo;
}

async function betterAuth(): Promise<BetterAuth> {
  const dir = mkdtempSync(join(scratch, "better-auth-"));
  const port = String(await freePort());
  const env = {
    BENCH_BA_DB: join(dir, "better-auth.db"),
    BENCH_BA_SECRET: secret,
    BENCH_USERS: String(profile.users),
    BENCH_SESSIONS: String(profile.sessions),
    BENCH_POOL: String(profile.cookiePool),
    BETTER_AUTH_TELEMETRY: "0",
    PORT: port,
  };
  const seedStarted = performance.now();
  const seeder = startProcess({
    name: "better-auth-seed",
    script: "servers/better-auth.js",
    env: { ...env, BENCH_BA_MODE: "seed" },
    preload: false,
  });
  const seeded = await seeder.waitFor<Extract<FromServer, { type: "bench:seeded" }>>("bench:seeded", 600_000);
  await seeder.waitForExit(10_000);
  const info = seeded.info as BetterAuthSeedInfo;
  log(
    `seeded Better Auth: ${fmt(info.users)} users, ${fmt(info.sessions)} sessions in ${fmt((performance.now() - seedStarted) / 1000, 1)} s ` +
      `(cookies: ${info.cookieSource}; one sign-in took ${fmt(info.signInMs)} ms)`,
  );
  return { server: await start("better-auth", "servers/better-auth.js", env), info };
}

// ---------------------------------------------------------------------------------------------

const TITLES: Record<ScenarioId, [string, string]> = {
  baseline: ["Bare Fastify route", "fastify"],
  "session-sqlite": ["Session check (SQLite)", "crossauth"],
  "session-postgres": ["Session check (PostgreSQL)", "crossauth"],
  "apikey-sqlite": ["API-key check (SQLite)", "crossauth"],
  "betterauth-get-session": ["Better Auth get-session", "better-auth"],
  "login-sqlite": ["Login, 600,000 PBKDF2 iterations (SQLite)", "crossauth"],
  "pbkdf2-raw": ["Raw PBKDF2 limit (plain script)", "node:crypto"],
  "betterauth-sign-in": ["Better Auth email sign-in", "better-auth"],
  "flood-sqlite-unloaded": ["Session check, unloaded (paired with the flood)", "crossauth"],
  "flood-sqlite": ["Session checks during a credential-stuffing flood (SQLite)", "crossauth"],
  "scale-sqlite-small": [`Session check, ${fmt(profile.scaleSmall)} sessions (SQLite)`, "crossauth"],
  "scale-sqlite-large": [`Session check, ${fmt(profile.scaleLarge)} sessions (SQLite)`, "crossauth"],
  "scale-postgres-small": [`Session check, ${fmt(profile.scaleSmall)} sessions (PostgreSQL)`, "crossauth"],
  "scale-postgres-large": [`Session check, ${fmt(profile.scaleLarge)} sessions (PostgreSQL)`, "crossauth"],
};

const entry = (id: ScenarioId): [ScenarioId, string, string] => [id, ...TITLES[id]];
const title = (id: ScenarioId): string => TITLES[id][0];

async function main(): Promise<void> {
  log(
    `mode ${profile.mode}: ${profile.scenarios.length} scenario(s), ${profile.warmupSeconds} s warm-up + ` +
      `${profile.rounds} × ${profile.roundSeconds} s each`,
  );
  const pgIds: ScenarioId[] = ["session-postgres", "scale-postgres-small", "scale-postgres-large"];
  const sqliteMainIds: ScenarioId[] = [
    "session-sqlite",
    "apikey-sqlite",
    "login-sqlite",
    "flood-sqlite-unloaded",
    "flood-sqlite",
  ];
  const largeIsMain = profile.scaleLarge === profile.sessions;
  let noPostgres = false;
  const postgresUnreachable = (): void => {
    noPostgres = true;
    const reason = options.postgresUrl
      ? `PostgreSQL not reachable at ${options.postgresUrl}`
      : "PostgreSQL turned off (--no-postgres)";
    for (const id of pgIds) skip(id, title(id), "crossauth", reason);
  };
  let sqliteMain: Crossauth | undefined;
  let pgMain: Crossauth | undefined;
  let ba: BetterAuth | undefined;
  let baseline: ServerHandle | undefined;

  // Group A: the checks of every authenticated request, against the ceiling and the peer.
  const groupA: ScenarioId[] = [
    "baseline",
    "session-sqlite",
    "session-postgres",
    "apikey-sqlite",
    "betterauth-get-session",
  ];
  // The servers several groups share (each step records its own failure on the scenarios it serves).
  await attempt([entry("baseline")], async () => {
    baseline = await start("baseline", "servers/baseline.js", {});
  });
  const onSqliteMain = [...sqliteMainIds, ...(largeIsMain ? (["scale-sqlite-large"] as ScenarioId[]) : [])];
  await attempt(onSqliteMain.map(entry), async () => {
    sqliteMain = await crossauth("sqlite", "main", profile.sessions);
  });
  const onPgMain: ScenarioId[] = [
    "session-postgres",
    ...(largeIsMain ? (["scale-postgres-large"] as ScenarioId[]) : []),
  ];
  await attempt(onPgMain.map(entry), async () => {
    pgMain = await crossauth("postgres", "main", profile.sessions);
    if (!pgMain) postgresUnreachable();
  });
  await attempt([entry("betterauth-get-session"), entry("betterauth-sign-in")], async () => {
    ba = await betterAuth();
  });

  await attempt(groupA.map(entry), async () => {
    const legs: Leg[] = [];
    if (baseline) {
      legs.push({
        id: "baseline",
        title: title("baseline"),
        system: "fastify",
        server: baseline.process,
        spec: {
          baseUrl: baseline.baseUrl,
          connections: profile.connections,
          expectStatus: 200,
          requests: [{ path: BASELINE_PATH }],
        },
      });
    }
    if (sqliteMain) {
      legs.push(sessionLeg("session-sqlite", title("session-sqlite"), sqliteMain));
      legs.push({
        id: "apikey-sqlite",
        title: title("apikey-sqlite"),
        system: "crossauth",
        database: "sqlite",
        dataset: dataset(sqliteMain.seeded),
        server: sqliteMain.server.process,
        spec: {
          baseUrl: sqliteMain.server.baseUrl,
          connections: profile.connections,
          expectStatus: 200,
          requests: sqliteMain.seeded.apiKeyTokens.map((t) => ({
            path: PROTECTED_PATH,
            headers: { authorization: `ApiKey ${t}` },
          })),
        },
      });
    }
    if (pgMain) legs.push(sessionLeg("session-postgres", title("session-postgres"), pgMain));
    if (ba) {
      const info = ba.info;
      legs.push({
        id: "betterauth-get-session",
        title: title("betterauth-get-session"),
        system: "better-auth",
        database: "sqlite",
        dataset: { users: info.users, sessions: info.sessions },
        server: ba.server.process,
        spec: {
          baseUrl: ba.server.baseUrl,
          connections: profile.connections,
          expectStatus: 200,
          requests: info.cookies.map((cookie) => ({ path: BETTER_AUTH_SESSION_PATH, headers: { cookie } })),
        },
        notes: [
          info.cookieSource === "signed"
            ? "cookies of seeded sessions, signed as Better Auth signs its cookies (checked against get-session first)"
            : "cookies of real sign-ins",
        ],
      });
    }
    await runGroup("group A (per-request checks)", legs);
  });
  await stop(baseline);

  // Group B: logins against the raw PBKDF2 limit (and the peer's sign-in).
  await attempt(
    ["login-sqlite", "pbkdf2-raw", "betterauth-sign-in"].map((id) => entry(id as ScenarioId)),
    async () => {
      const legs: Leg[] = [];
      if (sqliteMain) {
        legs.push({
          id: "login-sqlite",
          title: title("login-sqlite"),
          system: "crossauth",
          database: "sqlite",
          dataset: dataset(sqliteMain.seeded),
          server: sqliteMain.server.process,
          spec: loginLoad(sqliteMain, profile.loginConnections, BENCH_PASSWORD, 200),
          settle: true,
        });
      }
      legs.push({
        id: "pbkdf2-raw",
        title: title("pbkdf2-raw"),
        system: "node:crypto",
        run: pbkdf2Round,
        notes: [
          `${THREADS} asynchronous crypto.pbkdf2 calls kept in flight (SHA-256, 32 bytes, 600,000 iterations) in a fresh process each round; its "client CPU" is the script's own CPU`,
        ],
      });
      if (ba) {
        const server = ba.server;
        legs.push({
          id: "betterauth-sign-in",
          title: title("betterauth-sign-in"),
          system: "better-auth",
          database: "sqlite",
          dataset: { users: ba.info.users, sessions: ba.info.sessions },
          server: server.process,
          spec: {
            baseUrl: server.baseUrl,
            connections: profile.loginConnections,
            expectStatus: 200,
            requests: ba.info.emails.map((email) => ({
              method: "POST",
              path: BETTER_AUTH_SIGN_IN_PATH,
              headers: { "content-type": "application/json", origin: server.baseUrl },
              body: JSON.stringify({ email, password: BENCH_PASSWORD }),
            })),
          },
          settle: true,
        });
      }
      await runGroup("group B (logins)", legs);
    },
  );
  await stop(ba?.server);

  // Group C: the credential-stuffing flood, against unloaded session checks.
  await attempt(
    ["flood-sqlite-unloaded", "flood-sqlite"].map((id) => entry(id as ScenarioId)),
    async () => {
      if (!sqliteMain) return;
      await runGroup("group C (credential-stuffing flood)", [
        { ...sessionLeg("flood-sqlite-unloaded", title("flood-sqlite-unloaded"), sqliteMain), settle: true },
        {
          ...sessionLeg("flood-sqlite", title("flood-sqlite"), sqliteMain),
          concurrent: {
            title: "login attempts with wrong passwords (401)",
            spec: loginLoad(sqliteMain, profile.floodConnections, "Wrong-password-1", 401),
          },
          settle: true,
        },
      ]);
    },
  );

  // Group D: scale, small vs large session tables, per database.
  for (const kind of ["sqlite", "postgres"] as const) {
    const small: ScenarioId = `scale-${kind}-small`;
    const large: ScenarioId = `scale-${kind}-large`;
    const main = kind === "sqlite" ? sqliteMain : pgMain;
    if (kind === "postgres" && noPostgres) continue;
    await attempt([entry(small), entry(large)], async () => {
      let smallServer: Crossauth | undefined;
      let largeServer: Crossauth | undefined;
      try {
        if (want(small)) smallServer = await crossauth(kind, "small", profile.scaleSmall);
        if (want(large))
          largeServer = largeIsMain && main ? main : await crossauth(kind, "large", profile.scaleLarge);
        if (kind === "postgres" && ((want(small) && !smallServer) || (want(large) && !largeServer))) {
          postgresUnreachable();
          return;
        }
        const legs: Leg[] = [];
        if (smallServer) legs.push(sessionLeg(small, title(small), smallServer));
        if (largeServer) legs.push(sessionLeg(large, title(large), largeServer));
        await runGroup(`group D (scale, ${kind})`, legs);
      } finally {
        await retire(smallServer);
        if (largeServer !== main) await retire(largeServer);
      }
    });
  }
  await retire(sqliteMain);
  await retire(pgMain);
}

function packageVersion(name: string): string {
  for (const base of ["../node_modules/", "../../node_modules/"]) {
    const file = fileURLToPath(new URL(`${base}${name}/package.json`, import.meta.url));
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

try {
  await main();
} catch (e) {
  failures++;
  log(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  for (const server of [...servers]) await stop(server).catch(() => undefined);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}

const ratios = computeRatios(scenarios);
const goals = evaluateGoals(scenarios, ratios);
const notes = [
  "Scenarios compared by a ratio run in one group with their rounds interleaved (the starting scenario rotates each round), so both sides of a ratio see the same machine.",
  "Every server runs in its own Node process listening on 127.0.0.1; autocannon drives it from the benchmark process on the same machine, so client and server share the cores (the client's CPU is reported).",
  "Event-loop delay: monitorEventLoopDelay (10 ms resolution) inside the server process, minus the resolution; CPU and RSS from process.cpuUsage / memoryUsage in the same preload.",
  "Session loads send a browser's cookies (SESSIONID and CSRFTOKEN) to GET /bench/protected, a route guarded by requireUser of @crossauth/fastify on the reference server; API-key loads send Authorization: ApiKey to the same route.",
  "Request logging is off on every server (CROSSAUTH_SERVER_LOG_LEVEL=warn on the reference server; logger: false on bare Fastify and on Better Auth).",
  "The credential-stuffing flood sends wrong passwords for existing users (401) on its own connections while the session load runs.",
];
const report: BenchReport = {
  schema: 1,
  date: startedAt.toISOString(),
  mode: profile.mode,
  durationSeconds: (performance.now() - started) / 1000,
  machine: {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    uvThreadpoolSize: THREADS,
  },
  versions: {
    "@crossauth/backend": packageVersion("@crossauth/backend"),
    fastify: packageVersion("fastify"),
    "better-auth": packageVersion("better-auth"),
    "better-sqlite3": packageVersion("better-sqlite3"),
    kysely: packageVersion("kysely"),
    pg: packageVersion("pg"),
    autocannon: packageVersion("autocannon"),
  },
  settings: { ...profile, scenarios: [...profile.scenarios] },
  scenarios,
  ratios,
  goals,
  notes,
};
const files = writeReport(report, outDir);
console.log("");
for (const g of goals) {
  const value =
    g.value === null
      ? "n/a"
      : `${fmt(g.value, g.unit === "MB" ? 0 : 2)}${g.unit === "×" ? "×" : g.unit ? ` ${g.unit}` : ""}`;
  console.log(`${g.status.padEnd(4)}  ${g.measure}: ${value} (goal ${g.goal})`);
}
console.log(`\nWrote ${files.json}\n      ${files.markdown}`);
process.exit(failures > 0 ? 1 : 0);
