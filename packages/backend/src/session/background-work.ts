/**
 * Work started without awaiting it (so its duration is not observable by the caller), tracked so
 * that it can be awaited on shutdown and in tests.
 * @module
 */
import { CrossauthLogger, j } from "@crossauth/common";

/** Tracks fire-and-forget work and logs its failures. */
export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>();

  /**
   * Starts `work` now without waiting for it; a failure is logged (by name, never with secrets).
   * @param name - what the work is, for the log
   * @param work - the work
   */
  readonly run = (name: string, work: () => Promise<void>): void => {
    const promise = Promise.resolve()
      .then(work)
      .catch((err: unknown) => {
        CrossauthLogger.logger.error(j({ msg: `Background work failed: ${name}`, err }));
      })
      .finally(() => {
        this.pending.delete(promise);
      });
    this.pending.add(promise);
  };

  /** Resolves once every piece of work started so far (and any it started) has finished. */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
