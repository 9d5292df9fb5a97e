import { describe, expect, it } from 'vitest';
import { DuplicateCache } from '../../src/coap/deduplication.js';

describe('duplicate cache (RFC 7252 §4.5)', () => {
  it('remembers each message of each peer, and what it was answered with, for its lifetime only', () => {
    let now = 0;
    const cache = new DuplicateCache(1000, () => now);
    cache.markProcessing('a|1', 7);
    expect(cache.get('a|1', 7)).toEqual({ state: 'processing' });
    expect(cache.get('b|1', 7)).toBeUndefined(); // the same message ID from another peer is another message
    const reply = Buffer.from([0x60, 0x45, 0x00, 0x07]);
    cache.markAnswered('a|1', 7, reply);
    cache.markProcessing('a|1', 8);
    cache.markAnswered('a|1', 8, undefined);
    expect(cache.get('a|1', 7)).toEqual({ state: 'answered', reply });
    expect(cache.get('a|1', 8)).toEqual({ state: 'answered', reply: undefined });
    expect(cache.size).toBe(2);
    now = 999;
    expect(cache.get('a|1', 7)).toBeDefined();
    now = 1000;
    expect(cache.get('a|1', 7)).toBeUndefined();
    expect(cache.size).toBe(0);
    // Expired, the message ID is free again (a sender may reuse it after the lifetime).
    cache.markProcessing('a|1', 7);
    expect(cache.get('a|1', 7)).toEqual({ state: 'processing' });
  });

  it('keeps arrival order across ring growth: 5 000 messages from 300 peers expire exactly on time', () => {
    let now = 0;
    const cache = new DuplicateCache(10_000, () => now);
    for (let i = 0; i < 5000; i++) {
      now = i;
      cache.markProcessing(`peer|${i % 300}`, i & 0xffff);
    }
    expect(cache.size).toBe(5000);
    now = 10_000 + 2499; // the first 2 500 are due
    cache.sweep();
    expect(cache.size).toBe(2500);
    expect(cache.get('peer|0', 0)).toBeUndefined();
    expect(cache.get(`peer|${2500 % 300}`, 2500)).toEqual({ state: 'processing' });
    now = 20_000;
    cache.sweep();
    expect(cache.size).toBe(0);
  });
});
