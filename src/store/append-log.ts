/**
 * A small durable append-only log of JSON records.
 *
 * On-disk format: one record per line,
 *
 *     <crc32-hex8> <json>\n        e.g.  1c291ca3 {"op":"remove","id":"a1b2"}
 *
 * where the checksum is the CRC-32 (IEEE 802.3, as zlib/PNG/gzip) of the UTF-8
 * bytes of `<json>`. Chosen over a length-prefixed binary framing because:
 * - `JSON.stringify` never emits a raw 0x0A byte (newlines inside strings are
 *   escaped, and UTF-8 multi-byte sequences never contain 0x0A), so the newline
 *   is an unambiguous terminator and a reader can always resynchronise at the
 *   next line after a damaged one. With a length prefix, one damaged length
 *   loses everything after it;
 * - an append that was cut short (the normal crash case) shows as a last line
 *   without its newline, which is detectable without trusting any length field;
 * - the file stays readable and greppable (`grep endpoint-42 registrations.log`)
 *   for operators, at a cost of 9 bytes per record.
 *
 * Durability: `append()` resolves only once its line is written and
 * `fdatasync`ed (fdatasync also persists the file size that an append changes).
 * Group commit: appends made while a write+sync is in flight, and all appends
 * made in the same turn of the event loop, are written together with a single
 * `write` and one `fdatasync`, so N concurrent appends cost one sync, not N.
 *
 * Writes are positional (`pwrite` at the end of the last durable record), so
 * after a failed write the file is cut back to its last good byte and later
 * appends start on a clean line. A failed fsync is not retried (after an fsync
 * error the kernel may have dropped the dirty pages, so a retry that "succeeds"
 * proves nothing): the log refuses every later append until it is reopened.
 *
 * One process writes a log at a time; there is no lock.
 */
import { constants as fsConstants } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import path from 'node:path';
import * as zlib from 'node:zlib';

/** A record that could not be read back, reported by `open()` and then skipped. */
export interface CorruptRecord {
  readonly file: string;
  /** 1-based line number in the file. */
  readonly line: number;
  /** Byte offset of the start of the line. */
  readonly offset: number;
  readonly reason: string;
}

/** The part of a `fs/promises` FileHandle the log uses (injectable for tests). */
export interface LogFileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** The part of `fs/promises` the log uses (injectable for tests: count syncs, inject failures). */
export interface LogFs {
  open(file: string, flags: string | number): Promise<LogFileHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(file: string, options: { force: boolean }): Promise<void>;
}

export const nodeLogFs: LogFs = fsPromises;

export interface AppendLogOptions<T> {
  /** Called for each valid record in file order, before `open()` resolves. Throwing rejects (reports and skips) the record. */
  readonly replay?: (record: T) => void | Promise<void>;
  /** Called for each record that cannot be read back; `open()` never throws for the file's content. */
  readonly onCorrupt?: (problem: CorruptRecord) => void;
  readonly fs?: LogFs;
  /** Records longer than this (bytes of the line) are refused by `append()` and treated as damage on read. Default 16 MiB. */
  readonly maxRecordBytes?: number;
}

export interface AppendLogStats {
  /** Valid records in the file (durable ones). */
  readonly records: number;
  /** Bytes in the file (up to the end of the last durable record). */
  readonly bytes: number;
  /** Records appended since open. */
  readonly appends: number;
  /** write() calls made for appends (one per group commit). */
  readonly writes: number;
  /** fsync/fdatasync calls on the log and its directory, including those of open and compaction. */
  readonly syncs: number;
  readonly compactions: number;
}

