/**
 * Pre-shared keys of LwM2M clients (LwM2M Transport §5.2.7.1, RFC 4279): per
 * endpoint name one PSK identity and its key. The DTLS server looks a key up by
 * the identity a client presents in its handshake; the registration check then
 * requires that identity to be the one bound to the endpoint name it registers.
 *
 * Identities are unique across endpoints: an identity names exactly one client,
 * otherwise a device holding one key could register as another device.
 *
 * Three implementations behind one interface, chosen as the registration store
 * is (`--store`): memory, an append-only log in the data directory, or Redis
 * (shared by several instances).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppendLog, type CorruptRecord } from './append-log.js';
import { DEFAULT_KEY_PREFIX, redactUrl } from './redis-common.js';

export interface SecurityEntry {
  readonly endpoint: string;
  readonly identity: string;
  /** The key bytes (never changed in place: stores hand out the buffer they keep). */
  readonly key: Buffer;
}

export type SecurityPutResult =
  | { readonly ok: true; readonly created: boolean }
  /** The identity is already bound to another endpoint (REST: 409). */
  | { readonly ok: false; readonly identityOwner: string };

export interface SecurityStore {
  get(endpoint: string): Promise<SecurityEntry | undefined>;
  /** The entry whose identity this is: what the DTLS server asks during a PSK handshake. */
  findByIdentity(identity: string): Promise<SecurityEntry | undefined>;
  /** Binds (or rebinds) an endpoint's identity and key, unless the identity belongs to another endpoint. */
  put(endpoint: string, credentials: { readonly identity: string; readonly key: Buffer }): Promise<SecurityPutResult>;
  /** Removes an endpoint's entry; false when it had none. */
  delete(endpoint: string): Promise<boolean>;
  list(): Promise<SecurityEntry[]>;
  close(): Promise<void>;
}

/** What the DTLS server takes (`pskForIdentity`): the key of an identity, from the store. */
export function pskLookup(store: SecurityStore): (identity: string) => Promise<Buffer | undefined> {
  return async (identity) => (await store.findByIdentity(identity))?.key;
}

export function sameEntry(a: SecurityEntry, b: { readonly identity: string; readonly key: Buffer }): boolean {
  return a.identity === b.identity && a.key.equals(b.key);
}

// --- Memory ----------------------------------------------------------------------------------------

export class MemorySecurityStore implements SecurityStore {
  protected readonly byEndpoint = new Map<string, SecurityEntry>();
  protected readonly endpointByIdentity = new Map<string, string>();

  async get(endpoint: string): Promise<SecurityEntry | undefined> {
    return this.byEndpoint.get(endpoint);
  }

  async findByIdentity(identity: string): Promise<SecurityEntry | undefined> {
    const endpoint = this.endpointByIdentity.get(identity);
    return endpoint === undefined ? undefined : this.byEndpoint.get(endpoint);
  }

  async put(endpoint: string, credentials: { readonly identity: string; readonly key: Buffer }): Promise<SecurityPutResult> {
    return this.putNow({ endpoint, identity: credentials.identity, key: Buffer.from(credentials.key) });
  }

  async delete(endpoint: string): Promise<boolean> {
    return this.deleteNow(endpoint);
  }

  async list(): Promise<SecurityEntry[]> {
    return [...this.byEndpoint.values()];
  }

  async close(): Promise<void> {}

  /** Check and change in one synchronous step: two concurrent puts cannot both take one identity. */
  protected putNow(entry: SecurityEntry): SecurityPutResult {
    const owner = this.endpointByIdentity.get(entry.identity);
    if (owner !== undefined && owner !== entry.endpoint) return { ok: false, identityOwner: owner };
    const previous = this.byEndpoint.get(entry.endpoint);
    if (previous && previous.identity !== entry.identity) this.endpointByIdentity.delete(previous.identity);
    this.byEndpoint.set(entry.endpoint, entry);
    this.endpointByIdentity.set(entry.identity, entry.endpoint);
    return { ok: true, created: previous === undefined };
  }

  protected deleteNow(endpoint: string): boolean {
    const previous = this.byEndpoint.get(endpoint);
    if (!previous) return false;
    this.byEndpoint.delete(endpoint);
    if (this.endpointByIdentity.get(previous.identity) === endpoint) this.endpointByIdentity.delete(previous.identity);
    return true;
  }
}

// --- File ------------------------------------------------------------------------------------------

export const SECURITY_LOG = 'security.log';

/** Log records (see append-log.ts for the line format); keys in hex. */
type SecurityRecord =
  | { readonly op: 'put'; readonly endpoint: string; readonly identity: string; readonly key: string }
  | { readonly op: 'remove'; readonly endpoint: string };

/**
 * The memory store plus `<dataDir>/security.log`, replayed on open. A change
 * resolves once its record is fsynced (group commit, as the registration log):
 * an entry acknowledged by REST survives a crash. Memory and log change in the
 * same synchronous step, so the log holds the changes in the order they were made.
 * A change whose record cannot be made durable is reported to its caller (REST:
 * 500) but stays in memory until the next start, as in the registration store.
 */
