/**
 * Typing TOTP codes as a user with an authenticator app would, within the server's rules: a code is
 * accepted when its time step is the previous, current or next one, and each step at most once per
 * secret, in increasing order (replay protection). {@link TotpTyper} picks, for each code, the
 * earliest step that is still unused and inside the window when the server checks it.
 */
import {
  TOTP_DRIFT_STEPS,
  TOTP_PERIOD_SECONDS,
  totpCode,
  totpStep,
} from "../../packages/backend/src/authenticators/totp-code.js";

/** Length of a time step in milliseconds. */
const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
/**
 * The previous step is not chosen this close to the end of the current one: it could leave the
 * window before the server checks the code.
 */
const STEP_MARGIN_MS = 3000;

/** A code to type, with the time step it belongs to. */
export interface TypedCode {
  /** The 6-digit code. */
  code: string;
  /** Its RFC 6238 time step. */
  step: number;
  /** The step containing the time it was computed at. */
  currentStep: number;
  /** Milliseconds waited for the clock before the code could be computed (0 almost always). */
  waitedMs: number;
}

/**
 * Computes the codes a user types, remembering the last step used so that no code is a replay.
 * Codes are computed relative to the current time, when they are about to be entered.
 */
export class TotpTyper {
  /** The step of the last code handed out (undefined before the first). */
  lastStep: number | undefined;

  /**
   * @param secret - the base32 secret shown on the set-up page
   * @param now - the clock (milliseconds since the epoch)
   */
  constructor(
    readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The code of the earliest acceptable step: the previous one (or the current one near the end of
   * a step) for the first code, after that the step following the last one used. When that step is
   * beyond the window (the next step is the latest accepted), waits until the clock reaches the step
   * before it — at most one step (30 s); this happens only when more codes are typed within one
   * step than the window holds.
   * @param prefer - `previous`, `current` or `next`: the step relative to now to use when it is
   *   acceptable (still never a used step nor one that may leave the window); default the earliest
   * @throws Error when the wait would exceed one step (a broken clock)
   */
  async next(prefer?: "previous" | "current" | "next"): Promise<TypedCode> {
    let waitedMs = 0;
    for (;;) {
      const time = this.now();
      const current = totpStep(time);
      const nearEnd = (current + 1) * STEP_MS - time < STEP_MARGIN_MS;
      const offset = prefer === "next" ? 1 : prefer === "current" ? 0 : -TOTP_DRIFT_STEPS;
      let step = Math.max(current + offset, nearEnd ? current : current - TOTP_DRIFT_STEPS);
      if (this.lastStep !== undefined) step = Math.max(step, this.lastStep + 1);
      if (step <= current + TOTP_DRIFT_STEPS) {
        this.lastStep = step;
        const code = await totpCode(this.secret, step * STEP_MS);
        return { code, step, currentStep: current, waitedMs };
      }
      // Wait for the step that puts `step` at the edge of the window.
      const until = (step - TOTP_DRIFT_STEPS) * STEP_MS;
      const delay = until - time + 5;
      if (delay > STEP_MS + 1000) throw new Error(`TOTP step ${step} is ${delay} ms away`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      waitedMs += delay;
    }
  }
}
