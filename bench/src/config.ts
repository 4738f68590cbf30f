/**
 * Command-line options and the sizes of each mode: `full` (the default: warm-up, then 3 rounds of
 * 10 s; 10,000 users, 100,000 sessions, 1,000 vs 1,000,000 for scale), `--quick` (about two minutes:
 * 2 rounds of 3 s, 100,000 sessions as the large set) and `--smoke` (the CI check: one scenario, one
 * 1 s round, small data).
 * @module
 */
import { parseArgs } from "node:util";

/** How much to run. */
export type Mode = "full" | "quick" | "smoke";

/** Every scenario, in the order they run. */
export const SCENARIO_IDS = [
  "baseline",
  "session-sqlite",
  "session-postgres",
  "apikey-sqlite",
  "betterauth-get-session",
  "login-sqlite",
  "pbkdf2-raw",
  "betterauth-sign-in",
  "flood-sqlite-unloaded",
  "flood-sqlite",
  "scale-sqlite-small",
  "scale-sqlite-large",
  "scale-postgres-small",
  "scale-postgres-large",
] as const;

/** A scenario id. */
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** Durations, data sizes and concurrency of a mode. */
export interface Profile {
  mode: Mode;
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
  users: number;
  /** Sessions of scenario 2 (session check) and of the Better Auth database. */
  sessions: number;
  /** Stored sessions of the small and large scale databases. */
  scaleSmall: number;
  scaleLarge: number;
  /** Distinct session cookies each load cycles through. */
  cookiePool: number;
  /** Distinct API keys the API-key load cycles through. */
  apiKeys: number;
  /** Connections of the session, API-key and baseline loads. */
  connections: number;
  /** Connections of the login loads (more than the 4 libuv threads, so hashing never waits). */
  loginConnections: number;
  /** Connections of the credential-stuffing flood. */
  floodConnections: number;
  /** Scenarios this mode runs. */
  scenarios: readonly ScenarioId[];
}

const ALL: readonly ScenarioId[] = SCENARIO_IDS;

/** The sizes of each mode. */
export const PROFILES: Record<Mode, Profile> = {
  full: {
    mode: "full",
    warmupSeconds: 3,
    rounds: 3,
    roundSeconds: 10,
    users: 10_000,
    sessions: 100_000,
    scaleSmall: 1_000,
    scaleLarge: 1_000_000,
    cookiePool: 10_000,
    apiKeys: 100,
    connections: 10,
    loginConnections: 8,
    floodConnections: 32,
    scenarios: ALL,
  },
  quick: {
    mode: "quick",
    warmupSeconds: 1,
    rounds: 2,
    roundSeconds: 3,
    users: 10_000,
    sessions: 100_000,
    scaleSmall: 1_000,
    scaleLarge: 100_000,
    cookiePool: 2_000,
    apiKeys: 20,
    connections: 10,
    loginConnections: 8,
    floodConnections: 32,
    scenarios: ALL,
  },
  smoke: {
    mode: "smoke",
    warmupSeconds: 0,
    rounds: 1,
    roundSeconds: 1,
    users: 100,
    sessions: 1_000,
    scaleSmall: 100,
    scaleLarge: 1_000,
    cookiePool: 100,
    apiKeys: 5,
    connections: 4,
    loginConnections: 4,
    floodConnections: 8,
    scenarios: ["session-sqlite"],
  },
};

/** Parsed command line. */
export interface Options {
  profile: Profile;
  /** Directory of the result files (default `bench/results`). */
  outDir: string | undefined;
  /** Write CPU profiles of the server processes (`--cpu-prof`) next to the results. */
  cpuProf: boolean;
  /** PostgreSQL server URL, or undefined with `--no-postgres`. */
  postgresUrl: string | undefined;
}

/** Default PostgreSQL server (a fresh database is created on it for each data set). */
export const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

const USAGE = `Usage: npm run bench -- [--quick | --smoke] [--only id,id...] [--out DIR] [--cpu-prof] [--no-postgres]
Scenarios: ${SCENARIO_IDS.join(", ")}
PostgreSQL: CROSSAUTH_BENCH_POSTGRES_URL, else CROSSAUTH_TEST_POSTGRES_URL, else ${DEFAULT_POSTGRES_URL}`;

/**
 * Parses the command line.
 * @throws Error with the usage text for unknown options or scenario ids
 */
export function parseOptions(argv: string[]): Options {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.quick && values.smoke) throw new Error(`--quick and --smoke exclude each other\n${USAGE}`);
  const mode: Mode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  let profile = PROFILES[mode];
  if (values.only) {
    const wanted = values.only.split(",").map((s) => s.trim());
    const unknown = wanted.filter((s) => !(SCENARIO_IDS as readonly string[]).includes(s));
    if (unknown.length > 0) throw new Error(`Unknown scenario ${unknown.join(", ")}\n${USAGE}`);
    profile = { ...profile, scenarios: SCENARIO_IDS.filter((s) => wanted.includes(s)) };
  }
  const postgresUrl = values["no-postgres"]
    ? undefined
    : process.env.CROSSAUTH_BENCH_POSTGRES_URL ||
      process.env.CROSSAUTH_TEST_POSTGRES_URL ||
      DEFAULT_POSTGRES_URL;
  return { profile, outDir: values.out, cpuProf: values["cpu-prof"] ?? false, postgresUrl };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      smoke: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      "cpu-prof": { type: "boolean" },
      "no-postgres": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
