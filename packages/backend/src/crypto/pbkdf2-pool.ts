/**
 * A small pool of worker threads that run PBKDF2 at the lowest CPU priority.
 *
 * `crypto.pbkdf2` runs on libuv's threadpool (4 threads by default) at the same priority as the
 * event loop; under a flood of logins those threads take CPU from the main thread and request
 * handling stalls. Here each hash runs with `pbkdf2Sync` inside a worker thread that has lowered its
 * own nice value to 19 (Linux), so hashing soaks up every idle core but gives the CPU back to the
 * main thread as soon as it has work. Output is byte-identical to `crypto.pbkdf2`.
 *
 * This is the only `pbkdf2Sync` call in the library, and it never runs on an event loop that serves
 * requests: callers get a promise, as with `crypto.pbkdf2`. The async form cannot be used here, because
 * it runs on libuv's process-wide threadpool, whose threads cannot be given a lower priority.
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CrossauthError, ErrorCode } from "@crossauth/common";

/**
 * The worker, as an inline CommonJS script (runs the same from the TS sources and the compiled dist).
 * At start it reads its own thread id from `/proc/thread-self` (`"<pid>/task/<tid>"`) and, when asked,
 * sets that thread's nice value to 19: on Linux `setpriority` on a thread id changes only that thread.
 * Any failure there (no /proc, another OS, another PID namespace) leaves the priority alone. It then
 * posts `{ ready, niced, tid }` once, and answers each job with `{ id, ok, bytes }`, transferring the
 * output's ArrayBuffer. A failing `pbkdf2Sync` is posted back as `ok: false`, never thrown.
 */
const WORKER_SOURCE = `"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { pbkdf2Sync } = require("node:crypto");
const { readlinkSync } = require("node:fs");
const { getPriority, setPriority } = require("node:os");
let tid = null;
let niced = false;
try {
  const parts = readlinkSync("/proc/thread-self").split("/");
  const id = Number(parts[2]);
  if (parts.length === 3 && parts[0] === String(process.pid) && parts[1] === "task" && Number.isInteger(id) && id > 0) {
    tid = id;
  }
} catch {}
if (workerData.lowPriority && tid !== null) {
  try {
    setPriority(tid, 19);
    niced = getPriority(tid) === 19;
  } catch {}
}
parentPort.postMessage({ ready: true, niced, tid });
parentPort.on("message", (job) => {
  let key;
  try {
    key = pbkdf2Sync(job.password, job.salt, job.iterations, job.keyLen, job.digest);
  } catch {
    parentPort.postMessage({ id: job.id, ok: false });
    return;
  }
  const bytes = new Uint8Array(key.length);
  bytes.set(key);
  key.fill(0);
  parentPort.postMessage({ id: job.id, ok: true, bytes: bytes.buffer }, [bytes.buffer]);
});
`;

/** Largest `concurrency` accepted. */
const MAX_CONCURRENCY = 64;
/** Upper bound of `iterations` and `keyLen`, as in `crypto.pbkdf2`. */
const MAX_INT32 = 2 ** 31 - 1;

/** Options of {@link Pbkdf2Pool}. */
export interface Pbkdf2PoolOptions {
  /**
   * Number of worker threads, i.e. the most hashes run at once (per pool, and so per process for
   * the default pool); an integer from 1 to 64. Default `os.availableParallelism()`.
   */
  concurrency?: number;
  /** When true (the default), each worker sets its own thread's nice value to 19 (Linux only). */
  lowPriority?: boolean;
}

/** What a worker thread reported about itself (see {@link Pbkdf2Pool.threads}). */
export interface Pbkdf2ThreadInfo {
  /** The kernel thread id, or `null` where `/proc/thread-self` could not be read. */
  readonly tid: number | null;
  /** Whether the thread's nice value was set to 19. */
  readonly lowPriority: boolean;
}

interface Job {
  readonly id: number;
  readonly password: string;
  readonly salt: string;
  readonly iterations: number;
  readonly keyLen: number;
  readonly digest: string;
  readonly resolve: (key: Buffer) => void;
  readonly reject: (error: CrossauthError) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  /** The job it is running; `undefined` when idle. */
  job: Job | undefined;
  /** Set once the worker's `ready` message has arrived. */
  info: Pbkdf2ThreadInfo | undefined;
  /** Set by {@link Pbkdf2Pool.close}: its exit is expected. */
  closing: boolean;
}

