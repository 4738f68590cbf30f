/**
 * `node bench/dist/render.js <result.json>...`: recomputes the ratios and goals of result files with
 * the current definitions and rewrites each `.json` and its `.md` beside it.
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type BenchReport, computeRatios, evaluateGoals, renderMarkdown } from "./report.js";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("Usage: node bench/dist/render.js <result.json>...");
  process.exit(2);
}
for (const file of files) {
  const report = JSON.parse(readFileSync(file, "utf8")) as BenchReport;
  report.ratios = computeRatios(report.scenarios);
  report.goals = evaluateGoals(report.scenarios, report.ratios);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, ".md"), renderMarkdown(report));
  console.log(`Rewrote ${file} and its .md`);
}