export class FileSecurityStore extends MemorySecurityStore {
  private constructor(
    private readonly log: AppendLog<SecurityRecord>,
    private readonly logger: Logger | undefined,
  ) {
    super();
  }

  static async open(
    dataDir: string,
    options: { logger?: Logger; onCorrupt?: (problem: CorruptRecord) => void } = {},
  ): Promise<FileSecurityStore> {
    await mkdir(dataDir, { recursive: true });
    const replayed = new MemorySecurityStore();
    const log = await AppendLog.open<SecurityRecord>(path.join(dataDir, SECURITY_LOG), {
      // Records come from disk: a malformed one throws and is reported and skipped by the log.
      replay: async (record) => {
        const checked = checkRecord(record);
        if (checked.op === 'remove') await replayed.delete(checked.endpoint);
        else {
          const result = await replayed.put(checked.endpoint, { identity: checked.identity, key: Buffer.from(checked.key, 'hex') });
          if (!result.ok) throw new Error(`identity of ${checked.endpoint} is bound to ${result.identityOwner}`);
        }
      },
      onCorrupt: options.onCorrupt ?? ((problem) => options.logger?.warn({ ...problem }, 'security store: damaged record skipped')),
    });
    const store = new FileSecurityStore(log, options.logger);
    for (const entry of await replayed.list()) store.putNow(entry);
    return store;
  }

  override async put(endpoint: string, credentials: { readonly identity: string; readonly key: Buffer }): Promise<SecurityPutResult> {
    const entry: SecurityEntry = { endpoint, identity: credentials.identity, key: Buffer.from(credentials.key) };
    const result = this.putNow(entry);
    if (!result.ok) return result;
    const durable = this.log.append({ op: 'put', endpoint, identity: entry.identity, key: entry.key.toString('hex') });
    this.compactIfLarge();
    await durable;
    return result;
  }

  override async delete(endpoint: string): Promise<boolean> {
    if (!this.deleteNow(endpoint)) return false;
    const durable = this.log.append({ op: 'remove', endpoint });
    this.compactIfLarge();
    await durable;
    return true;
  }

  override async close(): Promise<void> {
    await this.log.close();
  }

  private compactIfLarge(): void {
    this.log.compactWhenLarge(
      this.byEndpoint.size,
      100,
      () =>
        [...this.byEndpoint.values()].map((entry): SecurityRecord => ({
          op: 'put',
          endpoint: entry.endpoint,
          identity: entry.identity,
          key: entry.key.toString('hex'),
        })),
      (error) => this.logger?.error({ err: error, file: this.log.file }, 'security log compaction failed'),
    );
  }
}

function checkRecord(record: unknown): SecurityRecord {
  if (typeof record !== 'object' || record === null) throw new Error('record is not an object');
  const { op, endpoint, identity, key } = record as Record<string, unknown>;
  if (typeof endpoint !== 'string' || endpoint === '') throw new Error('record without an endpoint');
  if (op === 'remove') return { op, endpoint };
  if (op !== 'put') throw new Error(`unknown operation ${JSON.stringify(op)}`);
  if (typeof identity !== 'string' || identity === '') throw new Error(`put of ${endpoint} without an identity`);
  if (typeof key !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(key)) throw new Error(`put of ${endpoint} without a hex key`);
  return { op, endpoint, identity, key };
}

// --- Redis -----------------------------------------------------------------------------------------

/**
 * Two hashes under the key prefix (the registration store's, `lwm2m-hub:` by default):
 *
 *   security:endpoints    endpoint → {"identity":"…","key":"<hex>"}
 *   security:identities   identity → endpoint
 *
 * Both keys are passed to the scripts as KEYS, so a put or delete is atomic and
 * the identity stays unique across every instance that shares the Redis.
 */

/** KEYS: endpoints, identities. ARGV: endpoint, identity, JSON. Returns {'created'|'replaced'} or {'conflict', owner}. */
const LUA_PUT = `
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner and owner ~= ARGV[1] then return { 'conflict', owner } end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local oldIdentity = cjson.decode(old).identity
  if oldIdentity ~= ARGV[2] and redis.call('HGET', KEYS[2], oldIdentity) == ARGV[1] then redis.call('HDEL', KEYS[2], oldIdentity) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
if old then return { 'replaced' } end
return { 'created' }
`;

