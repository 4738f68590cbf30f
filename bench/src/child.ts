/**
 * Server processes: each server runs in its own Node process with the stats preload, talks to the
 * benchmark over the IPC channel, listens on 127.0.0.1 only, and is stopped by its process id.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { FromServer, ServerStats, ToServer } from "./protocol.js";

/** Files of this build, by name (e.g. `servers/baseline.js`). */
export function distFile(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills the processes this benchmark started and that still run (on exit and on signals). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      for (const child of live) child.kill("SIGKILL");
      process.exit(130);
    });
  }
}

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Options of {@link startProcess}. */
export interface ProcessOptions {
  /** Name for messages and profile files. */
  name: string;
  /** Script under the build directory, e.g. `servers/crossauth.js`. */
  script: string;
  /** Arguments of the script. */
  args?: string[];
  /** Extra environment. */
  env: Record<string, string>;
  /** Write a CPU profile of the process into this directory. */
  cpuProfDir?: string;
  /** Load the stats preload (servers do; one-shot helpers need not). */
  preload?: boolean;
}

/** A started process with an IPC channel. */
export class BenchProcess {
  private nextId = 1;
  private readonly waiting = new Map<string, (message: FromServer) => void>();
  private output = "";
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitListeners = new Set<() => void>();

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString("utf8")).slice(-8000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("message", (message: FromServer) => {
      const key = "id" in message ? `${message.type}:${message.id}` : message.type;
      const waiter = this.waiting.get(key) ?? this.waiting.get(message.type);
      if (waiter) waiter(message);
      if (message.type === "bench:failed") this.waiting.get("*")?.(message);
    });
    child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      live.delete(child);
      for (const listener of this.exitListeners) listener();
    });
  }

  /** The last lines the process printed. */
  get recentOutput(): string {
    return this.output.trim();
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Waits for a message of a type (and id), failing when the process exits first or on timeout.
   * @param key - `type` or `type:id`
   */
  waitFor<T extends FromServer>(key: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiting.delete(key);
        this.waiting.delete("*");
        this.exitListeners.delete(onExit);
      };
      const fail = (reason: string): void => {
        cleanup();
        const output = this.recentOutput ? `\n--- ${this.name} output ---\n${this.recentOutput}` : "";
        reject(new Error(`${this.name}: ${reason}${output}`));
      };
      const onExit = (): void =>
        fail(`exited (code ${this.exited?.code}, signal ${this.exited?.signal}) before ${key}`);
      const timer = setTimeout(() => fail(`no ${key} within ${timeoutMs} ms`), timeoutMs);
      this.waiting.set(key, (message) => {
        cleanup();
        resolve(message as T);
      });
      this.waiting.set("*", (message) => {
        if (message.type === "bench:failed") fail(`failed: ${message.message}`);
      });
      this.exitListeners.add(onExit);
      if (this.exited) onExit();
    });
  }

  private request<T extends FromServer>(type: ToServer["type"], timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    const reply = this.waitFor<T>(`${type}:${id}`, timeoutMs);
    this.child.send({ type, id } satisfies ToServer);
    return reply;
  }

  /** Restarts the server's statistics (event-loop histogram, CPU and wall clock). */
  async reset(): Promise<void> {
    await this.request("bench:reset");
  }

  /** The server's statistics since the last reset. */
  async sample(): Promise<ServerStats> {
    const reply = await this.request<Extract<FromServer, { type: "bench:sample" }>>("bench:sample");
    return reply.stats;
  }

  /**
   * Waits until the server is idle (under 15 % CPU over 300 ms; at most `maxMs`), so that work left
   * over from one round (e.g. password hashes of abandoned logins) does not count in the next.
   */
  async settle(maxMs = 15_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline) {
      await this.reset();
      await new Promise((resolve) => setTimeout(resolve, 300));
      if ((await this.sample()).cpuPercent < 15) return;
    }
  }

  /** Waits for the process to end, up to `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.exitListeners.delete(done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.exitListeners.add(done);
    });
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill("SIGTERM");
    if (!(await this.waitForExit(10_000))) {
      this.child.kill("SIGKILL");
      await this.waitForExit(5_000);
    }
  }
}

/** Starts a Node process on a script of this build, with an IPC channel. */
export function startProcess(options: ProcessOptions): BenchProcess {
  installExitHook();
  const args: string[] = [];
  if (options.cpuProfDir) {
    args.push(
      "--cpu-prof",
      `--cpu-prof-dir=${options.cpuProfDir}`,
      `--cpu-prof-name=${options.name}.cpuprofile`,
    );
  }
  if (options.preload !== false) args.push("--import", new URL("./preload.js", import.meta.url).href);
  args.push(distFile(options.script), ...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...options.env },
  });
  live.add(child);
  return new BenchProcess(options.name, child);
}

/** A running server. */
export interface ServerHandle {
  process: BenchProcess;
  baseUrl: string;
  port: number;
  info: unknown;
}

/** Starts a server process and waits (up to `timeoutMs`) until it listens. */
export async function startServer(options: ProcessOptions, timeoutMs = 120_000): Promise<ServerHandle> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const child = startProcess({ ...options, env: { ...options.env, PORT: String(port) } });
  const ready = await child.waitFor<Extract<FromServer, { type: "bench:ready" }>>("bench:ready", timeoutMs);
  return { process: child, port: ready.port, baseUrl: `http://127.0.0.1:${ready.port}`, info: ready.info };
}
