/**
 * Registrations that survive a restart: the in-memory store (same indexes, same
 * semantics) plus an operation log, `<dataDir>/registrations.log`, replayed on
 * open. Sleeping sensor nodes register rarely; a server that forgot them would
 * not reach them until their next update.
 *
 * Every mutating method resolves only once its log record is durable, so a
 * registration acknowledged with 2.01 (after `await store.add()`) is on disk.
 * Reads are served from memory and may see a change a few milliseconds before
 * it is durable; that change is then either acknowledged or reported failed to
 * its caller, and a client whose request failed retries.
 *
 * Log records (see append-log.ts for the line format):
 *   {"op":"put","registration":{…}}                full registration (add, or the snapshot after compaction)
 *   {"op":"update","id":"…","changes":{…},"unset":["smsNumber"]}
 *   {"op":"remove","id":"…"}
 * When the log has grown past `ratio × live + minRecords` records it is
 * rewritten as one `put` per live registration.
 *
 * If a record cannot be made durable (disk full, I/O error), the caller's
 * promise rejects but memory keeps the change until the next restart; after an
 * fsync failure every later change is refused (see AppendLog).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Peer } from '../coap/peer.js';
import type { ObjectLink, Registration } from '../lwm2m/registration/registration.js';
import { AppendLog, type AppendLogStats, type CorruptRecord, type LogFs, nodeLogFs } from './append-log.js';
import { MemoryRegistrationStore } from './memory-store.js';
import type { RegistrationChanges, RegistrationStore } from './registration-store.js';

export const REGISTRATIONS_LOG = 'registrations.log';

/**
 * A registration as logged: its object links as JSON text (one string instead of a
 * dozen small objects to parse at restart, and identical link lists — most devices
 * of a kind send the same — are parsed once and shared). Logs from before keep an
 * array here; both are read.
 */
type LoggedLinks = { readonly objectLinks: string | readonly ObjectLink[] };
/** Empty content formats and attributes (the common case) are left out of the record. */
type LoggedRegistration = Omit<Registration, 'objectLinks' | 'supportedContentFormats' | 'additionalAttributes'> &
  LoggedLinks &
  Partial<Pick<Registration, 'supportedContentFormats' | 'additionalAttributes'>>;
type LoggedChanges = Omit<RegistrationChanges, 'objectLinks'> & Partial<LoggedLinks>;

export type StoreRecord =
  | { readonly op: 'put'; readonly registration: LoggedRegistration }
  | { readonly op: 'update'; readonly id: string; readonly changes: LoggedChanges; readonly unset?: readonly string[] }
  | { readonly op: 'remove'; readonly id: string };

export interface CompactionPolicy {
  /** Compact when log records > ratio × live registrations + minRecords. Defaults: 2 and 1000. */
  readonly ratio?: number;
  readonly minRecords?: number;
}

export interface FileStoreOptions {
  readonly logger?: Logger;
  /** Damaged records found on open (they are skipped). Default: a warning through the logger. */
  readonly onCorrupt?: (problem: CorruptRecord) => void;
  /** `false` never compacts (tests, tools). */
  readonly compaction?: CompactionPolicy | false;
  /** For tests: count syncs, inject failures. */
  readonly fs?: LogFs;
}

export class FileRegistrationStore implements RegistrationStore {
  private readonly memory: MemoryRegistrationStore;
  private readonly log: AppendLog<StoreRecord>;
  private readonly logger: Logger | undefined;
  private readonly policy: { ratio: number; minRecords: number } | undefined;
  /** Mutations run one after another up to the point their record is queued (not until durable). */
  private tail: Promise<unknown> = Promise.resolve();
  /** No compaction is attempted before the log holds this many records (raised after a failure). */
  private compactionFloor = 0;
  private compacting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(memory: MemoryRegistrationStore, log: AppendLog<StoreRecord>, options: FileStoreOptions) {
    this.memory = memory;
    this.log = log;
    this.logger = options.logger;
    this.policy = options.compaction === false ? undefined : { ratio: options.compaction?.ratio ?? 2, minRecords: options.compaction?.minRecords ?? 1000 };
  }

