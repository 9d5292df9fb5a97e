/**
 * The security store: one behaviour for memory, file and Redis (a real
 * redis-server), and what each adds: the file store's log survives a reopen and
 * a torn last record; Redis entries are seen by every instance.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord, type CorruptRecord } from '../../src/store/append-log.js';
import {
  FileSecurityStore,
  MemorySecurityStore,
  pskLookup,
  RedisSecurityStore,
  SECURITY_LOG,
  type SecurityStore,
} from '../../src/store/security-store.js';
import { REDIS_SERVER, RedisServer } from '../support/redis-server.js';

const key = (hex: string) => Buffer.from(hex, 'hex');
const K1 = key('000102030405060708090a0b0c0d0e0f');
const K2 = key('f0e0d0c0b0a09080');

const skipRedis = REDIS_SERVER === undefined && !process.env.CI;
if (skipRedis)
  console.warn('Redis security store tests skipped: redis-server not found (apt-get install redis-server, or set REDIS_SERVER)');

let redis: RedisServer | undefined;
const dirs: string[] = [];
const opened: SecurityStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  if (!skipRedis) redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-security-'));
  dirs.push(dir);
  return dir;
}

async function track<T extends SecurityStore>(store: Promise<T>): Promise<T> {
  const s = await store;
  opened.push(s);
  return s;
}

const kinds: { name: string; skip: boolean; open: () => Promise<SecurityStore> }[] = [
  { name: 'memory', skip: false, open: async () => new MemorySecurityStore() },
  { name: 'file', skip: false, open: () => track(FileSecurityStore.open(tempDir())) },
  {
    name: 'Redis',
    skip: skipRedis,
    open: () => track(RedisSecurityStore.open(redis!.url, { keyPrefix: `sec-test-${process.pid}-${++prefixes}:` })),
  },
];

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`${kind.name} security store`, () => {
    it('finds an entry by endpoint and by identity, with the key bytes as given', async () => {
      const store = await kind.open();
      expect(await store.put('node1', { identity: 'id-1', key: K1 })).toEqual({ ok: true, created: true });
      const entry = await store.get('node1');
      expect(entry).toEqual({ endpoint: 'node1', identity: 'id-1', key: K1 });
      expect(await store.findByIdentity('id-1')).toEqual(entry);
      expect(await pskLookup(store)('id-1')).toEqual(K1);
    });

    it('answers undefined for what it does not hold', async () => {
      const store = await kind.open();
      expect(await store.get('nobody')).toBeUndefined();
      expect(await store.findByIdentity('nobody')).toBeUndefined();
      expect(await pskLookup(store)('nobody')).toBeUndefined();
      expect(await store.delete('nobody')).toBe(false);
      expect(await store.list()).toEqual([]);
    });

    it('refuses an identity bound to another endpoint, and changes nothing', async () => {
      const store = await kind.open();
      await store.put('node1', { identity: 'shared', key: K1 });
      expect(await store.put('node2', { identity: 'shared', key: K2 })).toEqual({ ok: false, identityOwner: 'node1' });
      expect(await store.get('node2')).toBeUndefined();
      expect((await store.findByIdentity('shared'))?.endpoint).toBe('node1');
    });

    it('replaces an entry; a new identity frees the old one for other endpoints', async () => {
      const store = await kind.open();
      await store.put('node1', { identity: 'old', key: K1 });
      expect(await store.put('node1', { identity: 'new', key: K2 })).toEqual({ ok: true, created: false });
      expect(await store.findByIdentity('old')).toBeUndefined();
      expect(await store.findByIdentity('new')).toEqual({ endpoint: 'node1', identity: 'new', key: K2 });
      expect(await store.put('node2', { identity: 'old', key: K1 })).toEqual({ ok: true, created: true });
      // The same identity again for its own endpoint (a new key) is a replacement, not a conflict.
      expect(await store.put('node2', { identity: 'old', key: K2 })).toEqual({ ok: true, created: false });
    });

    it('deletes an entry with its identity', async () => {
      const store = await kind.open();
      await store.put('node1', { identity: 'id-1', key: K1 });
      await store.put('node2', { identity: 'id-2', key: K2 });
      expect(await store.delete('node1')).toBe(true);
      expect(await store.get('node1')).toBeUndefined();
      expect(await store.findByIdentity('id-1')).toBeUndefined();
      expect((await store.list()).map((e) => e.endpoint)).toEqual(['node2']);
      expect(await store.put('node3', { identity: 'id-1', key: K1 })).toEqual({ ok: true, created: true });
    });

    it('keeps endpoint names and identities in any Unicode, and keys of any byte', async () => {
      const store = await kind.open();
      const endpoint = 'urn:imei:490154203237518 ü';
      const identity = 'Größe "quoted" \\ 東京';
      const all = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff));
      await store.put(endpoint, { identity, key: all });
      expect(await store.findByIdentity(identity)).toEqual({ endpoint, identity, key: all });
      expect(await store.list()).toEqual([{ endpoint, identity, key: all }]);
    });

    it('lets only one of two concurrent puts take an identity', async () => {
      const store = await kind.open();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.put(`node${i}`, { identity: 'contested', key: K1 })));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await store.list()).toHaveLength(1);
    });
  });
}

describe('file security store', () => {
  it('gives back after a reopen what it acknowledged, deletions included', async () => {
    const dir = tempDir();
    const first = await FileSecurityStore.open(dir);
    await first.put('node1', { identity: 'id-1', key: K1 });
    await first.put('node2', { identity: 'id-2', key: K2 });
    await first.put('node1', { identity: 'id-1b', key: K2 });
    await first.delete('node2');
    await first.close();
    const again = await track(FileSecurityStore.open(dir));
    expect(await again.list()).toEqual([{ endpoint: 'node1', identity: 'id-1b', key: K2 }]);
    expect(await again.findByIdentity('id-1')).toBeUndefined();
    expect(await again.findByIdentity('id-2')).toBeUndefined();
  });

  it('keeps keys as hex in its log, never in another form', async () => {
    const dir = tempDir();
    const store = await FileSecurityStore.open(dir);
    await store.put('node1', { identity: 'id-1', key: K1 });
    await store.close();
    const log = readFileSync(path.join(dir, SECURITY_LOG), 'utf8');
    expect(log).toMatch(/^[0-9a-f]{8} \{"op":"put","endpoint":"node1","identity":"id-1","key":"000102030405060708090a0b0c0d0e0f"\}\n$/);
  });

  it('opens after a crash in the middle of an append, and reports damaged records', async () => {
    const dir = tempDir();
    const store = await FileSecurityStore.open(dir);
    await store.put('node1', { identity: 'id-1', key: K1 });
    await store.close();
    const file = path.join(dir, SECURITY_LOG);
    // A record with a right checksum but no usable key, then an append cut short.
    appendFileSync(file, encodeRecord({ op: 'put', endpoint: 'node5', identity: 'id-5', key: 'zz' }));
    appendFileSync(file, '1234abcd {"op":"put","endpoint":"node9"');
    const problems: CorruptRecord[] = [];
    const reopened = await track(FileSecurityStore.open(dir, { onCorrupt: (p) => problems.push(p) }));
    expect(await reopened.list()).toEqual([{ endpoint: 'node1', identity: 'id-1', key: K1 }]);
    const reasons = problems.map((p) => p.reason).join('\n');
    expect(reasons).toMatch(/record rejected: put of node5 without a hex key/);
    expect(reasons).toMatch(/torn last record/);
    // Appends continue on a clean line.
    await reopened.put('node2', { identity: 'id-2', key: K2 });
    await reopened.close();
    opened.pop();
    const third = await track(FileSecurityStore.open(dir));
    expect((await third.list()).map((e) => e.endpoint).sort()).toEqual(['node1', 'node2']);
  });

  it('rewrites a log that outgrew its entries, keeping them', async () => {
    const dir = tempDir();
    const store = await FileSecurityStore.open(dir);
    for (let i = 0; i < 150; i++) await store.put('node1', { identity: `id-${i}`, key: K1 });
    await store.close();
    const lines = readFileSync(path.join(dir, SECURITY_LOG), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(150);
    const again = await track(FileSecurityStore.open(dir));
    expect(await again.list()).toEqual([{ endpoint: 'node1', identity: 'id-149', key: K1 }]);
  });
});

describe.skipIf(skipRedis)('Redis security store', () => {
  it('is shared by every instance on the same Redis', async () => {
    const keyPrefix = `sec-shared-${process.pid}:`;
    const a = await track(RedisSecurityStore.open(redis!.url, { keyPrefix }));
    const b = await track(RedisSecurityStore.open(redis!.url, { keyPrefix }));
    await a.put('node1', { identity: 'id-1', key: K1 });
    expect(await b.findByIdentity('id-1')).toEqual({ endpoint: 'node1', identity: 'id-1', key: K1 });
    expect(await b.put('node2', { identity: 'id-1', key: K2 })).toEqual({ ok: false, identityOwner: 'node1' });
    expect(await b.delete('node1')).toBe(true);
    expect(await a.get('node1')).toBeUndefined();
  });

  it('fails to open, naming the URL without its password, when Redis does not answer', async () => {
    await expect(RedisSecurityStore.open('redis://user:secret@127.0.0.1:1/0')).rejects.toThrow(
      /Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0 is unreachable/,
    );
  });
});
