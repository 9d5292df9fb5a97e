/**
 * `new Date(ms).toISOString()`, remembering the last two answers: a registration's JSON and
 * its event carry the same millisecond several times (registered, last update, the event's
 * time) around one other (expiry), and formatting a date costs about 1 µs, a noticeable part
 * of serving a Register.
 */
let recentMs = Number.NaN;
let recentIso = '';
let olderMs = Number.NaN;
let olderIso = '';

export function isoTime(ms: number): string {
  if (ms === recentMs) return recentIso;
  if (ms !== olderMs) {
    olderMs = ms;
    olderIso = new Date(ms).toISOString();
  }
  // The one just asked for becomes the most recent (plain swaps: no array on this hot path).
  const iso = olderIso;
  olderMs = recentMs;
  olderIso = recentIso;
  recentMs = ms;
  recentIso = iso;
  return iso;
}