  /** Opens the store in `dataDir` (created if missing) and replays its log. Damaged records are reported and skipped. */
  static async open(dataDir: string, options: FileStoreOptions = {}): Promise<FileRegistrationStore> {
    const fs = options.fs ?? nodeLogFs;
    const created = await mkdir(dataDir, { recursive: true });
    if (created !== undefined) await syncNewDirectories(fs, created, dataDir);
    const memory = new MemoryRegistrationStore();
    const onCorrupt =
      options.onCorrupt ?? ((problem: CorruptRecord) => options.logger?.warn({ ...problem }, 'registration store: damaged record skipped'));
    const started = Date.now();
    const links = new LinksInterner();
    const log = await AppendLog.open<StoreRecord>(path.join(dataDir, REGISTRATIONS_LOG), {
      fs,
      onCorrupt,
      replay: (record) => replayRecord(memory, record, links),
    });
    const store = new FileRegistrationStore(memory, log, options);
    const count = await memory.count();
    options.logger?.info({ file: log.file, registrations: count, records: log.stats.records, ms: Date.now() - started }, 'registration store opened');
    // A log left long by earlier runs is rewritten before anything is appended.
    await store.maybeCompact();
    await store.compacting;
    return store;
  }

  get file(): string {
    return this.log.file;
  }

  /** Counters of the underlying log (records, bytes, writes, syncs, compactions). */
  get stats(): AppendLogStats {
    return this.log.stats;
  }

  add(registration: Registration): Promise<Registration | undefined> {
    const invalid = checkWritable(() => checkRegistration(registration));
    if (invalid) return invalid as Promise<never>;
    return this.mutate(
      () => this.memory.add(registration),
      () => ({ op: 'put', registration: logged(registration) }),
    );
  }

  update(id: string, changes: RegistrationChanges): Promise<{ previous: Registration; current: Registration } | undefined> {
    const invalid = checkWritable(() => validateChanges(changes as Record<string, unknown>));
    if (invalid) return invalid as Promise<never>;
    return this.mutate(
      () => this.memory.update(id, changes),
      (result) => (result ? updateRecord(id, changes) : undefined),
    );
  }

  remove(id: string): Promise<Registration | undefined> {
    return this.mutate(
      () => this.memory.remove(id),
      (removed) => (removed ? { op: 'remove', id } : undefined),
    );
  }

  getById(id: string): Promise<Registration | undefined> {
    return this.memory.getById(id);
  }

  getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    return this.memory.getByEndpoint(endpoint);
  }

  getByPeer(peer: Peer): Promise<Registration | undefined> {
    return this.memory.getByPeer(peer);
  }

  list(): AsyncIterable<Registration> {
    return this.memory.list();
  }

  count(): Promise<number> {
    return this.memory.count();
  }

  /** Waits for queued changes to be durable and closes the log. Later changes are refused; reads keep working. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.tail;
      await this.compacting;
      await this.log.close();
    })();
    return this.closing;
  }

  /**
   * Applies a change to memory and queues its log record, one change at a time,
   * so that the log holds the records in exactly the order memory applied them
   * (and a compaction snapshot taken between two changes is exact). Only the
   * wait for durability overlaps between changes; that is what lets concurrent
   * changes share one fsync.
   */
  private mutate<R>(apply: () => Promise<R>, toRecord: (result: R) => StoreRecord | undefined): Promise<R> {
    if (this.closing) return Promise.reject(new Error(`registration store ${this.log.file} is closed`));
    const step = this.tail.then(async () => {
      // After an fsync failure nothing can be made durable: refuse before memory changes.
      if (this.log.failed) throw this.log.failed;
      const result = await apply();
      const record = toRecord(result);
      const durable = record ? this.log.append(record) : undefined;
      // Surfaced to the caller below; do not let it count as unhandled meanwhile.
      durable?.catch(() => undefined);
      await this.maybeCompact();
      return { result, durable };
    });
    this.tail = step.catch(() => undefined);
    return step.then(async ({ result, durable }) => {
      await durable;
      return result;
    });
  }

  /** Runs inside a mutation step: no other change can slip in between the snapshot and its queueing. */
  private async maybeCompact(): Promise<void> {
    if (!this.policy || this.compacting) return;
    const length = this.log.length;
    if (length < this.compactionFloor) return;
    const live = await this.memory.count();
    if (length <= this.policy.ratio * live + this.policy.minRecords) return;
    const snapshot = await this.snapshot();
    const before = this.log.stats;
    const started = Date.now();
    this.compacting = this.log
      .compact(snapshot)
      .then(
        () => {
          const after = this.log.stats;
          this.logger?.info({ file: this.log.file, records: { before: length, after: snapshot.length }, bytes: { before: before.bytes, after: after.bytes }, ms: Date.now() - started }, 'registration log compacted');
        },
        (error: unknown) => {
          // Try again only once the log has grown by another minRecords.
          this.compactionFloor = this.log.length + (this.policy?.minRecords ?? 0);
          this.logger?.warn({ err: error, file: this.log.file }, 'registration log compaction failed; appending to the old log');
        },
      )
      .finally(() => {
        this.compacting = undefined;
      });
  }

  /**
   * One `put` per live registration. Two registrations can claim one peer
   * address (a NAT rebinding, a stale registration); the peer index points to
   * the one that came there last. Replaying puts gives the peer to the last one
   * put, so registrations that own their peer go after those that do not.
   */
  private async snapshot(): Promise<StoreRecord[]> {
    const owners: StoreRecord[] = [];
    const others: StoreRecord[] = [];
    let seen = 0;
    for await (const registration of this.memory.list()) {
      const owner = await this.memory.getByPeer(registration);
      (owner?.id === registration.id ? owners : others).push({ op: 'put', registration: logged(registration) });
      // Let I/O and timers run now and then (changes wait: this runs inside a mutation step).
      if (++seen % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return [...others, ...owners];
  }
}

/** Explicitly undefined fields (`{ smsNumber: undefined }`) clear the field in memory; JSON would drop them, so they travel as `unset`. */
function updateRecord(id: string, changes: RegistrationChanges): StoreRecord {
  const unset = Object.keys(changes).filter((key) => (changes as Record<string, unknown>)[key] === undefined);
  const loggedChanges: LoggedChanges = changes.objectLinks ? { ...changes, objectLinks: linksJson(changes.objectLinks) } : changes;
  return unset.length > 0 ? { op: 'update', id, changes: loggedChanges, unset } : { op: 'update', id, changes: loggedChanges };
}

/** The JSON text of a link list, computed once per list (registrations with the same links share one list). */
const linksText = new WeakMap<readonly ObjectLink[], string>();

function linksJson(links: readonly ObjectLink[]): string {
  let text = linksText.get(links);
  if (text === undefined) {
    text = JSON.stringify(links);
    linksText.set(links, text);
  }
  return text;
}

function logged(registration: Registration): LoggedRegistration {
  const { supportedContentFormats, additionalAttributes, ...rest } = registration;
  return {
    ...rest,
    objectLinks: linksJson(registration.objectLinks),
    ...(supportedContentFormats.length > 0 ? { supportedContentFormats } : {}),
    ...(Object.keys(additionalAttributes).length > 0 ? { additionalAttributes } : {}),
  };
}

const NO_FORMATS: readonly number[] = Object.freeze([]);
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** On replay: each distinct link text parsed and checked once, the resulting (frozen) list shared. */
class LinksInterner {
  private readonly byText = new Map<string, readonly ObjectLink[]>();

  resolve(value: unknown): unknown {
    if (typeof value !== 'string') return value;
    let links = this.byText.get(value);
    if (links === undefined) {
      const parsed: unknown = JSON.parse(value);
      if (!isObjectLinks(parsed)) throw new Error('registration field objectLinks of the wrong type');
      links = freezeLinks(parsed as ObjectLink[]);
      this.byText.set(value, links);
    }
    return links;
  }
}

function freezeLinks(links: ObjectLink[]): readonly ObjectLink[] {
  for (const link of links) {
    Object.freeze(link.path);
    Object.freeze(link.attributes);
    Object.freeze(link);
  }
  return Object.freeze(links);
}

// ---------------------------------------------------------------------------
// Replay: records come from disk, so their shape is checked before they reach the indexes.

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isBoolean: Check = (v) => typeof v === 'boolean';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Link lists already checked (shared lists are checked once, not once per registration). */
const checkedLinks = new WeakSet<object>();
const isObjectLinks: Check = (v) => {
  if (!Array.isArray(v)) return false;
  if (checkedLinks.has(v)) return true;
  if (!v.every((link) => isObject(link) && Array.isArray(link.path) && link.path.every(isNumber) && isObject(link.attributes))) return false;
  checkedLinks.add(v);
  return true;
};
const isNumbers: Check = (v) => Array.isArray(v) && v.every(isNumber);

const REGISTRATION_FIELDS: Record<string, Check> = {
  id: isString,
  endpoint: isString,
  lifetime: isNumber,
  lwm2mVersion: isString,
  binding: isString,
  queueMode: isBoolean,
  address: isString,
  port: isNumber,
  rootPath: isString,
  objectLinks: isObjectLinks,
  supportedContentFormats: isNumbers,
  additionalAttributes: isObject,
  registeredAt: isNumber,
  lastUpdate: isNumber,
};

/** Fields an update may change, with their types. Fields not listed pass through as they are (a newer RegistrationChanges). */
const CHANGE_FIELDS: Record<string, Check> = {
  lifetime: isNumber,
  binding: isString,
  queueMode: isBoolean,
  smsNumber: isString,
  objectLinks: isObjectLinks,
  address: isString,
  port: isNumber,
  secure: (v) => v === true,
  lastUpdate: isNumber,
};
/** The keys of the indexes: an update never changes them. */
const IDENTITY_FIELDS = new Set(['id', 'endpoint']);

const REGISTRATION_ENTRIES = Object.entries(REGISTRATION_FIELDS);

function checkRegistration(value: unknown): Registration {
  if (!isObject(value)) throw new Error('registration is not an object');
  for (const [field, check] of REGISTRATION_ENTRIES) {
    if (!check(value[field])) throw new Error(`registration field ${field} missing or of the wrong type`);
  }
  if (value.smsNumber !== undefined && !isString(value.smsNumber)) throw new Error('registration field smsNumber of the wrong type');
  if (value.secure !== undefined && value.secure !== true) throw new Error('registration field secure of the wrong type');
  return value as unknown as Registration;
}

/** Changes as logged (`unset` lists the fields set to undefined), checked as on the way in. */
function checkChanges(value: unknown, unset: unknown): RegistrationChanges {
  if (!isObject(value)) throw new Error('update changes are not an object');
  const changes: Record<string, unknown> = { ...value };
  if (unset !== undefined) {
    if (!Array.isArray(unset) || !unset.every(isString)) throw new Error('update unset is not a list of field names');
    for (const field of unset as string[]) changes[field] = undefined;
  }
  validateChanges(changes);
  return changes as RegistrationChanges;
}

function validateChanges(changes: Record<string, unknown>): void {
  for (const [field, v] of Object.entries(changes)) {
    if (IDENTITY_FIELDS.has(field)) throw new Error(`update of ${field}, which identifies the registration`);
    if (v === undefined) continue;
    const check = CHANGE_FIELDS[field];
    if (check && !check(v)) throw new Error(`update field ${field} of the wrong type`);
  }
}

/**
 * Refuses, before anything changes, what the log could not give back as it is
 * (a NaN port, a missing field): an acknowledged change must survive a restart.
 */
function checkWritable<T>(check: () => T): Promise<void> | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return Promise.reject(new TypeError(`registration store: ${(error as Error).message}`));
  }
}

