/**
 * CI smoke test of the benchmark: `node bench/dist/run.js --smoke` (one scenario, one 1 s round, 100
 * users and 1,000 sessions on SQLite) starts, measures and writes a result file of the expected shape.
 * Needs the build (`npm test` builds the packages and the bench first).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const runScript = fileURLToPath(new URL("../dist/run.js", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "crossauth-bench-smoke-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("benchmark smoke run", () => {
  it("measures the session check and writes the JSON and Markdown results", () => {
    expect(
      existsSync(runScript),
      "bench/dist/run.js is missing: run `npm run build && npx tsc -b bench` first",
    ).toBe(true);
    const run = spawnSync(process.execPath, [runScript, "--smoke", "--out", out], {
      encoding: "utf8",
      timeout: 50_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);

    const files = readdirSync(out);
    const json = files.filter((f) => f.endsWith(".json"));
    const markdown = files.filter((f) => f.endsWith(".md"));
    expect(json).toHaveLength(1);
    expect(markdown).toEqual([json[0]?.replace(/\.json$/, ".md")]);

    const report = JSON.parse(readFileSync(join(out, json[0] as string), "utf8"));
    expect(report).toMatchObject({ schema: 1, mode: "smoke", settings: { rounds: 1, roundSeconds: 1 } });
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.machine.node).toBe(process.version);

    const session = report.scenarios.find((s: { id: string }) => s.id === "session-sqlite");
    expect(session.skipped).toBeUndefined();
    expect(session.dataset).toEqual({ users: 100, sessions: 1000 });
    expect(session.rounds).toHaveLength(1);
    const round = session.rounds[0];
    expect(round.load.ok).toBeGreaterThan(0);
    expect(round.load.rps).toBeGreaterThan(0);
    expect(Object.keys(round.load.statusCounts)).toEqual(["200"]);
    expect(round.load.latencyMs.p99).toBeGreaterThanOrEqual(round.load.latencyMs.p50);
    expect(round.server.eventLoopDelayMs.p99).toBeGreaterThanOrEqual(0);
    expect(round.server.cpuPercent).toBeGreaterThan(0);
    expect(round.server.rssMB).toBeGreaterThan(0);
    expect(session.summary.rps.median).toBe(round.load.rps);
    expect(session.endRssMB).toBeGreaterThan(0);

    expect(report.goals).toHaveLength(8);
    for (const goal of report.goals) expect(["PASS", "FAIL", "SKIP"]).toContain(goal.status);
    const rss = report.goals.find((g: { id: string }) => g.id === "rss-after-session");
    expect(rss.status).not.toBe("SKIP");
    expect(rss.value).toBe(session.endRssMB);

    const md = readFileSync(join(out, markdown[0] as string), "utf8");
    expect(md).toContain("## Goals");
    expect(md).toContain("| Server RSS at the end of scenario 2 (SQLite) |");
    expect(md).toContain("Session check (SQLite)");
  }, 60_000);
});
