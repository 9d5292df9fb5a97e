/**
 * The Redis store against a real redis-server: the memory store's behaviour, and
 * what sharing adds: two hub instances (two connections) see the same clients,
 * and each expired registration is claimed by exactly one of them.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { StoredObservation } from '../../src/store/observation-store.js';
import { openRedisStores, type RedisStores } from '../../src/store/redis-store.js';
import { freePort, REDIS_SERVER, RedisServer } from '../support/redis-server.js';
import { contents, makeRegistration } from './support/registrations.js';

// In CI the suite must run (a missing binary fails it in beforeAll); elsewhere it is skipped, saying why.
const skip = REDIS_SERVER === undefined && !process.env.CI;
if (skip) console.warn('redis-store tests skipped: redis-server not found (apt-get install redis-server, or set REDIS_SERVER)');

describe.skipIf(skip)('RedisRegistrationStore and RedisObservationStore', () => {
  let server: RedisServer;
  let opened: RedisStores[] = [];
  let prefixes = 0;
  let prefix = '';

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await Promise.all(opened.flatMap(({ store, observationStore }) => [store.close(), observationStore.close()]));
    opened = [];
  });

  /** A hub instance's stores; every test has a prefix of its own, so tests share the server but no keys. */
  const open = async (keyPrefix = prefix): Promise<RedisStores> => {
    const stores = await openRedisStores(server.url, { keyPrefix });
    opened.push(stores);
    return stores;
  };
  const fresh = async () => {
    prefix = `test-${process.pid}-${++prefixes}:`;
    return (await open()).store;
  };

  // The behaviour every store shares is in registration-store-behaviour.test.ts, Redis included;
  // here, what Redis's encoding and paging could get wrong.
  describe('behaves as the memory store', () => {
    it('answers undefined for what it does not hold', async () => {
      const store = await fresh();
      expect(await store.getById('nope')).toBeUndefined();
      expect(await store.getByEndpoint('nope')).toBeUndefined();
      expect(await store.getByPeer({ address: '192.0.2.1', port: 1 })).toBeUndefined();
      expect(await store.update('nope', { lifetime: 1 })).toBeUndefined();
      expect(await store.remove('nope')).toBeUndefined();
      expect(await store.count()).toBe(0);
      expect(await contents(store)).toEqual([]);
    });

    it('replaces a registration of the same endpoint and returns the replaced one', async () => {
      const store = await fresh();
      const first = makeRegistration(1);
      const second = makeRegistration(1, { id: 'second', address: '10.9.9.9', port: 7000 });
      await store.add(first);
      expect(await store.add(second)).toEqual(first);
      expect(await store.getById(first.id)).toBeUndefined();
      expect(await store.getByEndpoint(first.endpoint)).toEqual(second);
      expect(await store.getByPeer({ address: first.address, port: first.port })).toBeUndefined();
      expect(await store.getByPeer({ address: '10.9.9.9', port: 7000 })).toEqual(second);
      expect(await store.count()).toBe(1);
      expect(await contents(store)).toEqual([second]);
    });

    it('moves the peer index when only the port changes, and keeps it when the peer stays', async () => {
      const store = await fresh();
      const r = makeRegistration(1);
      await store.add(r);
      await store.update(r.id, { port: 40000 });
      expect(await store.getByPeer({ address: r.address, port: r.port })).toBeUndefined();
      expect((await store.getByPeer({ address: r.address, port: 40000 }))?.id).toBe(r.id);
      await store.update(r.id, { lifetime: 120 });
      expect(await store.getByPeer({ address: r.address, port: 40000 })).toEqual({ ...r, port: 40000, lifetime: 120 });
    });

    it('keeps every field an update does not name, byte for byte, whatever the strings hold', async () => {
      const store = await fresh();
      const r = makeRegistration(1, {
        address: 'fe80::1%eth0',
        objectLinks: [
          { path: [3, 0], attributes: { ver: '1.1', odd: 'a"b\\c}{][,:' } },
          { path: [4], attributes: { obs: true, pmin: '10' } },
        ],
        additionalAttributes: { 'k"ey': 'va}l,ue', unicode: 'Grüße ✓ \u0001\u2028', empty: '' },
        supportedContentFormats: [],
        rootPath: '/{weird},"path"',
      });
      await store.add(r);
      const result = await store.update(r.id, { objectLinks: [], binding: 'UQ', queueMode: false, lastUpdate: r.lastUpdate + 1 });
      const expected = { ...r, objectLinks: [], binding: 'UQ', queueMode: false, lastUpdate: r.lastUpdate + 1 };
      expect(result?.current).toEqual(expected);
      expect(await store.getById(r.id)).toEqual(expected);
      expect(await store.getByPeer({ address: 'fe80::1%eth0', port: r.port })).toEqual(expected);
    });

    it('clears a field an update sets to undefined, and adds one the registration lacked', async () => {
      const store = await fresh();
      const r = makeRegistration(1, { smsNumber: '+15550100' });
      await store.add(r);
      const result = await store.update(r.id, { smsNumber: undefined });
      expect(result?.current.smsNumber).toBeUndefined();
      expect(result?.current).not.toHaveProperty('smsNumber');
      expect((await store.getById(r.id))?.smsNumber).toBeUndefined();
      await store.update(r.id, { smsNumber: '+15550199' });
      expect((await store.getById(r.id))?.smsNumber).toBe('+15550199');
    });

    it('lists a set larger than one ZSCAN page, each registration once', async () => {
      const store = await fresh();
      // Over 128 members the zset leaves its compact encoding and ZSCAN pages for real.
      const all = Array.from({ length: 700 }, (_, i) => makeRegistration(i));
      await Promise.all(all.map((r) => store.add(r)));
      const listed = await contents(store);
      expect(listed.length).toBe(700);
      expect(listed).toEqual([...all].sort((a, b) => (a.id < b.id ? -1 : 1)));
      expect(await store.count()).toBe(700);
    });
  });

  describe('shared by two instances', () => {
    it('each sees the registrations, updates and removals of the other', async () => {
      const a = await fresh();
      const { store: b } = await open();
      const r = makeRegistration(1);
      await a.add(r);
      expect(await b.getByEndpoint(r.endpoint)).toEqual(r);
      expect(await b.getByPeer({ address: r.address, port: r.port })).toEqual(r);
      const moved = await b.update(r.id, { address: '10.5.5.5', port: 6000 });
      expect(await a.getByPeer({ address: '10.5.5.5', port: 6000 })).toEqual(moved?.current);
      const second = makeRegistration(1, { id: 'again' });
      expect(await b.add(second)).toEqual(moved?.current);
      expect(await a.getById(r.id)).toBeUndefined();
      expect(await contents(a)).toEqual([second]);
      expect(await a.count()).toBe(1);
      expect(await a.remove(second.id)).toEqual(second);
      expect(await b.count()).toBe(0);
    });

    it('does not see the keys of another prefix', async () => {
      const a = await fresh();
      const { store: other } = await open(`${prefix}other:`);
      await a.add(makeRegistration(1));
      expect(await other.count()).toBe(0);
      expect(await contents(other)).toEqual([]);
      expect(await other.claimExpired(Number.MAX_SAFE_INTEGER, 0, 100)).toEqual([]);
      expect(await a.count()).toBe(1);
    });
  });

  describe('claimExpired', () => {
    const base = 1_700_000_000_000;
    const grace = 2000;

    it('claims nothing before deadline + grace, then each registration exactly once', async () => {
      const a = await fresh();
      const { store: b } = await open();
      const rs = Array.from({ length: 300 }, (_, i) => makeRegistration(i, { lifetime: 1, lastUpdate: base }));
      const keeper = makeRegistration(1000, { lifetime: 3600, lastUpdate: base });
      await Promise.all([...rs, keeper].map((r) => a.add(r)));

      const deadline = base + 1000 + grace;
      expect(await Promise.all([a.claimExpired(deadline - 1, grace, 1000), b.claimExpired(deadline - 1, grace, 1000)])).toEqual([[], []]);
      expect(await a.count()).toBe(301);

      // Both instances poll at once, in batches, as the registration handler does.
      const drain = async (store: typeof a) => {
        const claimed: string[] = [];
        for (;;) {
          const batch = await store.claimExpired(deadline, grace, 25);
          claimed.push(...batch.map((r) => r.id));
          if (batch.length < 25) return claimed;
        }
      };
      const [byA, byB] = await Promise.all([drain(a), drain(b)]);
      const all = [...byA, ...byB];
      expect(all.length).toBe(300);
      expect(new Set(all)).toEqual(new Set(rs.map((r) => r.id)));
      expect(byA.length).toBeGreaterThan(0);
      expect(byB.length).toBeGreaterThan(0);

      // Claimed means gone, from every index, for both.
      expect(await b.count()).toBe(1);
      expect(await b.getById(rs[0]!.id)).toBeUndefined();
      expect(await b.getByEndpoint(rs[0]!.endpoint)).toBeUndefined();
      expect(await b.getByPeer({ address: rs[0]!.address, port: rs[0]!.port })).toBeUndefined();
      expect(await contents(a)).toEqual([keeper]);
      expect(await Promise.all([a.claimExpired(deadline + 60_000, grace, 1000), b.claimExpired(deadline + 60_000, grace, 1000)])).toEqual([
        [],
        [],
      ]);
    });

    it('returns the claimed registrations whole, at most limit at a time', async () => {
      const a = await fresh();
      const rs = Array.from({ length: 5 }, (_, i) => makeRegistration(i, { lifetime: 1, lastUpdate: base + i }));
      for (const r of rs) await a.add(r);
      const first = await a.claimExpired(base + 10_000, grace, 2);
      expect(first).toEqual([rs[0], rs[1]]); // earliest deadlines first
      expect(await a.claimExpired(base + 10_000, grace, 0)).toEqual([]);
      expect(await a.claimExpired(base + 10_000, grace, 10)).toEqual([rs[2], rs[3], rs[4]]);
    });

    it('claims one registration once when two instances race for it', async () => {
      for (let round = 0; round < 20; round++) {
        const a = await fresh();
        const { store: b } = await open();
        const r = makeRegistration(round, { lifetime: 1, lastUpdate: base });
        await a.add(r);
        const [fromA, fromB] = await Promise.all([
          a.claimExpired(base + 1000 + grace, grace, 10),
          b.claimExpired(base + 1000 + grace, grace, 10),
        ]);
        expect([...fromA, ...fromB]).toEqual([r]);
      }
    });

    it('does not claim a registration at the deadline an update has moved', async () => {
      const a = await fresh();
      const { store: b } = await open();
      const r = makeRegistration(1, { lifetime: 1, lastUpdate: base });
      await a.add(r);
      await b.update(r.id, { lastUpdate: base + 5000 });
      expect(await a.claimExpired(base + 1000 + grace, grace, 10)).toEqual([]);
      expect(await a.claimExpired(base + 6000 + grace - 1, grace, 10)).toEqual([]);
      // A longer lifetime moves it too.
      await a.update(r.id, { lifetime: 60 });
      expect(await b.claimExpired(base + 6000 + grace, grace, 10)).toEqual([]);
      const claimed = await b.claimExpired(base + 5000 + 60_000 + grace, grace, 10);
      expect(claimed).toEqual([{ ...r, lastUpdate: base + 5000, lifetime: 60 }]);
    });

    it('claims registrations with real clocks: lt=1 expires after a second plus grace', async () => {
      const a = await fresh();
      const { store: b } = await open();
      const r = makeRegistration(1, { lifetime: 1, lastUpdate: Date.now() });
      await a.add(r);
      expect(await b.claimExpired(Date.now(), 200, 10)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const [fromA, fromB] = await Promise.all([a.claimExpired(Date.now(), 200, 10), b.claimExpired(Date.now(), 200, 10)]);
      expect([...fromA, ...fromB].map((x) => x.id)).toEqual([r.id]);
    });
  });

  describe('observations', () => {
    const observation = (n: number, overrides: Partial<StoredObservation> = {}): StoredObservation => ({
      id: `0a0b${n.toString(16).padStart(4, '0')}`,
      endpoint: `urn:dev:${n}`,
      registrationId: `reg-${n}`,
      path: [3303, 0, 5700],
      contentFormat: 112,
      createdAt: 1_700_000_000_000 + n,
      ...overrides,
    });

    it('adds, finds, lists and removes across two instances', async () => {
      await fresh();
      const { observationStore: a } = opened[0]!;
      const { observationStore: b } = await open();
      const o1 = observation(1);
      const o2 = observation(2, {
        path: [],
        paths: [
          [3, 0, 0],
          [3303, 0],
        ],
        contentFormat: undefined,
      });
      await a.add(o1);
      await a.add(o2);
      expect(await b.get(o1.id)).toEqual(o1);
      expect(await b.get(o2.id)).toEqual(o2);
      expect(await b.get('ffff')).toBeUndefined();
      expect((await b.list()).sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([o1, o2]);
      await b.remove(o1.id);
      await b.remove('ffff');
      expect(await a.get(o1.id)).toBeUndefined();
      expect(await a.list()).toEqual([o2]);
      // Adding again replaces.
      await b.add({ ...o2, contentFormat: 11542 });
      expect(await a.list()).toEqual([{ ...o2, contentFormat: 11542 }]);
    });

    it('lists more observations than one MGET page', async () => {
      await fresh();
      const { observationStore } = opened[0]!;
      const all = Array.from({ length: 450 }, (_, i) => observation(i));
      await Promise.all(all.map((o) => observationStore.add(o)));
      expect((await observationStore.list()).sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(all);
    });
  });

  describe('connection', () => {
    it('closes the shared connection once both stores are closed', async () => {
      prefix = `test-${process.pid}-${++prefixes}:`;
      const { store, observationStore } = await openRedisStores(server.url, { keyPrefix: prefix });
      const admin = new Redis(server.url);
      try {
        const clients = async () =>
          String(await admin.client('LIST'))
            .split('\n')
            .filter((line: string) => line.includes('name=lwm2m-hub ')).length;
        const before = await clients();
        expect(before).toBeGreaterThanOrEqual(1);
        await store.close();
        await store.close();
        expect(await observationStore.get('x')).toBeUndefined(); // still usable
        await observationStore.close();
        await expect.poll(clients).toBe(before - 1);
      } finally {
        await admin.quit();
      }
    });

    it('rejects quickly, naming the URL, when Redis is unreachable', async () => {
      const port = await freePort(); // nothing listens here
      const started = Date.now();
      await expect(openRedisStores(`redis://127.0.0.1:${port}/0`)).rejects.toThrow(
        new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port}/0 is unreachable: .*ECONNREFUSED`),
      );
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('gives up after a few seconds on a server that accepts but never answers', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      try {
        const started = Date.now();
        await expect(openRedisStores(`redis://127.0.0.1:${port}`)).rejects.toThrow(
          `Redis at redis://127.0.0.1:${port} is unreachable: no connection within`,
        );
        expect(Date.now() - started).toBeLessThan(8000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('does not show the password of an unreachable Redis', async () => {
      const port = await freePort();
      const error = await openRedisStores(`redis://user:s3cret@127.0.0.1:${port}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(`redis://user:***@127.0.0.1:${port}`);
      expect((error as Error).message).not.toContain('s3cret');
    });
  });
});