/** KEYS: endpoints, identities. ARGV: endpoint. Returns 1 when an entry was removed. */
const LUA_DELETE = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local identity = cjson.decode(old).identity
if redis.call('HGET', KEYS[2], identity) == ARGV[1] then redis.call('HDEL', KEYS[2], identity) end
return 1
`;

interface SecurityScripts {
  lwm2mHubSecurityPut(endpointsKey: string, identitiesKey: string, endpoint: string, identity: string, json: string): Promise<string[]>;
  lwm2mHubSecurityDelete(endpointsKey: string, identitiesKey: string, endpoint: string): Promise<number>;
}

/** As the registration store: a start that cannot reach Redis fails in seconds, a command during an outage too. */
const CONNECT_TIMEOUT_MS = 5000;
const MAX_RETRIES_PER_REQUEST = 2;
const SCAN_PAGE = 500;

export class RedisSecurityStore implements SecurityStore {
  private readonly scripts: SecurityScripts;
  private readonly endpointsKey: string;
  private readonly identitiesKey: string;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly logger: Logger | undefined,
  ) {
    this.endpointsKey = `${prefix}security:endpoints`;
    this.identitiesKey = `${prefix}security:identities`;
    redis.defineCommand('lwm2mHubSecurityPut', { numberOfKeys: 2, lua: LUA_PUT });
    redis.defineCommand('lwm2mHubSecurityDelete', { numberOfKeys: 2, lua: LUA_DELETE });
    this.scripts = redis as unknown as SecurityScripts;
  }

  /** Connects (its own connection) and checks Redis answers; rejects naming the URL without its password. */
  static async open(url: string, options: { logger?: Logger; keyPrefix?: string } = {}): Promise<RedisSecurityStore> {
    const shown = redactUrl(url);
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
      connectionName: 'lwm2m-hub-security',
    });
    // Without an 'error' listener ioredis prints every connection error; losses are logged by the registration store's connection.
    redis.on('error', (error: Error) => options.logger?.debug({ redis: shown, err: error }, 'security store: Redis connection error'));
    try {
      const pong = await Promise.race([
        redis.ping(),
        new Promise<never>((_resolve, reject) =>
          setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS).unref(),
        ),
      ]);
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(pong)}`);
    } catch (error) {
      redis.disconnect();
      throw new Error(`Redis at ${shown} is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return new RedisSecurityStore(redis, options.keyPrefix ?? DEFAULT_KEY_PREFIX, options.logger);
  }

  async get(endpoint: string): Promise<SecurityEntry | undefined> {
    return parseStored(endpoint, await this.redis.hget(this.endpointsKey, endpoint));
  }

  async findByIdentity(identity: string): Promise<SecurityEntry | undefined> {
    const endpoint = await this.redis.hget(this.identitiesKey, identity);
    if (endpoint === null) return undefined;
    const entry = await this.get(endpoint);
    // A put between the two reads may have moved the identity: only a consistent pair counts.
    return entry?.identity === identity ? entry : undefined;
  }

  async put(endpoint: string, credentials: { readonly identity: string; readonly key: Buffer }): Promise<SecurityPutResult> {
    const json = JSON.stringify({ identity: credentials.identity, key: credentials.key.toString('hex') });
    const [outcome, owner] = await this.scripts.lwm2mHubSecurityPut(
      this.endpointsKey,
      this.identitiesKey,
      endpoint,
      credentials.identity,
      json,
    );
    if (outcome === 'conflict') return { ok: false, identityOwner: owner ?? '' };
    return { ok: true, created: outcome === 'created' };
  }

  async delete(endpoint: string): Promise<boolean> {
    return (await this.scripts.lwm2mHubSecurityDelete(this.endpointsKey, this.identitiesKey, endpoint)) === 1;
  }

  /** HSCAN a page at a time: every entry present throughout the walk, each once. */
  async list(): Promise<SecurityEntry[]> {
    const entries = new Map<string, SecurityEntry>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.endpointsKey, cursor, 'COUNT', SCAN_PAGE);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const entry = parseStored(flat[i]!, flat[i + 1]!);
        if (entry) entries.set(entry.endpoint, entry);
      }
    } while (cursor !== '0');
    return [...entries.values()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.quit();
    } catch (error) {
      this.logger?.debug({ err: error }, 'security store: Redis QUIT failed; disconnecting');
      this.redis.disconnect();
    }
  }
}

function parseStored(endpoint: string, json: string | null): SecurityEntry | undefined {
  if (json === null) return undefined;
  const { identity, key } = JSON.parse(json) as { identity: string; key: string };
  return { endpoint, identity, key: Buffer.from(key, 'hex') };
}

// --- Choice ----------------------------------------------------------------------------------------

/** The security store of the same kind as the registration store, in the same place. */
export async function openSecurityStore(
  kind: 'memory' | 'file' | 'redis',
  options: { readonly dataDir?: string | undefined; readonly redisUrl?: string | undefined; readonly logger?: Logger },
): Promise<SecurityStore> {
  const logger = options.logger;
  switch (kind) {
    case 'memory':
      return new MemorySecurityStore();
    case 'file':
      if (!options.dataDir) throw new Error('--store file needs --data-dir');
      return FileSecurityStore.open(options.dataDir, logger ? { logger } : {});
    case 'redis':
      if (!options.redisUrl) throw new Error('--store redis needs --redis-url');
      return RedisSecurityStore.open(options.redisUrl, logger ? { logger } : {});
  }
}
