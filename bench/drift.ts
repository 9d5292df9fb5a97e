/**
 * drift (`npm run bench -- drift`, not in the default run): how steady this machine is, for
 * reading the other figures. An allocation-heavy loop (small objects through JSON and back, as
 * the hub's notification path allocates about 10 KB a value) is timed in slices of 250 ms on this
 * thread for a minute, with nothing else running.
 *
 * On the 2-core shared VM of the README, an arithmetic loop that touches no memory ran within 5 %
 * of its best in nine slices of ten, while this one ran at half its best speed for spells of one
 * to five seconds: most likely the memory the VM shares with its neighbours, not its cores. The
 * hub's cost per notification moves with it, so the steady notify rounds, paced at half of the
 * best burst rate, can land in a spell where that rate is all the hub can serve. The spells come
 * and go over tens of minutes: four runs of 20 s, at the start of four full runs, found none,
 * though each of those runs had some.
 */
import { median, percentile } from './stats.js';

export interface DriftResult {
  readonly seconds: number;
  readonly slices: number;
  /** Loop iterations per second in the fastest slice. */
  readonly bestPerSecond: number;
  /** Slices' speeds as a share of the best (0–1). */
  readonly p10OfBest: number;
  readonly medianOfBest: number;
  /** Share of the slices (0–1) that ran below three quarters of the best speed. */
  readonly slowShare: number;
  /** The longest run of such slow slices, in seconds. */
  readonly longestSlowSeconds: number;
}

const SLICE_MS = 250;
const SLOW = 0.75;

/** One iteration: an object built, stringified and parsed back (about 300 bytes of garbage). */
function allocate(i: number, carry: number): number {
  const parsed = JSON.parse(JSON.stringify({ value: i, path: [carry, `r${i}`], time: { at: i * 1.5 } })) as { value: number };
  return parsed.value;
}

export function benchDrift(seconds: number): DriftResult {
  const speeds: number[] = [];
  const end = performance.now() + seconds * 1000;
  let carry = 0;
  while (performance.now() < end) {
    const started = performance.now();
    let iterations = 0;
    while (performance.now() - started < SLICE_MS) {
      for (let i = 0; i < 100; i++) carry += allocate(i, carry & 0xff);
      iterations += 100;
    }
    speeds.push((iterations * 1000) / (performance.now() - started));
  }
  const best = Math.max(...speeds);
  let run = 0;
  let longest = 0;
  for (const speed of speeds) {
    run = speed < SLOW * best ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  const sorted = [...speeds].sort((a, b) => a - b);
  return {
    seconds,
    slices: speeds.length,
    bestPerSecond: best,
    p10OfBest: percentile(sorted, 10) / best,
    medianOfBest: median(sorted) / best,
    slowShare: speeds.filter((speed) => speed < SLOW * best).length / speeds.length,
    longestSlowSeconds: (longest * SLICE_MS) / 1000,
  };
}

export function formatDriftResult(r: DriftResult): string {
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  return `${'drift'.padEnd(24)} allocation-heavy JS in ${r.slices} slices of ${SLICE_MS} ms: p10 ${percent(r.p10OfBest)}, median ${percent(r.medianOfBest)} of the best slice; ${percent(r.slowShare)} of the slices below ${percent(SLOW)}, the longest such spell ${r.longestSlowSeconds.toFixed(2)} s`;
}
