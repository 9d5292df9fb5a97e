import { describe, expect, it } from 'vitest';
import { isoTime } from '../src/time.js';

describe('isoTime', () => {
  it('formats as toISOString does, whatever the order of repeats and alternations', () => {
    const now = Date.UTC(2026, 10, 26, 4, 5, 6, 789);
    const expiry = now + 86_400_000;
    const sequence = [now, now, expiry, now, expiry, expiry, now + 1, now, 0, expiry, now + 1];
    expect(sequence.map(isoTime)).toEqual(sequence.map((ms) => new Date(ms).toISOString()));
  });
});
