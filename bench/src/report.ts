/**
 * The result file (`<date>.json`) and its Markdown table (`<date>.md`): every scenario with medians
 * and min–max over rounds, the ratios measured in the same run, and PASS/FAIL for each goal of the
 * benchmark issue.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Profile } from "./config.js";
import type { LoadRun } from "./load.js";
import type { ServerStats } from "./protocol.js";
import { ratio, type Spread, spread } from "./stats.js";

/** One measured round of a scenario. */
export interface RoundResult {
  load: LoadRun;
  /** The server's statistics over the round (absent for the plain PBKDF2 script). */
  server?: ServerStats;
}

/** A load that ran at the same time as a scenario's main load (the flood's logins). */
export interface ConcurrentLoad {
  title: string;
  path: string;
  connections: number;
  expectStatus: number;
  rounds: LoadRun[];
  rps: Spread;
}

/** Medians and ranges of a scenario. */
export interface ScenarioSummary {
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  eventLoopDelayP99Ms?: Spread;
  serverCpuPercent?: Spread;
  rssMB?: Spread;
  clientCpuPercent: Spread;
}

/** A scenario's results. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** What answered: `fastify`, `crossauth`, `better-auth`, or `node:crypto` for the plain script. */
  system: string;
  database?: "sqlite" | "postgres";
  dataset?: { users: number; sessions: number };
  load?: {
    method: string;
    path: string;
    connections: number;
    distinctRequests: number;
    expectStatus: number;
  };
  rounds: RoundResult[];
  summary?: ScenarioSummary;
  /** Server RSS (MiB) sampled right after the last round. */
  endRssMB?: number;
  concurrent?: ConcurrentLoad;
  /** Why the scenario did not run. */
  skipped?: string;
  notes?: string[];
}

/** Summarizes the rounds of a scenario. */
export function summarize(rounds: RoundResult[]): ScenarioSummary {
  const servers = rounds.map((r) => r.server).filter((s): s is ServerStats => s !== undefined);
  return {
    rps: spread(rounds.map((r) => r.load.rps)),
    p50Ms: spread(rounds.map((r) => r.load.latencyMs.p50)),
    p99Ms: spread(rounds.map((r) => r.load.latencyMs.p99)),
    clientCpuPercent: spread(rounds.map((r) => r.load.clientCpuPercent)),
    ...(servers.length > 0
      ? {
          eventLoopDelayP99Ms: spread(servers.map((s) => s.eventLoopDelayMs.p99)),
          serverCpuPercent: spread(servers.map((s) => s.cpuPercent)),
          rssMB: spread(servers.map((s) => s.rssMB)),
        }
      : {}),
  };
}

/** A goal's outcome. */
export interface GoalResult {
  id: string;
  measure: string;
  goal: string;
  target: number;
  direction: ">=" | "<=";
  /** Median (or the figure the goal is about); null when its scenarios did not run. */
  value: number | null;
  range?: { min: number; max: number };
  unit: string;
  status: "PASS" | "FAIL" | "SKIP";
  detail: string;
}

/** A ratio measured in this run. */
export interface RatioResult {
  id: string;
  label: string;
  value: Spread;
}

/** The whole result file. */
export interface BenchReport {
  schema: 1;
  date: string;
  mode: Profile["mode"];
  durationSeconds: number;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  settings: Omit<Profile, "scenarios"> & { scenarios: string[] };
  scenarios: ScenarioResult[];
  ratios: RatioResult[];
  goals: GoalResult[];
  notes: string[];
}

function find(scenarios: ScenarioResult[], id: string): ScenarioResult | undefined {
  const s = scenarios.find((x) => x.id === id);
  return s && !s.skipped && s.summary ? s : undefined;
}

/** Per-round values of a measure of a scenario (undefined when it did not run). */
type Series = number[] | undefined;

/**
 * The ratio of two series measured in one interleaved group: the median and range of the per-round
 * ratios (round i of one over round i of the other); for series of different lengths, the ratio of
 * the medians with the extreme ratios of the ranges.
 */
