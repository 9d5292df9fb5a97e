/**
 * One behaviour suite for every RegistrationStore: the file and Redis stores must
 * answer exactly as the memory store does.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileRegistrationStore } from '../../src/store/file-store.js';
import { MemoryRegistrationStore } from '../../src/store/memory-store.js';
import { openRedisStores } from '../../src/store/redis-store.js';
import type { RegistrationStore } from '../../src/store/registration-store.js';
import { REDIS_SERVER, RedisServer } from '../support/redis-server.js';
import { contents, makeRegistration, tempDir } from './support/registrations.js';

interface Subject {
  readonly name: string;
  open(): Promise<{ store: RegistrationStore; cleanup: () => Promise<void> }>;
}

const subjects: Subject[] = [
  { name: 'MemoryRegistrationStore', open: async () => ({ store: new MemoryRegistrationStore(), cleanup: async () => {} }) },
  {
    name: 'FileRegistrationStore',
    open: async () => {
      const { dir, cleanup } = await tempDir();
      const store = await FileRegistrationStore.open(dir);
      return { store, cleanup: async () => (await store.close(), await cleanup()) };
    },
  },
];

// One redis-server for the file, started on first use; each store gets a key prefix of its own.
// In CI it must run (as in redis-store.test.ts); elsewhere it is left out without redis-server.
let redis: Promise<RedisServer> | undefined;
let redisPrefixes = 0;
afterAll(async () => (await redis)?.stop());
if (REDIS_SERVER !== undefined || process.env.CI) {
  subjects.push({
    name: 'RedisRegistrationStore',
    open: async () => {
      redis ??= RedisServer.start();
      const stores = await openRedisStores((await redis).url, { keyPrefix: `behaviour-${process.pid}-${++redisPrefixes}:` });
      return { store: stores.store, cleanup: async () => (await stores.store.close(), await stores.observationStore.close()) };
    },
  });
}

describe.each(subjects)('$name', (subject) => {
  let store: RegistrationStore;
  let cleanup: (() => Promise<void>) | undefined;
  const open = async () => {
    ({ store, cleanup } = await subject.open());
    return store;
  };
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('finds an added registration by id, endpoint and peer', async () => {
    await open();
    const r = makeRegistration(1);
    expect(await store.add(r)).toBeUndefined();
    expect(await store.getById(r.id)).toEqual(r);
    expect(await store.getByEndpoint(r.endpoint)).toEqual(r);
    expect(await store.getByPeer({ address: r.address, port: r.port })).toEqual(r);
    expect(await store.count()).toBe(1);
  });

  it('answers undefined for what it does not hold', async () => {
    await open();
    expect(await store.getById('nope')).toBeUndefined();
    expect(await store.getByEndpoint('nope')).toBeUndefined();
    expect(await store.getByPeer({ address: '192.0.2.1', port: 1 })).toBeUndefined();
    expect(await store.update('nope', { lifetime: 1 })).toBeUndefined();
    expect(await store.remove('nope')).toBeUndefined();
    expect(await store.count()).toBe(0);
  });

  it('replaces a registration of the same endpoint and returns the replaced one', async () => {
    await open();
    const first = makeRegistration(1);
    const second = makeRegistration(1, { id: 'second', address: '10.9.9.9', port: 7000 });
    await store.add(first);
    expect(await store.add(second)).toEqual(first);
    expect(await store.getById(first.id)).toBeUndefined();
    expect(await store.getByEndpoint(first.endpoint)).toEqual(second);
    expect(await store.getByPeer({ address: first.address, port: first.port })).toBeUndefined();
    expect(await store.getByPeer({ address: '10.9.9.9', port: 7000 })).toEqual(second);
    expect(await store.count()).toBe(1);
  });

  it('keeps the peer index of a replacement registered from the same address', async () => {
    await open();
    const first = makeRegistration(1);
    const second = makeRegistration(1, { id: 'second' });
    await store.add(first);
    await store.add(second);
    expect(await store.getByPeer({ address: first.address, port: first.port })).toEqual(second);
  });

  it('applies an update, returns previous and current, and moves the peer index', async () => {
    await open();
    const r = makeRegistration(1);
    await store.add(r);
    const result = await store.update(r.id, { address: '10.200.0.1', port: 9999, lifetime: 60, lastUpdate: r.lastUpdate + 5000 });
    expect(result?.previous).toEqual(r);
    expect(result?.current).toEqual({ ...r, address: '10.200.0.1', port: 9999, lifetime: 60, lastUpdate: r.lastUpdate + 5000 });
    expect(await store.getById(r.id)).toEqual(result?.current);
    expect(await store.getByPeer({ address: r.address, port: r.port })).toBeUndefined();
    expect(await store.getByPeer({ address: '10.200.0.1', port: 9999 })).toEqual(result?.current);
    expect(await store.getByEndpoint(r.endpoint)).toEqual(result?.current);
  });

  it('clears a field an update sets to undefined', async () => {
    await open();
    const r = makeRegistration(1, { smsNumber: '+15550100' });
    await store.add(r);
    const result = await store.update(r.id, { smsNumber: undefined });
    expect(result?.current.smsNumber).toBeUndefined();
    expect((await store.getById(r.id))?.smsNumber).toBeUndefined();
  });

  it('leaves the peer index of another registration alone when moving away from a shared address', async () => {
    await open();
    const a = makeRegistration(1);
    const b = makeRegistration(2, { address: a.address, port: a.port });
    await store.add(a);
    await store.add(b); // b now owns the peer index
    await store.update(a.id, { address: '10.77.0.1', port: 1 });
    expect(await store.getByPeer({ address: a.address, port: a.port })).toEqual(b);
    await store.remove(a.id);
    expect(await store.getByPeer({ address: a.address, port: a.port })).toEqual(b);
  });

  it('removes a registration from every index and returns it', async () => {
    await open();
    const r = makeRegistration(1);
    const other = makeRegistration(2);
    await store.add(r);
    await store.add(other);
    expect(await store.remove(r.id)).toEqual(r);
    expect(await store.getById(r.id)).toBeUndefined();
    expect(await store.getByEndpoint(r.endpoint)).toBeUndefined();
    expect(await store.getByPeer({ address: r.address, port: r.port })).toBeUndefined();
    expect(await store.remove(r.id)).toBeUndefined();
    expect(await store.count()).toBe(1);
    expect(await store.getById(other.id)).toEqual(other);
  });

  it('lists every registration it holds', async () => {
    await open();
    const all = Array.from({ length: 20 }, (_, i) => makeRegistration(i));
    for (const r of all) await store.add(r);
    await store.remove(all[3]!.id);
    const expected = all.filter((_, i) => i !== 3).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(await contents(store)).toEqual(expected);
    expect(await store.count()).toBe(19);
  });

  it('takes concurrent changes in the order they were made', async () => {
    await open();
    const rs = Array.from({ length: 50 }, (_, i) => makeRegistration(i));
    await Promise.all(rs.map((r) => store.add(r)));
    const results = await Promise.all([store.update(rs[0]!.id, { lifetime: 1 }), store.remove(rs[0]!.id), store.update(rs[0]!.id, { lifetime: 2 })]);
    expect(results[0]?.current.lifetime).toBe(1);
    expect(results[1]?.lifetime).toBe(1);
    expect(results[2]).toBeUndefined();
    expect(await store.count()).toBe(49);
  });
});
