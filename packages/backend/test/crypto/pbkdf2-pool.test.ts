/**
 * The PBKDF2 worker pool: output identical to `crypto.pbkdf2Sync`, the concurrency bound and FIFO
 * queue, failures, close, options, and (on Linux) that its threads really run at nice 19 while the
 * main thread keeps its priority.
 */
import { pbkdf2Sync } from "node:crypto";
import { readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { defaultPbkdf2Pool, Pbkdf2Pool, passwordHash, setDefaultPbkdf2Pool } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterEach, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const ITERATIONS = 1000;
const onLinux = process.platform === "linux";

const pools: Pbkdf2Pool[] = [];
function newPool(options?: ConstructorParameters<typeof Pbkdf2Pool>[0]): Pbkdf2Pool {
  const pool = new Pbkdf2Pool(options);
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** Nice value of a thread of this process, from field 19 of `/proc/<pid>/task/<tid>/stat`. */
function threadNice(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
  // Fields after the parenthesised command name start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[19 - 3]);
}

describe("Pbkdf2Pool.derive", () => {
  const cases: [string, string, string, number, number, string][] = [
    ["sha256, 32 bytes", "bobPass123", "ABCDEFGHIJKLMNOPQRSTUV", ITERATIONS, 32, "sha256"],
    ["sha512, 64 bytes", "bobPass123", "ABCDEFGHIJKLMNOPQRSTUV", ITERATIONS, 64, "sha512"],
    ["sha512, 32 bytes", "p", "s", 1, 32, "sha512"],
    ["sha256, 64 bytes", "", "salt!pepper", 2000, 64, "sha256"],
    ["sha1, 20 bytes", "x", "y", 3, 20, "sha1"],
    ["unicode password", "pässwörd 🔑 密码", "sälz", ITERATIONS, 32, "sha256"],
    ["lone surrogate", "a\uD800b", "salt", ITERATIONS, 32, "sha256"],
    ["upper-case digest", "bobPass123", "salt", ITERATIONS, 32, "SHA256"],
  ];

  it.each(cases)(
    "equals crypto.pbkdf2Sync: %s",
    async (_label, password, salt, iterations, keyLen, digest) => {
      const pool = newPool({ concurrency: 1 });
      const key = await pool.derive(password, salt, iterations, keyLen, digest);
      expect(Buffer.isBuffer(key)).toBe(true);
      expect(key.equals(pbkdf2Sync(password, salt, iterations, keyLen, digest))).toBe(true);
    },
  );

  it("matches the wire-formats.md vector through passwordHash", async () => {
    await expect(
      passwordHash("bobPass123", { salt: "ABCDEFGHIJKLMNOPQRSTUV", iterations: 1000 }),
    ).resolves.toBe("pyk0wDckb4Fyt-G9RC4UgTKpHdoJW1prfTWh2jPgDbA");
  });

  it("runs at most `concurrency` jobs at once and queues the rest, in order", async () => {
    const pool = newPool({ concurrency: 2 });
    expect(pool.concurrency).toBe(2);
    const inputs = Array.from({ length: 6 }, (_, i) => `password ${i}`);
    const results = inputs.map((p) => pool.derive(p, "salt", ITERATIONS, 32, "sha256"));
    expect(pool.pending).toBe(4);
    const keys = await Promise.all(results);
    keys.forEach((key, i) => {
      expect(key.equals(pbkdf2Sync(inputs[i]!, "salt", ITERATIONS, 32, "sha256"))).toBe(true);
    });
    expect(pool.pending).toBe(0);
    expect(pool.threads.length).toBeLessThanOrEqual(2);
  });

  it("defaults its concurrency to the number of available cores (at most 64)", () => {
    expect(newPool().concurrency).toBeGreaterThanOrEqual(1);
    expect(newPool().concurrency).toBeLessThanOrEqual(64);
  });

  it("rejects an unknown digest with UnsupportedAlgorithm and keeps working", async () => {
    const pool = newPool({ concurrency: 1 });
    await expectCrossauthRejection(
      pool.derive("pw", "salt", ITERATIONS, 32, "no-such-digest"),
      ErrorCode.UnsupportedAlgorithm,
    );
    const key = await pool.derive("pw", "salt", ITERATIONS, 32, "sha256");
    expect(key.equals(pbkdf2Sync("pw", "salt", ITERATIONS, 32, "sha256"))).toBe(true);
  });

  it.each([
    ["iterations 0", 0, 32],
    ["iterations 1.5", 1.5, 32],
    ["negative key length", 1, -1],
    ["key length 2^31", 1, 2 ** 31],
  ])("rejects %s with ValueError", async (_label, iterations, keyLen) => {
    const pool = newPool({ concurrency: 1 });
    await expectCrossauthRejection(
      pool.derive("pw", "salt", iterations, keyLen, "sha256"),
      ErrorCode.ValueError,
    );
  });
});

describe("Pbkdf2Pool.close", () => {
  it("rejects queued and running jobs with Connection", async () => {
    const pool = newPool({ concurrency: 1 });
    const jobs = [1, 2, 3].map((i) => pool.derive(`pw${i}`, "salt", ITERATIONS, 32, "sha256"));
    expect(pool.pending).toBe(2);
    const rejected = jobs.map((job) => expectCrossauthRejection(job, ErrorCode.Connection));
    await pool.close();
    await Promise.all(rejected);
    expect(pool.pending).toBe(0);
    expect(pool.threads).toHaveLength(0);
  });

  it("leaves the pool usable: a later derive starts fresh workers", async () => {
    const pool = newPool({ concurrency: 1 });
    await pool.derive("pw", "salt", ITERATIONS, 32, "sha256");
    await pool.close();
    const key = await pool.derive("pw", "salt", ITERATIONS, 32, "sha256");
    expect(key.equals(pbkdf2Sync("pw", "salt", ITERATIONS, 32, "sha256"))).toBe(true);
  });

  it("passes Connection through passwordHash when the default pool is closed meanwhile", async () => {
    const previous = defaultPbkdf2Pool();
    const pool = newPool({ concurrency: 1 });
    setDefaultPbkdf2Pool(pool);
    try {
      const rejected = expectCrossauthRejection(
        passwordHash("pw", { iterations: ITERATIONS }),
        ErrorCode.Connection,
      );
      await pool.close();
      await rejected;
    } finally {
      setDefaultPbkdf2Pool(previous);
    }
  });
});

describe("Pbkdf2Pool options", () => {
  it.each([0, 1.5, 65, -1, Number.NaN])("refuses concurrency %s with Configuration", (concurrency) => {
    expectCrossauthError(() => new Pbkdf2Pool({ concurrency }), ErrorCode.Configuration);
  });

  it("refuses a default pool that is not a Pbkdf2Pool", () => {
    expectCrossauthError(() => setDefaultPbkdf2Pool({} as Pbkdf2Pool), ErrorCode.Configuration);
  });
});

describe.runIf(onLinux)("Pbkdf2Pool thread priority (Linux)", () => {
  it("runs its worker threads at nice 19 and leaves the main thread alone", async () => {
    const mainNice = getPriority();
    const pool = newPool({ concurrency: 2 });
    await Promise.all([1, 2, 3, 4].map((i) => pool.derive(`pw${i}`, "salt", ITERATIONS, 32, "sha256")));
    const threads = pool.threads;
    expect(threads.length).toBe(2);
    expect(pool.lowPriorityThreads).toBe(2);
    for (const { tid, lowPriority } of threads) {
      expect(lowPriority).toBe(true);
      expect(tid).toBeTypeOf("number");
      expect(tid).not.toBe(process.pid);
      expect(threadNice(tid!)).toBe(19);
    }
    expect(getPriority()).toBe(mainNice);
    expect(getPriority(process.pid)).toBe(mainNice);
  });

  it("leaves its threads at the process's nice with lowPriority: false", async () => {
    const mainNice = getPriority();
    const pool = newPool({ concurrency: 1, lowPriority: false });
    await pool.derive("pw", "salt", ITERATIONS, 32, "sha256");
    const [thread] = pool.threads;
    expect(thread?.lowPriority).toBe(false);
    expect(thread?.tid).toBeTypeOf("number");
    expect(threadNice(thread!.tid!)).toBe(mainNice);
    expect(pool.lowPriorityThreads).toBe(0);
  });
});