export function pairedRatio(a: number[], b: number[]): Spread {
  if (a.length === b.length && a.length > 0) return spread(a.map((v, i) => v / (b[i] as number)));
  return ratio(spread(a), spread(b));
}

/** The ratios of the run (only those whose two scenarios ran). */
export function computeRatios(scenarios: ScenarioResult[]): RatioResult[] {
  const out: RatioResult[] = [];
  const add = (id: string, label: string, a: Series, b: Series): void => {
    if (a && b) out.push({ id, label, value: pairedRatio(a, b) });
  };
  const rps = (id: string): Series => find(scenarios, id)?.rounds.map((r) => r.load.rps);
  const p50 = (id: string): Series => find(scenarios, id)?.rounds.map((r) => r.load.latencyMs.p50);
  const flood = find(scenarios, "flood-sqlite");
  add(
    "session-sqlite/baseline",
    "Session check (SQLite) / bare Fastify, req/s",
    rps("session-sqlite"),
    rps("baseline"),
  );
  add(
    "session-postgres/baseline",
    "Session check (PostgreSQL) / bare Fastify, req/s",
    rps("session-postgres"),
    rps("baseline"),
  );
  add(
    "session-sqlite/betterauth-get-session",
    "Session check (SQLite) / Better Auth get-session, req/s",
    rps("session-sqlite"),
    rps("betterauth-get-session"),
  );
  add(
    "betterauth-get-session/baseline",
    "Better Auth get-session / bare Fastify, req/s",
    rps("betterauth-get-session"),
    rps("baseline"),
  );
  add("apikey-sqlite/baseline", "API-key check / bare Fastify, req/s", rps("apikey-sqlite"), rps("baseline"));
  add(
    "login-sqlite/pbkdf2-raw",
    "Logins per second / raw PBKDF2 hashes per second",
    rps("login-sqlite"),
    rps("pbkdf2-raw"),
  );
  add(
    "login-sqlite/betterauth-sign-in",
    "Crossauth logins / Better Auth sign-ins, per second",
    rps("login-sqlite"),
    rps("betterauth-sign-in"),
  );
  add(
    "flood-sqlite/flood-sqlite-unloaded",
    "Session checks during the login flood / unloaded, req/s",
    rps("flood-sqlite"),
    rps("flood-sqlite-unloaded"),
  );
  if (flood?.concurrent)
    add(
      "flood-logins/pbkdf2-raw",
      "Flood login attempts / raw PBKDF2 hashes per second",
      flood.concurrent.rounds.map((r) => r.rps),
      rps("pbkdf2-raw"),
    );
  add(
    "scale-sqlite-large/scale-sqlite-small",
    "Session-check p50 latency, large / small session table (SQLite)",
    p50("scale-sqlite-large"),
    p50("scale-sqlite-small"),
  );
  add(
    "scale-postgres-large/scale-postgres-small",
    "Session-check p50 latency, large / small session table (PostgreSQL)",
    p50("scale-postgres-large"),
    p50("scale-postgres-small"),
  );
  return out;
}

function goal(
  id: string,
  measure: string,
  direction: ">=" | "<=",
  target: number,
  unit: string,
  value: Spread | undefined,
  detail: string,
): GoalResult {
  const goalText = `${direction === ">=" ? "≥" : "≤"} ${target}${unit === "×" ? "×" : unit ? ` ${unit}` : ""}`;
  if (!value || Number.isNaN(value.median)) {
    return {
      id,
      measure,
      goal: goalText,
      target,
      direction,
      value: null,
      unit,
      status: "SKIP",
      detail: detail || "not measured in this run",
    };
  }
  const pass = direction === ">=" ? value.median >= target : value.median <= target;
  return {
    id,
    measure,
    goal: goalText,
    target,
    direction,
    value: value.median,
    range: { min: value.min, max: value.max },
    unit,
    status: pass ? "PASS" : "FAIL",
    detail,
  };
}

