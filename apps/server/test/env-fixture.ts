/**
 * Test helper: a clean environment for the server's configuration (every `CROSSAUTH_*` variable,
 * `DATABASE_URL`, `PORT`, `HOST` and `NODE_ENV` cleared, then the given ones set) and a temporary
 * data directory; both undone by `restore()`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MANAGED = /^(CROSSAUTH_|DATABASE_URL$|PORT$|HOST$|NODE_ENV$)/;

/** A temporary data directory and a controlled environment. */
export class EnvFixture {
  /** The data directory (`CROSSAUTH_DATA_DIR`). */
  readonly dataDir: string;
  private readonly saved: Record<string, string | undefined> = {};

  /**
   * @param vars - variables to set besides `CROSSAUTH_DATA_DIR` (e.g. fast PBKDF2 for tests)
   */
  constructor(vars: Record<string, string> = {}) {
    this.dataDir = mkdtempSync(join(tmpdir(), "crossauth-server-"));
    for (const name of Object.keys(process.env)) {
      if (MANAGED.test(name)) {
        this.saved[name] = process.env[name];
        delete process.env[name];
      }
    }
    this.set({ CROSSAUTH_DATA_DIR: this.dataDir, CROSSAUTH_PBKDF2_ITERATIONS: "1000", ...vars });
  }

  /** Sets (or, with undefined, removes) variables until {@link restore}. */
  set(vars: Record<string, string | undefined>): void {
    for (const [name, value] of Object.entries(vars)) {
      if (!Object.hasOwn(this.saved, name)) this.saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }

  /** Puts the environment back and deletes the data directory. */
  restore(): void {
    for (const name of Object.keys(process.env)) {
      if (MANAGED.test(name) && !Object.hasOwn(this.saved, name)) delete process.env[name];
    }
    for (const [name, value] of Object.entries(this.saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
