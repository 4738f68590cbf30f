/**
 * Messages between the benchmark and the server processes it starts (over the child-process IPC
 * channel, never over the network), and the server-side statistics they carry.
 * @module
 */

/** What the preload module measured in a server process since the last reset. */
export interface ServerStats {
  /** Milliseconds since the last reset. */
  elapsedMs: number;
  /**
   * Event-loop delay in milliseconds (`monitorEventLoopDelay`, minus its sampling interval as
   * under-pressure does): how late timers fired.
   */
  eventLoopDelayMs: { mean: number; p50: number; p99: number; max: number };
  /** CPU time of the process (user + system) over the wall time, in percent of one core. */
  cpuPercent: number;
  /** Resident set size now, MiB. */
  rssMB: number;
  /** JavaScript heap in use now, MiB. */
  heapUsedMB: number;
  /** Highest resident set size of the process so far, MiB. */
  maxRssMB: number;
}

/** Benchmark → server. */
export type ToServer = { type: "bench:reset"; id: number } | { type: "bench:sample"; id: number };

/** Server → benchmark. */
export type FromServer =
  | { type: "bench:ready"; port: number; info?: unknown }
  | { type: "bench:reset"; id: number }
  | { type: "bench:sample"; id: number; stats: ServerStats }
  | { type: "bench:seeded"; info: unknown }
  | { type: "bench:failed"; message: string };

/**
 * Sends a message to the benchmark when this process has an IPC channel.
 * @returns a promise settled once the message is handed to the channel (await it before exiting)
 */
export function tellBench(message: FromServer): Promise<void> {
  return new Promise((resolve) => {
    if (typeof process.send !== "function") resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}