/** The eight goals of the issue, judged on the medians of this run. */
export function evaluateGoals(scenarios: ScenarioResult[], ratios: RatioResult[]): GoalResult[] {
  const r = (id: string) => ratios.find((x) => x.id === id)?.value;
  const flood = find(scenarios, "flood-sqlite");
  const unloaded = find(scenarios, "flood-sqlite-unloaded");
  const session = find(scenarios, "session-sqlite");
  const scaleSqlite = r("scale-sqlite-large/scale-sqlite-small");
  const scalePostgres = r("scale-postgres-large/scale-postgres-small");
  // The scale goal holds for every database measured: judge the worse one.
  const scale = [scaleSqlite, scalePostgres]
    .filter((s): s is Spread => s !== undefined)
    .sort((a, b) => b.median - a.median)[0];
  const fmt = (s: Spread | undefined) => (s ? s.median.toFixed(2) : "n/a");
  const pgSession = find(scenarios, "session-postgres");
  return [
    goal(
      "session-vs-baseline",
      "Session check / bare Fastify, SQLite",
      ">=",
      0.4,
      "",
      r("session-sqlite/baseline"),
      pgSession ? `PostgreSQL: ${fmt(r("session-postgres/baseline"))}` : "",
    ),
    goal(
      "session-vs-betterauth",
      "Session check / Better Auth get-session",
      ">=",
      15,
      "×",
      r("session-sqlite/betterauth-get-session"),
      "",
    ),
    goal(
      "apikey-vs-baseline",
      "API-key check / bare Fastify",
      ">=",
      0.4,
      "",
      r("apikey-sqlite/baseline"),
      "",
    ),
    goal(
      "login-vs-pbkdf2",
      "Logins per second / raw PBKDF2 limit",
      ">=",
      0.9,
      "",
      r("login-sqlite/pbkdf2-raw"),
      "",
    ),
    goal(
      "flood-event-loop-delay",
      "Event-loop delay p99 during the login flood",
      "<=",
      10,
      "ms",
      flood?.summary?.eventLoopDelayP99Ms,
      "",
    ),
    goal(
      "flood-session-kept",
      "Session-check throughput kept during the flood",
      ">=",
      0.5,
      "",
      r("flood-sqlite/flood-sqlite-unloaded"),
      flood
        ? `session-check p99 during the flood: ${flood.summary?.p99Ms.median.toFixed(1)} ms (unloaded ${unloaded?.summary?.p99Ms.median.toFixed(1) ?? "n/a"} ms)`
        : "",
    ),
    goal(
      "scale-p50",
      "Session-check p50 latency, large vs small session table",
      "<=",
      1.5,
      "×",
      scale,
      `SQLite ${fmt(scaleSqlite)}×, PostgreSQL ${fmt(scalePostgres)}× (the worse is judged)`,
    ),
    goal(
      "rss-after-session",
      "Server RSS at the end of scenario 2 (SQLite)",
      "<=",
      150,
      "MB",
      session?.endRssMB !== undefined
        ? { median: session.endRssMB, min: session.endRssMB, max: session.endRssMB }
        : undefined,
      pgSession?.endRssMB !== undefined ? `PostgreSQL server: ${pgSession.endRssMB.toFixed(0)} MB` : "",
    ),
  ];
}

const n = (v: number, digits = 0): string =>
  Number.isFinite(v)
    ? v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a";

function cell(s: Spread | undefined, digits = 0): string {
  if (!s || Number.isNaN(s.median)) return "—";
  if (s.min === s.max) return n(s.median, digits);
  return `${n(s.median, digits)} (${n(s.min, digits)}–${n(s.max, digits)})`;
}