interface WorkerMessage {
  ready?: boolean;
  niced?: boolean;
  tid?: number | null;
  id?: number;
  ok?: boolean;
  bytes?: ArrayBuffer;
}

function closedError(): CrossauthError {
  return new CrossauthError(ErrorCode.Connection, "Password hashing pool was closed");
}

function checkJob(password: string, salt: string, iterations: number, keyLen: number, digest: string): void {
  if (typeof password !== "string" || typeof salt !== "string" || typeof digest !== "string") {
    throw new CrossauthError(ErrorCode.ValueError, "PBKDF2 password, salt and digest must be strings");
  }
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_INT32) {
    throw new CrossauthError(ErrorCode.ValueError, "PBKDF2 iterations must be a positive 32-bit integer");
  }
  if (!Number.isInteger(keyLen) || keyLen < 0 || keyLen > MAX_INT32) {
    throw new CrossauthError(ErrorCode.ValueError, "PBKDF2 key length must be a non-negative 32-bit integer");
  }
}

/**
 * A pool of up to `concurrency` worker threads computing PBKDF2, with a FIFO queue for the jobs
 * beyond that. Workers start lazily on first use. A worker keeps the process alive only while it
 * runs a job (idle workers are `unref()`ed), exactly like a pending `crypto.pbkdf2` call. A worker
 * that crashes fails its current job and is replaced by a fresh one for the next job.
 *
 * After {@link Pbkdf2Pool.close} the pool stays usable: a later `derive` starts fresh workers.
 */
export class Pbkdf2Pool {
  readonly #concurrency: number;
  readonly #lowPriority: boolean;
  readonly #workers = new Set<PoolWorker>();
  readonly #queue: Job[] = [];
  #nextId = 0;

