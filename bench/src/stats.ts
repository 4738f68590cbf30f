/**
 * Small statistics helpers: percentiles of recorded latencies, and medians with min–max over rounds.
 * @module
 */

/** Median and range of a value over rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The median, minimum and maximum of values (NaN for none). */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/**
 * A ratio of two spreads: the ratio of the medians, and the extreme ratios of their ranges
 * (min = a.min / b.max, max = a.max / b.min).
 */
export function ratio(a: Spread, b: Spread): Spread {
  return { median: a.median / b.median, min: a.min / b.max, max: a.max / b.min };
}

/** Latencies in milliseconds, recorded into a growing buffer. */
export class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private length = 0;

  /** Number of values recorded. */
  get count(): number {
    return this.length;
  }

  add(ms: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = ms;
  }

  /** Mean and percentiles (nearest rank) in ms; zeros when empty. */
  summary(): { mean: number; p50: number; p90: number; p99: number; max: number } {
    if (this.length === 0) return { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = this.values.slice(0, this.length).sort();
    const at = (q: number): number =>
      sorted[Math.min(this.length - 1, Math.ceil(q * this.length) - 1)] as number;
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      mean: sum / this.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted[this.length - 1] as number,
    };
  }
}