interface AppendJob {
  readonly kind: 'append';
  /** Serialised when append() is called, so later changes to the object do not leak in. */
  readonly json: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface CompactJob {
  readonly kind: 'compact';
  /** Serialised while being written, a slice at a time, so that a big snapshot does not stall the event loop. */
  readonly records: readonly unknown[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

type Job = AppendJob | CompactJob;

const NEWLINE = 0x0a;
const SPACE = 0x20;
const READ_CHUNK = 1 << 20;
const DEFAULT_MAX_RECORD_BYTES = 16 << 20;
/** Records serialised and written per step of a compaction (the event loop runs between steps). */
const COMPACT_SLICE = 1000;
/** Beyond this many problems in one file, the rest are summarised in one report. */
const MAX_REPORTS = 100;

// ---------------------------------------------------------------------------
// CRC-32

let crcTable: Uint32Array | undefined;

/** CRC-32 (reflected polynomial 0xEDB88320) with a 256-entry table; the fallback where zlib has none. */
export function crc32Table(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// zlib.crc32 exists from Node 20.15 / 22.2; it is native and much faster than the table.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export const crc32: (data: Uint8Array) => number = typeof zlibCrc32 === 'function' ? (data) => zlibCrc32(data) >>> 0 : crc32Table;

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function serialise(record: unknown): string {
  const json = JSON.stringify(record);
  if (json === undefined) throw new TypeError('record is not JSON-serialisable');
  return json;
}

const ENCODE_CHUNK = 1 << 20;

/**
 * `<crc32-hex8> <json>\n` lines for serialised records, written straight into
 * buffers of up to 1 MiB (no buffer per record, no concatenation: compacting
 * 100 000 registrations allocated and copied 70 MB twice otherwise).
 */
function encodeLines(jsons: readonly string[]): { chunks: Buffer[]; bytes: number } {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  let bound = 0;
  for (const json of jsons) bound += json.length * 3 + 10;
  const chunks: Buffer[] = [];
  let bytes = 0;
  let buf = Buffer.alloc(0);
  let used = 0;
  for (const json of jsons) {
    const need = json.length * 3 + 10;
    if (used + need > buf.length) {
      if (used > 0) chunks.push(buf.subarray(0, used));
      buf = Buffer.allocUnsafe(Math.max(need, Math.min(ENCODE_CHUNK, bound)));
      used = 0;
    }
    bound -= need;
    const length = buf.write(json, used + 9, 'utf8');
    buf.write(hex8(crc32(buf.subarray(used + 9, used + 9 + length))), used, 'latin1');
    buf[used + 8] = SPACE;
    buf[used + 9 + length] = NEWLINE;
    used += length + 10;
    bytes += length + 10;
  }
  if (used > 0) chunks.push(buf.subarray(0, used));
  return { chunks, bytes };
}

/** `<crc32-hex8> <json>\n` for one record. */
export function encodeRecord(record: unknown): Buffer {
  return encodeLines([serialise(record)]).chunks[0]!;
}

type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

const HEX = /^[0-9a-f]{8}$/;

/** One line without its newline. */
function decodeLine(line: Buffer): Decoded {
  if (line.length < 10 || line[8] !== SPACE) return { ok: false, reason: 'malformed line (expected "<crc32-hex8> <json>")' };
  const stored = line.toString('latin1', 0, 8);
  if (!HEX.test(stored)) return { ok: false, reason: 'malformed line (expected "<crc32-hex8> <json>")' };
  const body = line.subarray(9);
  // Compared as numbers: formatting a hex string per record costs more than parsing one.
  const computed = crc32(body);
  if (computed !== Number.parseInt(stored, 16)) return { ok: false, reason: `checksum mismatch (stored ${stored}, computed ${hex8(computed)})` };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (error) {
    return { ok: false, reason: `invalid JSON with a valid checksum: ${(error as Error).message}` };
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// ---------------------------------------------------------------------------

export class AppendLog<T> {
  private handle: LogFileHandle;
  private readonly fs: LogFs;
  private readonly maxRecordBytes: number;
  /** End of the last durable record: where the next write goes. */
  private size: number;
  /** Durable records in the file. */
  private records: number;
  private readonly queue: Job[] = [];
  /** Records the file will hold once the queue has drained. */
  private queuedLength: number;
  private scheduled: NodeJS.Immediate | undefined;
  private draining: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private backgroundCompaction: Promise<void> | undefined;
  private readonly counters: { appends: number; writes: number; syncs: number; compactions: number };

  private constructor(
    readonly file: string,
    init: { handle: LogFileHandle; fs: LogFs; size: number; records: number; syncs: number; maxRecordBytes: number },
  ) {
    this.handle = init.handle;
    this.fs = init.fs;
    this.size = init.size;
    this.records = init.records;
    this.queuedLength = init.records;
    this.maxRecordBytes = init.maxRecordBytes;
    this.counters = { appends: 0, writes: 0, syncs: init.syncs, compactions: 0 };
  }

  /**
   * Opens (creating if needed) the log at `file`, replays its valid records in
   * order, reports and skips damaged ones, and cuts a torn or damaged tail back
   * to the last good record. Throws only for I/O errors (permissions, disk), not
   * for anything in the file's content.
   */
  static async open<T>(file: string, options: AppendLogOptions<T> = {}): Promise<AppendLog<T>> {
    const fs = options.fs ?? nodeLogFs;
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    let syncs = 0;
    // A compaction interrupted before its rename leaves a .tmp: the log itself is still the truth.
    await fs.rm(tmpPath(file), { force: true });
    let handle: LogFileHandle;
    try {
      handle = await fs.open(file, fsConstants.O_RDWR);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      handle = await fs.open(file, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL);
      // Make the new directory entry durable before any append is acknowledged.
      syncs += await syncDirectory(fs, path.dirname(file));
    }
    try {
      const scan = await scanRecords(handle, file, options, maxRecordBytes);
      if (scan.goodEnd < scan.fileSize) {
        await handle.truncate(scan.goodEnd);
        await handle.datasync();
        syncs++;
      }
      return new AppendLog<T>(file, { handle, fs, size: scan.goodEnd, records: scan.records, syncs, maxRecordBytes });
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  get stats(): AppendLogStats {
    return { records: this.records, bytes: this.size, ...this.counters };
  }

  /** Set once the log refuses appends for good (a failed fsync): the error they are refused with. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Records the file will hold once everything queued is written (for compaction thresholds). */
  get length(): number {
    return this.queuedLength;
  }

  /** Resolves once the record is written and synced to disk; rejects if it cannot be made durable. */
  append(record: T): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`append log ${this.file} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    let json: string;
    try {
      json = serialise(record);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    if (json.length * 3 + 10 > this.maxRecordBytes) {
      const bytes = Buffer.byteLength(json, 'utf8') + 10;
      if (bytes > this.maxRecordBytes) return Promise.reject(new RangeError(`record of ${bytes} bytes exceeds the limit of ${this.maxRecordBytes}`));
    }
    this.queuedLength++;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'append', json, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Replaces the file's content by `snapshot`: written to `<file>.tmp`, synced,
   * renamed over the log, directory synced. The snapshot must reflect every
   * record appended before this call; appends made after the call go to the new
   * file (they wait for the compaction). The records are collected now but
   * serialised while being written, so they must not be changed afterwards
   * (immutable records, as registrations are). On failure the old file stays
   * in use and the promise rejects.
   */
  compact(snapshot: Iterable<T>): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`append log ${this.file} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    const records: unknown[] = [...snapshot];
    this.queuedLength = records.length;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'compact', records, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Starts a compaction in the background once the log holds more than
   * `2 × live + slack` records, one at a time: callers of `append` wait for their
   * own record only. `snapshot` is taken only when a compaction starts; a failure
   * goes to `onError` and the old file stays in use.
   */
  compactWhenLarge(live: number, slack: number, snapshot: () => Iterable<T>, onError: (error: unknown) => void): void {
    if (this.backgroundCompaction || this.closed || this.queuedLength <= 2 * live + slack) return;
    this.backgroundCompaction = this.compact(snapshot())
      .catch(onError)
      .finally(() => {
        this.backgroundCompaction = undefined;
      });
  }

  /** Writes and syncs whatever is queued, then closes the file. Later appends are refused. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.scheduled) {
        clearImmediate(this.scheduled);
        this.scheduled = undefined;
      }
      while (this.queue.length > 0 || this.draining) await this.startDrain();
      await this.handle.close();
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------

  /**
   * Starts a drain on the next turn of the event loop, so that all appends made
   * in this turn (e.g. by many concurrent requests) share one write and one sync.
   * While a drain runs, new jobs join the queue and the running drain takes them
   * as its next batch.
   */
  private schedule(): void {
    if (this.draining || this.scheduled || this.closing) {
      // close() drains in a loop; a running drain picks the job up.
      return;
    }
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      void this.startDrain();
    });
  }

  private startDrain(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'compact') {
        this.queue.shift();
        await this.runCompaction(head);
        continue;
      }
      let n = 1;
      while (n < this.queue.length && this.queue[n]!.kind === 'append') n++;
      await this.writeBatch(this.queue.splice(0, n) as AppendJob[]);
    }
  }

  private async writeBatch(batch: AppendJob[]): Promise<void> {
    const fail = (error: Error) => {
      this.queuedLength -= batch.length;
      for (const job of batch) job.reject(error);
    };
    if (this.failure) return fail(this.failure);
    const { chunks, bytes } = encodeLines(batch.map((job) => job.json));
    try {
      this.counters.writes++;
      await writeFully(this.handle, chunks, this.size);
    } catch (error) {
      const cause = asError(error);
      // Cut a partly written batch off so that the next append starts on a clean line.
      try {
        await this.handle.truncate(this.size);
      } catch (truncateError) {
        this.failure = new Error(`append log ${this.file} failed: could not remove a partial write: ${asError(truncateError).message}`, { cause: truncateError });
      }
      return fail(new Error(`append log ${this.file}: write failed: ${cause.message}`, { cause }));
    }
    try {
      this.counters.syncs++;
      await this.handle.datasync();
    } catch (error) {
      const cause = asError(error);
      this.failure = new Error(`append log ${this.file} failed: fsync failed: ${cause.message}`, { cause });
      return fail(this.failure);
    }
    this.size += bytes;
    this.records += batch.length;
    this.counters.appends += batch.length;
    for (const job of batch) job.resolve();
  }

  private async runCompaction(job: CompactJob): Promise<void> {
    const queuedAppends = () => this.queue.reduce((n, j) => (j.kind === 'append' ? n + 1 : j.records.length), 0);
    if (this.failure) {
      job.reject(this.failure);
      return;
    }
    const tmp = tmpPath(this.file);
    let next: LogFileHandle | undefined;
    let bytes = 0;
    try {
      next = await this.fs.open(tmp, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC);
      for (let i = 0; i < job.records.length; i += COMPACT_SLICE) {
        const encoded = encodeLines(job.records.slice(i, i + COMPACT_SLICE).map(serialise));
        await writeFully(next, encoded.chunks, bytes);
        bytes += encoded.bytes;
      }
      await next.sync();
      this.counters.syncs++;
      await this.fs.rename(tmp, this.file);
    } catch (error) {
      // The old file is untouched and still in use.
      await next?.close().catch(() => undefined);
      await this.fs.rm(tmp, { force: true }).catch(() => undefined);
      this.queuedLength = this.records + queuedAppends();
      job.reject(new Error(`append log ${this.file}: compaction failed: ${asError(error).message}`, { cause: error }));
      return;
    }
    // Renamed: from here on the new file is the log, whatever happens.
    const old = this.handle;
    this.handle = next;
    this.size = bytes;
    this.records = job.records.length;
    this.counters.compactions++;
    await old.close().catch(() => undefined);
    try {
      this.counters.syncs += await syncDirectory(this.fs, path.dirname(this.file));
    } catch (error) {
      // Until the rename is durable, appends to the new file could vanish with it.
      this.failure = new Error(`append log ${this.file} failed: directory fsync after compaction failed: ${asError(error).message}`, { cause: error });
      job.reject(this.failure);
      return;
    }
    job.resolve();
  }
}

function tmpPath(file: string): string {
  return `${file}.tmp`;
}

async function writeFully(handle: LogFileHandle, chunks: readonly Buffer[], position: number): Promise<void> {
  for (const data of chunks) {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
      if (bytesWritten <= 0) throw new Error('write made no progress');
      written += bytesWritten;
    }
    position += data.length;
  }
}

/** fsync of a directory, so that a file created or renamed in it survives a power cut. Returns the syncs made. */
async function syncDirectory(fs: LogFs, dir: string): Promise<number> {
  // Windows cannot open a directory for fsync (and does not need it).
  if (process.platform === 'win32') return 0;
  const handle = await fs.open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
    return 1;
  } finally {
    await handle.close();
  }
}

interface ScanResult {
  readonly fileSize: number;
  /** Offset just past the last line with a valid frame: the log continues from here. */
  readonly goodEnd: number;
  readonly records: number;
}

/** Streams the file line by line (bounded memory), replaying valid records and reporting the rest. */
async function scanRecords<T>(handle: LogFileHandle, file: string, options: AppendLogOptions<T>, maxRecordBytes: number): Promise<ScanResult> {
  const { size: fileSize } = await handle.stat();
  let reports = 0;
  let unreported = 0;
  const report = (line: number, offset: number, reason: string, always = false) => {
    if (reports < MAX_REPORTS || always) {
      reports++;
      options.onCorrupt?.({ file, line, offset, reason });
    } else {
      unreported++;
    }
  };
  /** Consecutive damaged lines (a smear of garbage) make one report, not one per line. */
  let run: { line: number; offset: number; reason: string; lines: number; bytes: number } | undefined;
  const damaged = (line: number, offset: number, end: number, reason: string) => {
    if (run) {
      run.lines++;
      run.bytes = end - run.offset;
    } else {
      run = { line, offset, reason, lines: 1, bytes: end - offset };
    }
  };
  const endRun = () => {
    if (!run) return;
    const { line, offset, reason, lines, bytes } = run;
    run = undefined;
    report(line, offset, lines === 1 ? reason : `${lines} damaged lines (${bytes} bytes), the first: ${reason}`);
  };

  let goodEnd = 0;
  let goodLine = 0;
  let records = 0;
  let lineNo = 0;
  let position = 0;
  /** Bytes of the current, unfinished line from earlier chunks. */
  let carry: Buffer[] = [];
  let carryLength = 0;
  let lineStart = 0;
  /** Set while skipping an over-long line up to its newline. */
  let skipping = false;
  const chunk = Buffer.allocUnsafe(READ_CHUNK);

  const rejected = (line: number, start: number) => (error: unknown) => report(line, start, `record rejected: ${asError(error).message}`);
  /** Synchronous unless the replay callback is asynchronous: 100 000 records should not cost 100 000 promises. */
  const handleLine = (line: Buffer, start: number, end: number): Promise<void> | undefined => {
    lineNo++;
    const decoded = decodeLine(line);
    if (!decoded.ok) {
      damaged(lineNo, start, end, decoded.reason);
      return undefined;
    }
    endRun();
    goodEnd = end;
    goodLine = lineNo;
    records++;
    if (!options.replay) return undefined;
    try {
      const pending = options.replay(decoded.value as T);
      return pending ? pending.catch(rejected(lineNo, start)) : undefined;
    } catch (error) {
      rejected(lineNo, start)(error);
      return undefined;
    }
  };

  while (position < fileSize) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(READ_CHUNK, fileSize - position), position);
    if (bytesRead === 0) break;
    const data = chunk.subarray(0, bytesRead);
    let from = 0;
    for (;;) {
      const nl = data.indexOf(NEWLINE, from);
      if (nl < 0) {
        if (!skipping) {
          carry.push(Buffer.from(data.subarray(from)));
          carryLength += bytesRead - from;
          if (carryLength > maxRecordBytes) {
            lineNo++;
            damaged(lineNo, lineStart, position + bytesRead, `line longer than ${maxRecordBytes} bytes`);
            skipping = true;
            carry = [];
            carryLength = 0;
          }
        }
        break;
      }
      const end = position + nl + 1;
      if (skipping) {
        skipping = false;
        if (run) run.bytes = end - run.offset;
      } else {
        const piece = data.subarray(from, nl);
        const line = carryLength === 0 ? piece : Buffer.concat([...carry, piece]);
        if (line.length > maxRecordBytes) {
          lineNo++;
          damaged(lineNo, lineStart, end, `line longer than ${maxRecordBytes} bytes`);
        } else {
          const pending = handleLine(line, lineStart, end);
          if (pending) await pending;
        }
      }
      carry = [];
      carryLength = 0;
      lineStart = end;
      from = nl + 1;
    }
    position += bytesRead;
  }

  endRun();
  if (lineStart < position && !skipping) {
    // The normal crash case: an append cut short. It was never acknowledged (that needs the newline synced).
    report(lineNo + 1, lineStart, `torn last record: ${position - lineStart} bytes without a final newline (interrupted append); removed`, true);
  }
  if (lineStart > goodEnd) {
    // Complete but damaged lines after the last good record: nothing follows them worth keeping.
    report(goodLine + 1, goodEnd, `removed ${position - goodEnd} bytes of damaged records after the last good one`, true);
  }
  if (unreported > 0) options.onCorrupt?.({ file, line: lineNo, offset: position, reason: `${unreported} more damaged places not reported one by one` });
  return { fileSize: position, goodEnd, records };
}
