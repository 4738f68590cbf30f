/**
 * The raw PBKDF2 limit of the machine: a plain script (no server, no HTTP) that keeps
 * `--concurrency` asynchronous `crypto.pbkdf2` calls in flight — the same parameters as a login
 * (SHA-256, 32 bytes, `--iterations`) — and prints one JSON line per round with the hashes completed
 * per second.
 *
 * `node pbkdf2-limit.js --iterations 600000 --concurrency 4 --warmup 1 --rounds 3 --seconds 10`
 * @module
 */
import { pbkdf2 } from "node:crypto";
import { parseArgs } from "node:util";

/** One round's result line. */
export interface Pbkdf2Round {
  round: number;
  seconds: number;
  hashes: number;
  hashesPerSecond: number;
  /** CPU time of this process over the round, percent of one core. */
  cpuPercent: number;
}

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "600000" },
    concurrency: { type: "string", default: String(Number(process.env.UV_THREADPOOL_SIZE) || 4) },
    warmup: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "10" },
  },
});
const iterations = Number(values.iterations);
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

function hashOnce(): Promise<void> {
  return new Promise((resolve, reject) => {
    // A password and a 22-character salt, as in a stored Crossauth hash.
    pbkdf2("Bench-password-1", "ABCDEFGHIJKLMNOPQRSTUV", iterations, 32, "sha256", (e) =>
      e ? reject(e) : resolve(),
    );
  });
}

/** Keeps `concurrency` hashes in flight for `duration` seconds; counts those finished in time. */
async function run(duration: number): Promise<{ hashes: number; elapsed: number; cpuPercent: number }> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const deadline = start + duration * 1000;
  let hashes = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await hashOnce();
      if (performance.now() <= deadline) hashes++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { hashes, elapsed, cpuPercent: ((used.user + used.system) / 1e6 / elapsed) * 100 };
}

if (warmup > 0) await run(warmup);
for (let round = 1; round <= rounds; round++) {
  const { hashes, cpuPercent } = await run(seconds);
  const line: Pbkdf2Round = { round, seconds, hashes, hashesPerSecond: hashes / seconds, cpuPercent };
  console.log(JSON.stringify(line));
}