/** The Markdown report. */
export function renderMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  const s = report.settings;
  lines.push(`# Crossauth benchmark — ${report.date} (${report.mode})`, "");
  lines.push(
    `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGB} GB, ${report.machine.platform}; Node ${report.machine.node}. ` +
      `Versions: ${Object.entries(report.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}.`,
    "",
    `Each scenario: ${s.warmupSeconds} s warm-up, then ${s.rounds} round(s) of ${s.roundSeconds} s; figures are medians with (min–max) over rounds. ` +
      `Data: ${n(s.users)} users, ${n(s.sessions)} sessions; scale ${n(s.scaleSmall)} vs ${n(s.scaleLarge)} sessions; loads cycle through up to ${n(s.cookiePool)} distinct cookies. ` +
      `Run time ${n(report.durationSeconds)} s.`,
    "",
    "The machine is shared and noisy: compare the ratios (both sides measured in this run), not absolute figures across runs.",
    "",
    "## Goals",
    "",
    "| Measure | Goal | Measured: median (min–max) | Result |",
    "|---|---|---|---|",
  );
  for (const g of report.goals) {
    const digits = g.unit === "MB" ? 0 : 2;
    const value =
      g.value === null
        ? "—"
        : cell({ median: g.value, min: g.range?.min ?? g.value, max: g.range?.max ?? g.value }, digits);
    const unit = g.value === null ? "" : g.unit === "×" ? "×" : g.unit ? ` ${g.unit}` : "";
    lines.push(
      `| ${g.measure} | ${g.goal} | ${value}${unit}${g.detail ? ` — ${g.detail}` : ""} | **${g.status}** |`,
    );
  }
  lines.push("", "## Ratios (same run)", "", "| Ratio | Median (min–max) |", "|---|---|");
  for (const r of report.ratios) lines.push(`| ${r.label} | ${cell(r.value, 3)} |`);
  lines.push(
    "",
    "## Scenarios",
    "",
    "| Scenario | System | Data | Load | Throughput /s | p50 ms | p99 ms | Event-loop delay p99 ms | Server CPU % | Server RSS MB | Client CPU % |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const sc of report.scenarios) {
    if (sc.skipped || !sc.summary) {
      lines.push(`| ${sc.title} | ${sc.system} | — | — | skipped: ${sc.skipped ?? "no data"} | | | | | | |`);
      continue;
    }
    const data = sc.dataset
      ? `${sc.database ?? ""} ${n(sc.dataset.users)} users / ${n(sc.dataset.sessions)} sessions`
      : (sc.database ?? "—");
    const load = sc.load ? `${sc.load.method} ${sc.load.path}, ${sc.load.connections} conn.` : "—";
    const su = sc.summary;
    const rateDigits = su.rps.median < 100 ? 1 : 0;
    const http = sc.load !== undefined;
    lines.push(
      `| ${sc.title} | ${sc.system} | ${data} | ${load} | ${cell(su.rps, rateDigits)} | ${http ? cell(su.p50Ms, 2) : "—"} | ${http ? cell(su.p99Ms, 2) : "—"} | ${cell(su.eventLoopDelayP99Ms, 1)} | ${cell(su.serverCpuPercent)} | ${cell(su.rssMB)} | ${cell(su.clientCpuPercent)} |`,
    );
    if (sc.concurrent) {
      const c = sc.concurrent;
      const p99 = spread(c.rounds.map((x) => x.latencyMs.p99));
      const p50 = spread(c.rounds.map((x) => x.latencyMs.p50));
      lines.push(
        `| ↳ at the same time: ${c.title} | | | POST ${c.path}, ${c.connections} conn. | ${cell(c.rps, 1)} | ${cell(p50, 0)} | ${cell(p99, 0)} | | | | |`,
      );
    }
  }
  if (report.notes.length > 0) {
    lines.push("", "## Notes", "");
    for (const note of report.notes) lines.push(`- ${note}`);
  }
  const scenarioNotes = report.scenarios.filter((sc) => sc.notes && sc.notes.length > 0);
  if (scenarioNotes.length > 0) {
    lines.push("");
    for (const sc of scenarioNotes) for (const note of sc.notes ?? []) lines.push(`- ${sc.title}: ${note}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Writes `<stamp>.json` and `<stamp>.md` into `dir`.
 * @returns the two paths
 */
export function writeReport(report: BenchReport, dir: string): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.date.replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const json = join(dir, `${stamp}.json`);
  const markdown = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  return { json, markdown };
}
