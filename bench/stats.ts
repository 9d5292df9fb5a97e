/** The `p`th percentile (0–100) of ascending `sorted` samples, nearest rank; 0 for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The median of ascending `sorted` samples (the mean of the middle two for an even count); 0 for none. */
export function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Latency samples in one typed array, reused round after round (it only grows), so that recording one allocates nothing. */
export class LatencySamples {
  private samples = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.samples.length) {
      const larger = new Float64Array(this.samples.length * 2);
      larger.set(this.samples);
      this.samples = larger;
    }
    this.samples[this.count++] = ms;
  }

  clear(): void {
    this.count = 0;
  }

  summary(): LatencySummary {
    const sorted = this.samples.subarray(0, this.count).sort();
    return { count: this.count, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[this.count - 1] ?? 0 };
  }
}
