import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpiryScheduler } from '../../src/lwm2m/registration/expiry-scheduler.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('expiry scheduler', () => {
  it('fires each id once at its latest deadline, in deadline order', () => {
    const fired: [string, number][] = [];
    const scheduler = new ExpiryScheduler((id, deadline) => fired.push([id, deadline]));
    scheduler.schedule('a', 3000);
    scheduler.schedule('b', 1000);
    scheduler.schedule('c', 2000);
    scheduler.schedule('b', 4000); // an update moves b's deadline
    scheduler.cancel('c'); // a deregistration
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([
      ['a', 3000],
      ['b', 4000],
    ]);
    expect(scheduler.size).toBe(0);
  });

  it('re-arms its one timer for deadlines beyond what setTimeout can wait', () => {
    const fired: string[] = [];
    const scheduler = new ExpiryScheduler((id) => fired.push(id));
    const farAway = 2 ** 31 + 5000; // lifetimes up to 2^32-1 s are legal
    scheduler.schedule('far', farAway);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual(['far']);
  });

  it('keeps its heap bounded while the same registrations update over and over', () => {
    const fired: string[] = [];
    const scheduler = new ExpiryScheduler((id) => fired.push(id));
    for (let round = 1; round <= 1000; round++) for (let i = 0; i < 100; i++) scheduler.schedule(`r${i}`, 1_000_000 + round);
    expect(scheduler.size).toBe(100);
    expect((scheduler as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(4 * 100 + 64 + 1);
    vi.advanceTimersByTime(2_000_000);
    expect(fired.length).toBe(100);
  });

  it('schedules the stored registrations of a restart at once and fires them in deadline order, with later changes applied', () => {
    const fired: [string, number][] = [];
    const scheduler = new ExpiryScheduler((id, deadline) => fired.push([id, deadline]));
    // Deadlines in no order (a log replays registrations in the order they were last written).
    const deadlines = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) * 10 + 10);
    scheduler.scheduleAll(deadlines.map((deadline, i) => ({ id: `r${i}`, deadline })));
    scheduler.schedule('r0', 20_000); // updated after the restart
    scheduler.cancel('r1'); // deregistered after the restart
    vi.advanceTimersByTime(30_000);
    expect(fired.length).toBe(999);
    expect(fired.map(([, deadline]) => deadline)).toEqual([...fired.map(([, deadline]) => deadline)].sort((a, b) => a - b));
    expect(fired.at(-1)).toEqual(['r0', 20_000]);
    expect(fired.some(([id]) => id === 'r1')).toBe(false);
    expect(scheduler.size).toBe(0);
  });
});
