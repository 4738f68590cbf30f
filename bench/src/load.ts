/**
 * Load generation with autocannon, from the benchmark process, against 127.0.0.1 only. Latencies are
 * recorded from autocannon's per-response timings (sub-millisecond, unlike its histogram), counting
 * only responses with the expected status.
 * @module
 */
import autocannon from "autocannon";
import { LatencyRecorder } from "./stats.js";

/** A request of a load (static: built once, then replayed). */
export interface RequestSpec {
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What to send. Each connection cycles through `requests`. */
export interface LoadSpec {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  connections: number;
  requests: RequestSpec[];
  /** The status a correct answer has (others are counted, not timed). */
  expectStatus: number;
}

/** One run of a load. */
export interface LoadRun {
  seconds: number;
  /** Responses with the expected status. */
  ok: number;
  /** `ok` per second. */
  rps: number;
  /** Responses by status. */
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Latency of the expected responses, ms. */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** CPU of the benchmark process (which drives every load) over the run, percent of one core. */
  clientCpuPercent: number;
}

/** Refuses any target but the loopback interface. */
function assertLoopback(baseUrl: string): void {
  const host = new URL(baseUrl).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new Error(`The benchmark only sends traffic to 127.0.0.1, not ${host}`);
  }
}

/**
 * Runs a load for `seconds`.
 * @param spec - see {@link LoadSpec}
 * @param seconds - duration (autocannon stops by itself; requests in flight at the end are not counted)
 */
export function runLoad(spec: LoadSpec, seconds: number): Promise<LoadRun> {
  assertLoopback(spec.baseUrl);
  const latencies = new LatencyRecorder();
  const statusCounts: Record<string, number> = {};
  const cpu = process.cpuUsage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        duration: seconds,
        timeout: 30,
        requests: spec.requests.map((r) => ({
          method: r.method ?? "GET",
          path: r.path,
          ...(r.headers ? { headers: r.headers } : {}),
          ...(r.body !== undefined ? { body: r.body } : {}),
        })),
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const elapsed = result.duration > 0 ? result.duration : (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpu);
        resolve({
          seconds: elapsed,
          ok: latencies.count,
          rps: latencies.count / elapsed,
          statusCounts,
          errors: result.errors,
          timeouts: result.timeouts,
          latencyMs: latencies.summary(),
          clientCpuPercent: ((used.user + used.system) / 1000 / (performance.now() - started || 1)) * 100,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      if (statusCode === spec.expectStatus) latencies.add(responseTime);
    });
  });
}

/**
 * Sends the first request of a load once and checks its status, so that a scenario that would only
 * measure errors stops with a clear message.
 */
export async function checkOnce(spec: LoadSpec): Promise<void> {
  assertLoopback(spec.baseUrl);
  const first = spec.requests[0];
  if (!first) throw new Error("A load needs at least one request");
  const response = await fetch(`${spec.baseUrl}${first.path}`, {
    method: first.method ?? "GET",
    headers: first.headers ?? {},
    ...(first.body !== undefined ? { body: first.body } : {}),
  });
  const text = await response.text();
  if (response.status !== spec.expectStatus) {
    throw new Error(
      `${first.method ?? "GET"} ${first.path} answered ${response.status} (expected ${spec.expectStatus}): ${text.slice(0, 300)}`,
    );
  }
}