/** Applies one log record to memory; throws (the log reports and skips the record) when it is malformed. */
function replayRecord(memory: MemoryRegistrationStore, record: unknown, links: LinksInterner): void {
  if (!isObject(record)) throw new Error('record is not an object');
  switch (record.op) {
    case 'put': {
      const registration = record.registration;
      if (isObject(registration)) {
        registration.objectLinks = links.resolve(registration.objectLinks);
        registration.supportedContentFormats ??= NO_FORMATS;
        registration.additionalAttributes ??= NO_ATTRIBUTES;
      }
      memory.addNow(checkRegistration(registration));
      return;
    }
    case 'update': {
      if (!isString(record.id)) throw new Error('update without an id');
      const changes = record.changes;
      if (isObject(changes) && changes.objectLinks !== undefined) changes.objectLinks = links.resolve(changes.objectLinks);
      memory.updateNow(record.id as string, checkChanges(changes, record.unset));
      return;
    }
    case 'remove':
      if (!isString(record.id)) throw new Error('remove without an id');
      memory.removeNow(record.id as string);
      return;
    default:
      throw new Error(`unknown operation ${JSON.stringify(record.op)}`);
  }
}

/** fsync each directory `mkdir -p` created, from the parent of the first one down to dataDir, so that the path survives a power cut. */
async function syncNewDirectories(fs: LogFs, firstCreated: string, dataDir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const target = path.resolve(dataDir);
  let dir = path.dirname(path.resolve(firstCreated));
  for (;;) {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (dir === target) return;
    const rest = path.relative(dir, target).split(path.sep)[0];
    if (!rest) return;
    dir = path.join(dir, rest);
  }
}
