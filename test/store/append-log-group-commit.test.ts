/**
 * Group commit: concurrent appends share one write and one fsync. And what a
 * failed write or fsync does to the appends waiting on it.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendLog, encodeRecord } from '../../src/store/append-log.js';
import { FileRegistrationStore, REGISTRATIONS_LOG } from '../../src/store/file-store.js';
import { countingFs } from './support/counting-fs.js';
import { makeRegistration, tempDir } from './support/registrations.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  return dir;
}

async function readBack(file: string): Promise<unknown[]> {
  const records: unknown[] = [];
  const log = await AppendLog.open<unknown>(file, { replay: (r) => void records.push(r) });
  await log.close();
  return records;
}

describe('group commit', () => {
  it('makes 1000 concurrent appends durable with a handful of fsyncs', async () => {
    const file = path.join(await dataDir(), 'group.log');
    const fs = countingFs();
    const log = await AppendLog.open<{ n: number }>(file, { fs });
    const syncsBefore = fs.counts.syncs;
    await Promise.all(Array.from({ length: 1000 }, (_, n) => log.append({ n })));
    const syncs = fs.counts.syncs - syncsBefore;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(3);
    expect(log.stats).toMatchObject({ records: 1000, appends: 1000 });
    expect(log.stats.writes).toBe(syncs);
    await log.close();
    expect(await readBack(file)).toEqual(Array.from({ length: 1000 }, (_, n) => ({ n })));
  });

  it('batches appends made while an fsync is in flight into the next one', async () => {
    const file = path.join(await dataDir(), 'group.log');
    const log = await AppendLog.open<{ n: number }>(file);
    cleanups.unshift(() => log.close());
    const first = log.append({ n: 0 });
    // Wait until the first batch is being written, then add 100 more one tick apart.
    await new Promise((resolve) => setImmediate(resolve));
    const more: Promise<void>[] = [];
    for (let n = 1; n <= 100; n++) {
      more.push(log.append({ n }));
      await Promise.resolve();
    }
    await Promise.all([first, ...more]);
    expect(log.stats.syncs).toBeLessThanOrEqual(3);
  });

  it('costs one fsync per append when appends come one at a time', async () => {
    const file = path.join(await dataDir(), 'group.log');
    const log = await AppendLog.open<{ n: number }>(file);
    cleanups.unshift(() => log.close());
    const before = log.stats.syncs;
    for (let n = 0; n < 5; n++) await log.append({ n });
    expect(log.stats.syncs - before).toBe(5);
  });

  it('gives 1000 concurrent registrations of the file store far fewer than 1000 fsyncs', async () => {
    const dir = await dataDir();
    const fs = countingFs();
    const store = await FileRegistrationStore.open(dir, { fs });
    const before = fs.counts.syncs;
    const all = Array.from({ length: 1000 }, (_, n) => makeRegistration(n));
    await Promise.all(all.map((r) => store.add(r)));
    const syncs = fs.counts.syncs - before;
    expect(syncs).toBeLessThanOrEqual(5);
    expect(store.stats.records).toBe(1000);
    await store.close();
    const again = await FileRegistrationStore.open(dir);
    expect(await again.count()).toBe(1000);
    await again.close();
  });

  it('resolves an append only after its fsync', async () => {
    const file = path.join(await dataDir(), 'group.log');
    const fs = countingFs();
    const log = await AppendLog.open<{ n: number }>(file, { fs });
    cleanups.unshift(() => log.close());
    const before = fs.counts.syncs;
    let syncsWhenResolved = -1;
    await log.append({ n: 1 }).then(() => (syncsWhenResolved = fs.counts.syncs));
    expect(syncsWhenResolved).toBe(before + 1);
  });
});

describe('compaction', () => {
  it('replaces the file by the snapshot, then appends after it, in order', async () => {
    const file = path.join(await dataDir(), 'compact.log');
    const log = await AppendLog.open<{ n: number }>(file);
    await Promise.all(Array.from({ length: 50 }, (_, n) => log.append({ n })));
    const appendedBefore = log.append({ n: 50 }); // queued before the compaction: superseded by the snapshot
    const compacted = log.compact([{ n: -1 }, { n: -2 }]);
    const after = [log.append({ n: 100 }), log.append({ n: 101 })];
    await Promise.all([appendedBefore, compacted, ...after]);
    expect(log.stats).toMatchObject({ records: 4, compactions: 1 });
    await log.close();
    expect(await readBack(file)).toEqual([{ n: -1 }, { n: -2 }, { n: 100 }, { n: 101 }]);
  });

  it('keeps the old file when the snapshot cannot be serialised', async () => {
    const file = path.join(await dataDir(), 'compact.log');
    const log = await AppendLog.open<{ n: number | bigint }>(file);
    await log.append({ n: 1 });
    await expect(log.compact([{ n: 2 }, { n: 3n }])).rejects.toThrow(/compaction failed/);
    await log.append({ n: 4 });
    await log.close();
    expect(await readBack(file)).toEqual([{ n: 1 }, { n: 4 }]);
  });
});

describe('failures while appending', () => {
  it('rejects the appends of a failed write, cuts the partial line off, and goes on', async () => {
    const file = path.join(await dataDir(), 'fail.log');
    const fs = countingFs();
    const log = await AppendLog.open<{ n: number }>(file, { fs });
    await log.append({ n: 1 });
    fs.failNextWrite('fail.log', 7);
    const failed = [log.append({ n: 2 }), log.append({ n: 3 })];
    for (const f of failed) await expect(f).rejects.toThrow(/write failed: ENOSPC/);
    expect((await stat(file)).size).toBe(encodeRecord({ n: 1 }).length);
    await log.append({ n: 4 });
    await log.close();
    expect(await readBack(file)).toEqual([{ n: 1 }, { n: 4 }]);
  });

  it('refuses every append after a failed fsync', async () => {
    const file = path.join(await dataDir(), 'fail.log');
    const fs = countingFs();
    const log = await AppendLog.open<{ n: number }>(file, { fs });
    await log.append({ n: 1 });
    fs.failNextSync('fail.log');
    await expect(log.append({ n: 2 })).rejects.toThrow(/fsync failed: EIO/);
    await expect(log.append({ n: 3 })).rejects.toThrow(/fsync failed/);
    expect(log.failed).toBeInstanceOf(Error);
    await log.close();
  });

  it('makes the file store refuse changes, leaving memory as it was, after a failed fsync', async () => {
    const dir = await dataDir();
    const fs = countingFs();
    const store = await FileRegistrationStore.open(dir, { fs });
    cleanups.unshift(() => store.close());
    const a = makeRegistration(1);
    await store.add(a);
    fs.failNextSync(REGISTRATIONS_LOG);
    const b = makeRegistration(2);
    await expect(store.add(b)).rejects.toThrow(/fsync failed/);
    const c = makeRegistration(3);
    await expect(store.add(c)).rejects.toThrow(/fsync failed/);
    expect(await store.getById(c.id)).toBeUndefined();
    expect(await store.getById(a.id)).toEqual(a);
  });

  it('keeps using the old log when a compaction fails, and compacts later', async () => {
    const dir = await dataDir();
    const fs = countingFs();
    const store = await FileRegistrationStore.open(dir, { fs, compaction: { ratio: 1, minRecords: 20 } });
    const r = makeRegistration(1);
    await store.add(r);
    fs.failNextRename();
    for (let i = 0; i < 30; i++) await store.update(r.id, { lastUpdate: i });
    expect(store.stats.compactions).toBe(0);
    await expect(stat(path.join(dir, `${REGISTRATIONS_LOG}.tmp`))).rejects.toThrow(/ENOENT/);
    for (let i = 30; i < 60; i++) await store.update(r.id, { lastUpdate: i });
    expect(store.stats.compactions).toBeGreaterThanOrEqual(1);
    await store.close();
    const again = await FileRegistrationStore.open(dir);
    expect(await again.getById(r.id)).toEqual({ ...r, lastUpdate: 59 });
    await again.close();
    expect((await readFile(path.join(dir, REGISTRATIONS_LOG), 'utf8')).split('\n').length).toBeLessThan(40);
  });
});
