import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import { Lwm2mRequestError } from '../../src/lwm2m/errors.js';
import { isFresher } from '../../src/lwm2m/observation/observation-service.js';
import { PresenceService } from '../../src/lwm2m/queue/presence-service.js';
import type { Registration } from '../../src/lwm2m/registration/registration.js';

describe('notification order (RFC 7641 §3.4)', () => {
  it('takes newer sequence numbers, across the 24-bit wrap, and anything after 128 s', () => {
    expect(isFresher(undefined, 0, 5, 0)).toBe(true);
    expect(isFresher(5, 0, 6, 1)).toBe(true);
    expect(isFresher(6, 0, 5, 1)).toBe(false); // reordered: dropped
    expect(isFresher(6, 0, 6, 1)).toBe(false); // duplicate
    expect(isFresher(2 ** 24 - 1, 0, 1, 1)).toBe(true); // wrapped
    expect(isFresher(6, 0, 5, 128_001)).toBe(true); // too old to compare
  });
});

describe('queue of a sleeping client', () => {
  const registration: Registration = {
    id: 'q1',
    endpoint: 'sleeper',
    lifetime: 300,
    lwm2mVersion: '1.1',
    binding: 'U',
    queueMode: true,
    address: '::1',
    port: 5000,
    rootPath: '/',
    objectLinks: [],
    supportedContentFormats: [],
    additionalAttributes: {},
    registeredAt: 0,
    lastUpdate: 0,
  };

  it('keeps at most queue-size requests, rejects the oldest with a clear error, and sends the rest in order on wake', async () => {
    const events = new EventBus();
    const presence = new PresenceService({ events, logger: silentLogger(), awakeWindowMs: 60_000, queueSize: 2 });
    const sent: string[] = [];
    const request = (name: string) => presence.schedule(registration, async () => sent.push(name));
    const first = request('first');
    const second = request('second');
    const third = request('third');
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Lwm2mRequestError);
    expect((error as Lwm2mRequestError).kind).toBe('sleeping');
    expect((error as Error).message).toMatch(/queue of 2 requests is full/);
    expect(presence.queueLength('sleeper')).toBe(2);
    events.emit('updated', { registration, previous: registration });
    await Promise.all([second, third]);
    expect(sent).toEqual(['second', 'third']);
    presence.stop();
  });
});

describe('auto-observe paths', () => {
  const base = {
    id: 'a1',
    endpoint: 'auto',
    lifetime: 300,
    lwm2mVersion: '1.1',
    binding: 'U',
    queueMode: false,
    address: '::1',
    port: 5000,
    rootPath: '/',
    supportedContentFormats: [],
    additionalAttributes: {},
    registeredAt: 0,
    lastUpdate: 0,
  };
  const links = (...paths: number[][]) => paths.map((path) => ({ path: path as unknown as Registration['objectLinks'][number]['path'], attributes: {} }));

  it('observes the configured paths the client has, and every listed instance but Security, Server and ACL for all-readable', async () => {
    const { pathsToObserve } = await import('../../src/lwm2m/observation/auto-observe.js');
    const registration: Registration = { ...base, objectLinks: links([0, 0], [1, 0], [3, 0], [3303, 0], [3303, 1], [3304]) };
    const model = { getObject: () => undefined };
    expect(pathsToObserve(registration, ['/3303/0/5700', '/3304/0/5700', '/3315/0/5700'], model)).toEqual([
      [3303, 0, 5700],
      [3304, 0, 5700],
    ]);
    expect(pathsToObserve(registration, ['all-readable'], model)).toEqual([
      [3, 0],
      [3303, 0],
      [3303, 1],
    ]);
  });
});