  /**
   * @param options - see {@link Pbkdf2PoolOptions}
   * @throws CrossauthError `Configuration` when `concurrency` is not an integer from 1 to 64, or
   *   `lowPriority` is not a boolean
   */
  constructor(options: Pbkdf2PoolOptions = {}) {
    const concurrency = options.concurrency ?? Math.min(availableParallelism(), MAX_CONCURRENCY);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new CrossauthError(
        ErrorCode.Configuration,
        `PBKDF2 pool concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`,
      );
    }
    const lowPriority = options.lowPriority ?? true;
    if (typeof lowPriority !== "boolean") {
      throw new CrossauthError(ErrorCode.Configuration, "PBKDF2 pool lowPriority must be a boolean");
    }
    this.#concurrency = concurrency;
    this.#lowPriority = lowPriority;
  }

  /** The most hashes this pool runs at once (its number of worker threads). */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Number of jobs queued but not yet started. */
  get pending(): number {
    return this.#queue.length;
  }

  /** The live worker threads that have started, with their thread id and whether they run niced. */
  get threads(): readonly Pbkdf2ThreadInfo[] {
    const out: Pbkdf2ThreadInfo[] = [];
    for (const w of this.#workers) if (w.info) out.push(w.info);
    return out;
  }

  /** Number of live worker threads running at nice 19. */
  get lowPriorityThreads(): number {
    return this.threads.filter((t) => t.lowPriority).length;
  }

  /**
   * Derives a key with PBKDF2-HMAC in a worker thread; same output as `crypto.pbkdf2` (strings are
   * encoded as UTF-8).
   * @param password - the password
   * @param salt - the salt
   * @param iterations - iteration count, 1 to 2^31-1
   * @param keyLen - output length in bytes, 0 to 2^31-1
   * @param digest - HMAC digest name, e.g. `sha256`
   * @returns the derived key
   * @throws CrossauthError (as a rejection) `ValueError` for arguments of the wrong type or range;
   *   `UnsupportedAlgorithm` when PBKDF2 fails (e.g. an unknown digest); `UnknownError` when the
   *   worker thread dies; `Connection` when the pool is closed before the job finishes
   */
  derive(
    password: string,
    salt: string,
    iterations: number,
    keyLen: number,
    digest: string,
  ): Promise<Buffer> {
    try {
      checkJob(password, salt, iterations, keyLen, digest);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const id = this.#nextId++;
      this.#queue.push({ id, password, salt, iterations, keyLen, digest, resolve, reject });
      this.#pump();
    });
  }

  /**
   * Terminates the worker threads. Jobs still queued or running are rejected with `Connection`.
   * The pool can be used again afterwards: the next `derive` starts fresh workers.
   */
  async close(): Promise<void> {
    const workers = [...this.#workers];
    const queued = this.#queue.splice(0);
    this.#workers.clear();
    for (const w of workers) {
      w.closing = true;
      const job = w.job;
      w.job = undefined;
      job?.reject(closedError());
    }
    for (const job of queued) job.reject(closedError());
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  /** Hands queued jobs to idle workers, starting workers up to `concurrency`. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let target: PoolWorker | undefined;
      for (const w of this.#workers) {
        if (!w.job) {
          target = w;
          break;
        }
      }
      if (!target && this.#workers.size < this.#concurrency) {
        try {
          target = this.#spawn();
        } catch {
          if (this.#workers.size > 0) return; // the running workers will take the queue
          this.#queue
            .shift()
            ?.reject(new CrossauthError(ErrorCode.UnknownError, "Could not start a password hashing thread"));
          continue;
        }
      }
      if (!target) return;
      const job = this.#queue.shift()!;
      target.job = job;
      target.worker.ref();
      const { id, password, salt, iterations, keyLen, digest } = job;
      target.worker.postMessage({ id, password, salt, iterations, keyLen, digest });
    }
  }

  #spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { lowPriority: this.#lowPriority } });
    worker.unref();
    const w: PoolWorker = { worker, job: undefined, info: undefined, closing: false };
    this.#workers.add(w);
    worker.on("message", (message: WorkerMessage) => this.#onMessage(w, message));
    worker.on("error", () => {}); // an uncaught error ends the worker; "exit" handles it
    worker.on("exit", () => this.#onExit(w));
    return w;
  }

  #onMessage(w: PoolWorker, message: WorkerMessage): void {
    if (message.ready) {
      w.info = Object.freeze({ tid: message.tid ?? null, lowPriority: message.niced === true });
      return;
    }
    const job = w.job;
    if (!job || message.id !== job.id || w.closing) return;
    w.job = undefined;
    w.worker.unref();
    this.#pump();
    if (message.ok && message.bytes instanceof ArrayBuffer) {
      job.resolve(Buffer.from(message.bytes));
    } else {
      job.reject(new CrossauthError(ErrorCode.UnsupportedAlgorithm, "PBKDF2 failed for this digest"));
    }
  }

  #onExit(w: PoolWorker): void {
    if (w.closing) return;
    this.#workers.delete(w);
    const job = w.job;
    w.job = undefined;
    job?.reject(new CrossauthError(ErrorCode.UnknownError, "The password hashing thread stopped"));
    this.#pump();
  }
}

let defaultPool: Pbkdf2Pool | undefined;

/**
 * The process-wide pool used by `passwordHash` / `passwordsEqual`, created with the defaults on
 * first use. Its concurrency bound holds per process: separate processes (cluster workers) each get
 * their own pool, so size them together against the machine's cores.
 */
export function defaultPbkdf2Pool(): Pbkdf2Pool {
  defaultPool ??= new Pbkdf2Pool();
  return defaultPool;
}

/**
 * Replaces the process-wide pool. The old pool is not closed (that is the caller's business; its
 * idle threads never keep the process alive).
 * @param pool - the new default pool
 * @throws CrossauthError `Configuration` when `pool` is not a `Pbkdf2Pool`
 */
export function setDefaultPbkdf2Pool(pool: Pbkdf2Pool): void {
  if (!(pool instanceof Pbkdf2Pool)) {
    throw new CrossauthError(ErrorCode.Configuration, "The default PBKDF2 pool must be a Pbkdf2Pool");
  }
  defaultPool = pool;
}
