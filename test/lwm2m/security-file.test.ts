/**
 * `--security-file`: parsing with errors that name the entry (never the key),
 * putting its entries into the store at start, and what happens on a restart
 * with a persistent store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { applySecurityFile, parseSecurityFile } from '../../src/lwm2m/security/security-file.js';
import { FileSecurityStore, MemorySecurityStore } from '../../src/store/security-store.js';
import { startTestHub } from '../support/hub.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-security-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = '000102030405060708090a0b0c0d0e0f';
const parse = (value: unknown) => parseSecurityFile(typeof value === 'string' ? value : JSON.stringify(value), 'psk.json');

describe('security file', () => {
  it('reads an array of endpoint, identity and hex key', () => {
    expect(
      parse([
        { endpoint: 'node1', identity: 'id-1', key: KEY },
        { endpoint: 'node2', identity: 'id-2', key: 'ABCDEF' },
      ]),
    ).toEqual([
      { endpoint: 'node1', identity: 'id-1', key: Buffer.from(KEY, 'hex') },
      { endpoint: 'node2', identity: 'id-2', key: Buffer.from([0xab, 0xcd, 0xef]) },
    ]);
    expect(parse([])).toEqual([]);
  });

  const bad: [string, unknown, string][] = [
    ['text that is not JSON', '[{"endpoint": ', 'invalid --security-file psk.json: not JSON: '],
    [
      'an object',
      { node1: { identity: 'id', key: KEY } },
      'invalid --security-file psk.json: must be a JSON array of {"endpoint", "identity", "key"} objects',
    ],
    [
      'a string entry',
      ['node1'],
      'invalid --security-file psk.json: entry 1: must be an object {"endpoint": "…", "identity": "…", "key": "<hex>"}',
    ],
    [
      'a key that is not hex',
      [
        { endpoint: 'node1', identity: 'id', key: KEY },
        { endpoint: 'node2', identity: 'id2', key: 'secret' },
      ],
      'invalid --security-file psk.json: entry 2 (endpoint "node2"): key: must be hex digits only (0-9, a-f), two per byte',
    ],
    ['no endpoint', [{ identity: 'id', key: KEY }], 'invalid --security-file psk.json: entry 1: endpoint: is missing'],
    [
      'an unknown member',
      [{ endpoint: 'n', identity: 'id', key: KEY, lifetime: 3 }],
      'invalid --security-file psk.json: entry 1 (endpoint "n"): unknown member "lifetime"',
    ],
    [
      'an endpoint listed twice',
      [
        { endpoint: 'n', identity: 'a', key: KEY },
        { endpoint: 'n', identity: 'b', key: KEY },
      ],
      'invalid --security-file psk.json: entry 2 (endpoint "n"): endpoint already listed in entry 1',
    ],
    [
      'an identity used twice',
      [
        { endpoint: 'a', identity: 'same', key: KEY },
        { endpoint: 'b', identity: 'same', key: KEY },
      ],
      'invalid --security-file psk.json: entry 2 (endpoint "b"): identity "same" already used by entry 1 (identities are unique)',
    ],
  ];
  for (const [what, content, message] of bad) {
    it(`refuses ${what}, naming the entry`, () => {
      expect(() => parse(content)).toThrow(message);
    });
  }

  it('never puts a key in an error message', () => {
    const secret = 'deadbeefcafe0123';
    const problems = [
      [{ endpoint: 'n', identity: 'id', key: secret + 'z' }],
      [{ endpoint: 'n', identity: '', key: secret }],
      [
        { endpoint: 'n', identity: 'i', key: secret },
        { endpoint: 'n', identity: 'j', key: secret },
      ],
    ];
    for (const content of problems)
      expect(() => parse(content)).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }));
  });

  it('puts its entries into the store and leaves unchanged ones alone', async () => {
    const store = await FileSecurityStore.open(path.join(dir, 'apply'));
    const entries = parse([{ endpoint: 'node1', identity: 'id-1', key: KEY }]);
    await applySecurityFile(entries, store, 'psk.json');
    const appendsAfterFirst = readFileSync(path.join(dir, 'apply', 'security.log'), 'utf8').split('\n').length;
    await applySecurityFile(entries, store, 'psk.json');
    expect(readFileSync(path.join(dir, 'apply', 'security.log'), 'utf8').split('\n').length).toBe(appendsAfterFirst);
    expect(await store.list()).toEqual(entries);
    await store.close();
  });

  it('moves identities between its own endpoints, even swapped ones', async () => {
    const store = new MemorySecurityStore();
    await applySecurityFile(
      parse([
        { endpoint: 'a', identity: 'x', key: KEY },
        { endpoint: 'b', identity: 'y', key: KEY },
      ]),
      store,
      'psk.json',
    );
    await applySecurityFile(
      parse([
        { endpoint: 'a', identity: 'y', key: KEY },
        { endpoint: 'b', identity: 'x', key: KEY },
      ]),
      store,
      'psk.json',
    );
    expect((await store.findByIdentity('y'))?.endpoint).toBe('a');
    expect((await store.findByIdentity('x'))?.endpoint).toBe('b');
  });

  it('refuses, before changing anything, an identity the store binds to an endpoint not in the file', async () => {
    const store = new MemorySecurityStore();
    await store.put('set-by-rest', { identity: 'taken', key: Buffer.from(KEY, 'hex') });
    const entries = parse([
      { endpoint: 'first', identity: 'fresh', key: KEY },
      { endpoint: 'second', identity: 'taken', key: KEY },
    ]);
    await expect(applySecurityFile(entries, store, 'psk.json')).rejects.toThrow(
      '--security-file psk.json: endpoint "second": identity "taken" is bound to endpoint "set-by-rest" in the security store (DELETE /api/security/{endpoint} first)',
    );
    expect(await store.get('first')).toBeUndefined();
  });

  it('is read at start; a bad file stops the start with its message', async () => {
    const file = path.join(dir, 'start.json');
    writeFileSync(file, JSON.stringify([{ endpoint: 'node1', identity: 'id-1', key: KEY }]));
    expect(loadConfig(['--security-file', file], {})).toMatchObject({ config: { securityFile: file } });
    const hub = await startTestHub({ securityFile: file });
    try {
      expect(await hub.securityStore.get('node1')).toEqual({ endpoint: 'node1', identity: 'id-1', key: Buffer.from(KEY, 'hex') });
    } finally {
      await hub.stop();
    }
    writeFileSync(file, '[{"endpoint": "node1", "identity": "id-1"}]');
    await expect(startTestHub({ securityFile: file })).rejects.toThrow(
      /^invalid --security-file .*start\.json: entry 1 \(endpoint "node1"\): key: is missing$/,
    );
    await expect(startTestHub({ securityFile: path.join(dir, 'absent.json') })).rejects.toThrow(
      /^cannot read --security-file .*absent\.json: ENOENT/,
    );
  });

  it('adds to what a file store kept from REST across a restart', async () => {
    const dataDir = path.join(dir, 'restart');
    const file = path.join(dir, 'restart.json');
    writeFileSync(file, JSON.stringify([{ endpoint: 'from-file', identity: 'file-id', key: KEY }]));
    const first = await startTestHub({ dataDir, securityFile: file });
    await first.securityStore.put('from-rest', { identity: 'rest-id', key: Buffer.from('aabb', 'hex') });
    await first.stop();
    const second = await startTestHub({ dataDir, securityFile: file });
    try {
      expect((await second.securityStore.list()).map((e) => e.endpoint).sort()).toEqual(['from-file', 'from-rest']);
    } finally {
      await second.stop();
    }
  });
});
