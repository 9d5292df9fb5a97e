/**
 * A damaged log never stops open(): valid records are replayed, each problem is
 * reported through onCorrupt with a reason, and a torn tail is cut off so that
 * appends continue on a clean line.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendLog, type CorruptRecord, crc32, crc32Table, encodeRecord } from '../../src/store/append-log.js';
import { FileRegistrationStore, REGISTRATIONS_LOG } from '../../src/store/file-store.js';
import { makeRegistration, tempDir } from './support/registrations.js';

interface Rec {
  n: number;
  text?: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function logFile(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  return path.join(dir, 'test.log');
}

async function load(file: string) {
  const records: Rec[] = [];
  const problems: CorruptRecord[] = [];
  const log = await AppendLog.open<Rec>(file, { replay: (r) => void records.push(r), onCorrupt: (p) => problems.push(p) });
  cleanups.unshift(() => log.close());
  return { log, records, problems };
}

const lines = (...records: Rec[]) => Buffer.concat(records.map((r) => encodeRecord(r)));

describe('CRC-32', () => {
  it('matches the standard check value and zlib', () => {
    const check = Buffer.from('123456789');
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    const random = randomBytes(4096);
    expect(crc32Table(random)).toBe(crc32(random));
    expect(crc32Table(Buffer.alloc(0))).toBe(0);
  });
});

describe('AppendLog with damaged content', () => {
  it('writes one "<crc32-hex8> <json>" line per record', async () => {
    const file = await logFile();
    const { log } = await load(file);
    await log.append({ n: 1, text: 'line\nbreak ünïcode' });
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^[0-9a-f]{8} \{"n":1,"text":"line\\nbreak ünïcode"\}\n$/);
    const json = text.slice(9, -1);
    expect(text.slice(0, 8)).toBe(crc32(Buffer.from(json)).toString(16).padStart(8, '0'));
  });

  it('opens an empty file with no records and no complaint', async () => {
    const file = await logFile();
    await writeFile(file, '');
    const { records, problems, log } = await load(file);
    expect(records).toEqual([]);
    expect(problems).toEqual([]);
    await log.append({ n: 1 });
    expect(await readFile(file)).toEqual(lines({ n: 1 }));
  });

  it('creates a missing file', async () => {
    const file = await logFile();
    const { records, problems } = await load(file);
    expect(records).toEqual([]);
    expect(problems).toEqual([]);
    expect((await stat(file)).size).toBe(0);
  });

  it('drops a torn last record, cuts the file back, and appends cleanly after it', async () => {
    const file = await logFile();
    const good = lines({ n: 1 }, { n: 2 });
    const torn = encodeRecord({ n: 3, text: 'cut short' }).subarray(0, 17);
    await writeFile(file, Buffer.concat([good, torn]));

    const first = await load(file);
    expect(first.records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(first.problems).toEqual([
      { file, line: 3, offset: good.length, reason: expect.stringMatching(/^torn last record: 17 bytes without a final newline/) },
    ]);
    expect((await stat(file)).size).toBe(good.length);

    await first.log.append({ n: 4 });
    await first.log.close();
    const second = await load(file);
    expect(second.records).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
    expect(second.problems).toEqual([]);
  });

  it('skips a record with a bad checksum in the middle and keeps those after it', async () => {
    const file = await logFile();
    const damaged = Buffer.from(encodeRecord({ n: 2, text: 'flipped' }));
    damaged[20] = damaged[20]! ^ 0x01; // one bit inside the JSON
    const before = lines({ n: 1 });
    await writeFile(file, Buffer.concat([before, damaged, lines({ n: 3 })]));

    const { records, problems } = await load(file);
    expect(records).toEqual([{ n: 1 }, { n: 3 }]);
    expect(problems).toEqual([{ file, line: 2, offset: before.length, reason: expect.stringMatching(/^checksum mismatch \(stored [0-9a-f]{8}, computed [0-9a-f]{8}\)$/) }]);
    // Damage in the middle is left in place (nothing after it is lost).
    expect((await stat(file)).size).toBe(before.length + damaged.length + lines({ n: 3 }).length);
  });

  it('reports lines that are not records at all, and JSON that does not parse', async () => {
    const file = await logFile();
    const badJson = Buffer.from('{"n": 2,');
    const crcOfBadJson = crc32(badJson).toString(16).padStart(8, '0');
    await writeFile(
      file,
      Buffer.concat([lines({ n: 1 }), Buffer.from('hello world\n'), lines({ n: 2 }), Buffer.from('\n'), lines({ n: 3 }), Buffer.from(`${crcOfBadJson} ${badJson.toString()}\n`), lines({ n: 4 })]),
    );
    const { records, problems } = await load(file);
    expect(records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [2, 'malformed line (expected "<crc32-hex8> <json>")'],
      [4, 'malformed line (expected "<crc32-hex8> <json>")'],
      [6, expect.stringMatching(/^invalid JSON with a valid checksum/)],
    ]);
  });

  it('survives garbage bytes between and after records', async () => {
    const file = await logFile();
    const garbage = randomBytes(64 * 1024);
    const zeros = Buffer.alloc(4096); // what some file systems leave after a crash
    await writeFile(file, Buffer.concat([lines({ n: 1 }), garbage, Buffer.from('\n'), lines({ n: 2 }), zeros]));
    const { records, problems, log } = await load(file);
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    // The smear of garbage is one report, not one per pseudo-line; then the torn tail of zeros.
    expect(problems).toEqual([
      { file, line: 2, offset: lines({ n: 1 }).length, reason: expect.stringMatching(new RegExp(`^\\d+ damaged lines \\(${garbage.length + 1} bytes\\), the first: `)) },
      { file, line: expect.any(Number), offset: expect.any(Number), reason: expect.stringMatching(/^torn last record: 4096 bytes/) },
    ]);
    await log.append({ n: 3 });
    await log.close();
    expect((await load(file)).records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('cuts off complete but damaged records at the end, reporting them', async () => {
    const file = await logFile();
    const good = lines({ n: 1 });
    await writeFile(file, Buffer.concat([good, Buffer.from('deadbeef {"n":2}\n')]));
    const { records, problems } = await load(file);
    expect(records).toEqual([{ n: 1 }]);
    expect(problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^checksum mismatch/), expect.stringMatching(/^removed 17 bytes of damaged records/)]);
    expect((await stat(file)).size).toBe(good.length);
  });

  it('treats a line over the size limit as damage without reading it all into memory', async () => {
    const file = await logFile();
    await writeFile(file, Buffer.concat([lines({ n: 1 }), Buffer.alloc(3000, 'x'), Buffer.from('\n'), lines({ n: 2 })]));
    const records: Rec[] = [];
    const problems: CorruptRecord[] = [];
    const log = await AppendLog.open<Rec>(file, { replay: (r) => void records.push(r), onCorrupt: (p) => problems.push(p), maxRecordBytes: 1024 });
    await expect(log.append({ n: 3, text: 'y'.repeat(2000) })).rejects.toThrow(/exceeds the limit/);
    await log.close();
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(problems.map((p) => p.reason)).toEqual(['line longer than 1024 bytes']);
  });

  it('reports a record the consumer rejects and goes on', async () => {
    const file = await logFile();
    await writeFile(file, lines({ n: 1 }, { n: -1 }, { n: 2 }));
    const records: Rec[] = [];
    const problems: CorruptRecord[] = [];
    const log = await AppendLog.open<Rec>(file, {
      replay: (r) => {
        if (r.n < 0) throw new Error('negative');
        records.push(r);
      },
      onCorrupt: (p) => problems.push(p),
    });
    await log.close();
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(problems).toEqual([{ file, line: 2, offset: expect.any(Number), reason: 'record rejected: negative' }]);
  });

  it('reads records that span its read chunks', async () => {
    const file = await logFile();
    const many = Array.from({ length: 3000 }, (_, n) => ({ n, text: 'z'.repeat(n % 700) }));
    await writeFile(file, lines(...many));
    const { records, problems } = await load(file);
    expect(problems).toEqual([]);
    expect(records).toEqual(many);
  });
});

describe('FileRegistrationStore with a damaged log', () => {
  it('loads the valid registrations and reports the rest', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, REGISTRATIONS_LOG);
    const store = await FileRegistrationStore.open(dir);
    const [a, b, c] = [makeRegistration(1), makeRegistration(2), makeRegistration(3)];
    await store.add(a);
    await store.add(b);
    await store.close();
    // A record of the wrong shape (valid frame), a stranger operation, then a torn record.
    await appendFile(file, Buffer.concat([encodeRecord({ op: 'put', registration: { id: 'x' } }), encodeRecord({ op: 'explode' }), encodeRecord({ op: 'put', registration: c }).subarray(0, 40)]));

    const problems: CorruptRecord[] = [];
    const again = await FileRegistrationStore.open(dir, { onCorrupt: (p) => problems.push(p) });
    cleanups.unshift(() => again.close());
    expect(await again.count()).toBe(2);
    expect(await again.getById(a.id)).toEqual(a);
    expect(await again.getById(b.id)).toEqual(b);
    expect(problems.map((p) => p.reason)).toEqual([
      'record rejected: registration field endpoint missing or of the wrong type',
      'record rejected: unknown operation "explode"',
      expect.stringMatching(/^torn last record/),
    ]);
  });
});
