/**
 * Loaded into every server process with `node --import`: samples the event-loop delay, CPU time and
 * memory of the process and answers the benchmark's `bench:reset` / `bench:sample` messages over the
 * IPC channel. Without an IPC channel it does nothing.
 * @module
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ServerStats, ToServer } from "./protocol.js";
import { tellBench } from "./protocol.js";

/** Sampling interval of the event-loop delay histogram, ms (the default of `monitorEventLoopDelay`). */
const RESOLUTION_MS = 10;
const MiB = 1024 * 1024;

if (typeof process.send === "function") {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let cpuStart = process.cpuUsage();
  let timeStart = process.hrtime.bigint();

  /** Delay beyond the sampling interval, in ms, of a histogram value in ns. */
  const delay = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - RESOLUTION_MS) : 0);

  const stats = (): ServerStats => {
    const elapsedMs = Number(process.hrtime.bigint() - timeStart) / 1e6;
    const cpu = process.cpuUsage(cpuStart);
    const memory = process.memoryUsage();
    const empty = histogram.count === 0;
    return {
      elapsedMs,
      eventLoopDelayMs: {
        mean: empty ? 0 : delay(histogram.mean),
        p50: empty ? 0 : delay(histogram.percentile(50)),
        p99: empty ? 0 : delay(histogram.percentile(99)),
        max: empty ? 0 : delay(histogram.max),
      },
      cpuPercent: elapsedMs > 0 ? ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 : 0,
      rssMB: memory.rss / MiB,
      heapUsedMB: memory.heapUsed / MiB,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    };
  };

  process.on("message", (message: ToServer) => {
    if (message?.type === "bench:reset") {
      histogram.reset();
      cpuStart = process.cpuUsage();
      timeStart = process.hrtime.bigint();
      void tellBench({ type: "bench:reset", id: message.id });
    } else if (message?.type === "bench:sample") {
      void tellBench({ type: "bench:sample", id: message.id, stats: stats() });
    }
  });
}
