/** What the file store held before close() is there after open(): adds, updates, removals, compaction. */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { CorruptRecord } from '../../src/store/append-log.js';
import { FileRegistrationStore, REGISTRATIONS_LOG } from '../../src/store/file-store.js';
import { MemoryRegistrationStore } from '../../src/store/memory-store.js';
import type { RegistrationStore } from '../../src/store/registration-store.js';
import { contents, makeRegistration, tempDir } from './support/registrations.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  return dir;
}

async function reopen(dir: string, problems: CorruptRecord[] = []): Promise<FileRegistrationStore> {
  const store = await FileRegistrationStore.open(dir, { onCorrupt: (p) => problems.push(p) });
  cleanups.unshift(() => store.close());
  return store;
}

describe('FileRegistrationStore across restarts', () => {
  it('has every registration written before close() after open()', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir);
    const all = Array.from({ length: 100 }, (_, i) => makeRegistration(i));
    await Promise.all(all.map((r) => store.add(r)));
    await store.close();

    const problems: CorruptRecord[] = [];
    const again = await reopen(dir, problems);
    expect(problems).toEqual([]);
    expect(await again.count()).toBe(100);
    for (const r of all) {
      expect(await again.getById(r.id)).toEqual(r);
      expect(await again.getByEndpoint(r.endpoint)).toEqual(r);
      expect(await again.getByPeer(r)).toEqual(r);
    }
  });

  it('replays updates, replacements and removals, including the peer index', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir);
    const [a, b, c] = [makeRegistration(1, { smsNumber: '+15550100' }), makeRegistration(2), makeRegistration(3)];
    await store.add(a);
    await store.add(b);
    await store.add(c);
    await store.update(a.id, { address: '10.99.0.1', port: 1234, lastUpdate: 42, smsNumber: undefined });
    await store.remove(b.id);
    const c2 = makeRegistration(3, { id: 'c-again', lifetime: 60 });
    await store.add(c2);
    const expected = await contents(store);
    await store.close();

    const again = await reopen(dir);
    expect(await contents(again)).toEqual(expected);
    const a2 = await again.getById(a.id);
    expect(a2).toMatchObject({ address: '10.99.0.1', port: 1234, lastUpdate: 42 });
    expect(a2 && 'smsNumber' in a2 && a2.smsNumber !== undefined).toBe(false);
    expect(await again.getByPeer({ address: '10.99.0.1', port: 1234 })).toEqual(a2);
    expect(await again.getByPeer(a)).toBeUndefined();
    expect(await again.getById(b.id)).toBeUndefined();
    expect(await again.getById(c.id)).toBeUndefined();
    expect(await again.getByEndpoint(c.endpoint)).toEqual(c2);
  });

  it('keeps appending after a reopen', async () => {
    const dir = await dataDir();
    for (let round = 0; round < 3; round++) {
      const store = await FileRegistrationStore.open(dir);
      await store.add(makeRegistration(round));
      await store.close();
    }
    const again = await reopen(dir);
    expect(await again.count()).toBe(3);
  });

  it('compacts the log once it outgrows the live set, and reopens to the same state', async () => {
    const dir = await dataDir();
    const file = path.join(dir, REGISTRATIONS_LOG);
    const store = await FileRegistrationStore.open(dir, { compaction: { ratio: 2, minRecords: 50 } });
    const live = Array.from({ length: 10 }, (_, i) => makeRegistration(i));
    for (const r of live) await store.add(r);
    // 10 live registrations updated over and over: the log grows, the live set does not.
    let biggest = 0;
    for (let i = 0; i < 200; i++) {
      const r = live[i % live.length]!;
      await store.update(r.id, { lastUpdate: r.lastUpdate + i, port: 6000 + i });
      biggest = Math.max(biggest, (await stat(file)).size);
    }
    await store.close();
    expect(store.stats.compactions).toBeGreaterThanOrEqual(2);
    const size = (await stat(file)).size;
    expect(size).toBeLessThan(biggest);
    // Never more than ratio × live + minRecords records (+ the one that triggers it).
    expect((await readFile(file, 'utf8')).trimEnd().split('\n').length).toBeLessThanOrEqual(2 * 10 + 50 + 1);

    const expected = await contents(store);
    const problems: CorruptRecord[] = [];
    const again = await reopen(dir, problems);
    expect(problems).toEqual([]);
    expect(await contents(again)).toEqual(expected);
    for (const r of expected) expect(await again.getByPeer(r)).toEqual(r);
  });

  it('compacts on open a log left long by an earlier run', async () => {
    const dir = await dataDir();
    const file = path.join(dir, REGISTRATIONS_LOG);
    const store = await FileRegistrationStore.open(dir, { compaction: false });
    const r = makeRegistration(1);
    await store.add(r);
    for (let i = 0; i < 300; i++) await store.update(r.id, { lastUpdate: i });
    await store.close();
    const before = (await stat(file)).size;

    const again = await FileRegistrationStore.open(dir, { compaction: { minRecords: 100 } });
    cleanups.unshift(() => again.close());
    expect(again.stats.compactions).toBe(1);
    expect((await stat(file)).size).toBeLessThan(before / 10);
    expect(await again.getById(r.id)).toEqual({ ...r, lastUpdate: 299 });
  });

  it('keeps the peer with the registration that came to it last, across a compaction', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir, { compaction: false });
    const older = makeRegistration(1);
    const newer = makeRegistration(2);
    await store.add(older);
    await store.add(newer);
    // The older registration moves to the newer one's address: it owns that peer now.
    await store.update(older.id, { address: newer.address, port: newer.port });
    expect((await store.getByPeer(newer))?.id).toBe(older.id);
    await store.close();

    const compacting = await FileRegistrationStore.open(dir, { compaction: { ratio: 0, minRecords: 0 } });
    expect(compacting.stats.compactions).toBe(1);
    await compacting.close();
    const again = await reopen(dir);
    expect((await again.getByPeer(newer))?.id).toBe(older.id);
  });

  it('ignores a compaction left half-done (.tmp) and keeps the log', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir);
    const r = makeRegistration(1);
    await store.add(r);
    await store.close();
    await writeFile(path.join(dir, `${REGISTRATIONS_LOG}.tmp`), 'half a snapsh');
    const again = await reopen(dir);
    expect(await contents(again)).toEqual([r]);
    await expect(stat(path.join(dir, `${REGISTRATIONS_LOG}.tmp`))).rejects.toThrow(/ENOENT/);
  });

  it('refuses changes after close() but still answers reads', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir);
    const r = makeRegistration(1);
    await store.add(r);
    await store.close();
    await expect(store.add(makeRegistration(2))).rejects.toThrow(/closed/);
    expect(await store.getById(r.id)).toEqual(r);
    await store.close(); // twice is fine
  });

  it('refuses, before anything changes, a registration or change the log could not give back', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir);
    cleanups.unshift(() => store.close());
    const bad = makeRegistration(1, { port: Number.NaN });
    await expect(store.add(bad)).rejects.toThrow(/port missing or of the wrong type/);
    expect(await store.count()).toBe(0);
    const r = makeRegistration(2);
    await store.add(r);
    await expect(store.update(r.id, { lifetime: Number.POSITIVE_INFINITY })).rejects.toThrow(/lifetime of the wrong type/);
    await expect(store.update(r.id, { endpoint: 'other' } as never)).rejects.toThrow(/identifies the registration/);
    expect(await store.getById(r.id)).toEqual(r);
  });

  it('replays a change of a field it does not know as it was made', async () => {
    const dir = await dataDir();
    const store = await FileRegistrationStore.open(dir);
    const r = makeRegistration(1);
    await store.add(r);
    await store.update(r.id, { rootPath: '/lwm2m' } as never);
    await store.close();
    const again = await reopen(dir);
    expect(await again.getById(r.id)).toEqual({ ...r, rootPath: '/lwm2m' });
  });

  it('creates a missing data directory', async () => {
    const dir = path.join(await dataDir(), 'a', 'b');
    const store = await FileRegistrationStore.open(dir);
    await store.add(makeRegistration(1));
    await store.close();
    expect((await stat(path.join(dir, REGISTRATIONS_LOG))).size).toBeGreaterThan(0);
  });

  it('replays any interleaving of concurrent changes to the state the memory store reaches', async () => {
    type Op = { kind: 'add'; n: number; endpoint: number } | { kind: 'update'; target: number; port: number } | { kind: 'remove'; target: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), n: fc.nat(1000), endpoint: fc.nat(5) }),
      fc.record({ kind: fc.constant('update' as const), target: fc.nat(20), port: fc.nat(3) }),
      fc.record({ kind: fc.constant('remove' as const), target: fc.nat(20) }),
    );
    // Batches of changes fired without waiting for each other; batches one after another.
    const batches = fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(batches, async (plan) => {
        const dir = await dataDir();
        const file = await FileRegistrationStore.open(dir, { compaction: { ratio: 1, minRecords: 3 } });
        const memory = new MemoryRegistrationStore();
        const ids: string[] = [];
        let serial = 0;
        const run = (store: RegistrationStore, o: Op, batchIds: string[]) => {
          switch (o.kind) {
            case 'add': {
              const r = makeRegistration(o.n, { id: batchIds[serial++ % batchIds.length]!, endpoint: `ep${o.endpoint}`, address: '10.0.0.1', port: o.endpoint % 3 });
              return store.add(r);
            }
            case 'update':
              return store.update(ids[o.target % Math.max(ids.length, 1)] ?? 'none', { port: o.port, lastUpdate: o.port });
            case 'remove':
              return store.remove(ids[o.target % Math.max(ids.length, 1)] ?? 'none');
          }
        };
        for (const batch of plan) {
          const batchIds = batch.map(() => `id${ids.length + serial}-${Math.random().toString(36).slice(2, 6)}`);
          const start = serial;
          const results = [];
          for (const store of [memory, file] as RegistrationStore[]) {
            serial = start;
            results.push(await Promise.all(batch.map((o) => run(store, o, batchIds))));
          }
          expect(results[1]).toEqual(results[0]);
          ids.push(...batchIds);
        }
        await file.close();
        const again = await FileRegistrationStore.open(dir);
        const replayed = await contents(again);
        await again.close();
        expect(replayed).toEqual(await contents(memory));
        // Where the memory store's peer index points, the replayed one points too. (When a registration
        // moves away from a peer it shared, the memory store drops the peer's entry; after a compaction
        // the other registration there owns it again. See the report of the file store.)
        for (const r of replayed) {
          const owner = await memory.getByPeer(r);
          if (owner) expect(await again.getByPeer(r)).toEqual(owner);
        }
      }),
      { numRuns: 40 },
    );
  });
});
