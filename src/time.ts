/**
 * `new Date(ms).toISOString()`, remembering the last answer: a registration's JSON and its
 * event carry the same millisecond several times, and formatting a date costs about 1 µs,
 * a noticeable part of serving a Register.
 */
let lastMs = Number.NaN;
let lastIso = '';

export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
