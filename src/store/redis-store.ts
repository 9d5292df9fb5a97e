/**
 * Registrations and observations in Redis, shared by several hub instances behind
 * one address (a Kubernetes Service): a client registered through one instance
 * is found, updated, observed and expired through any other.
 *
 * Keys (all under `keyPrefix`, default `lwm2m-hub:`):
 *
 *   reg:{id}               string  JSON of the Registration
 *   ep:{endpoint}          string  id of the endpoint's registration
 *   peer:{address|port}    string  id of the registration last seen from that peer (`peerKey`)
 *   expiry                 zset    member id, score lastUpdate + lifetime * 1000 (`expiresAt`)
 *   obs:{id}               string  JSON of a StoredObservation
 *   obs:all                set     ids of the stored observations
 *
 * Every lookup is one GET (or two through an index); nothing but `list()` walks
 * all clients. Expiry is a range query on the `expiry` sorted set, so instances
 * keep no timers of their own: the registration handler polls `claimExpired`.
 *
 * Every change of a registration is one Lua script, so it is atomic against the
 * other instances and, on our single connection, applied in the order it was
 * made (as the memory store does). The scripts build index keys from the prefix,
 * so they target one Redis (standalone or Sentinel), not Redis Cluster.
 */
import { Redis, type ChainableCommander } from 'ioredis';
import { DEFAULT_KEY_PREFIX, redactUrl } from './redis-common.js';
import { peerKey, type Peer } from '../coap/peer.js';
import type { Logger } from '../log.js';
import { expiresAt, type Registration } from '../lwm2m/registration/registration.js';
import type { ObservationStore, StoredObservation } from './observation-store.js';
import type { RegistrationChanges, RegistrationStore } from './registration-store.js';

export interface RedisStoreOptions {
  readonly logger?: Logger;
  /** Prepended to every key, so that several hubs (or tests) can share one Redis database. */
  readonly keyPrefix?: string;
}

export interface RedisStores {
  readonly store: RedisRegistrationStore;
  readonly observationStore: RedisObservationStore;
}


/** How long the first connection may take before the hub gives up starting. */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * Reconnection attempts a command waits through before it fails (ioredis' default is 20,
 * about a minute): a CoAP request should fail in seconds and be retransmitted, not hang.
 */
const MAX_RETRIES_PER_REQUEST = 2;
/** Ids fetched per ZSCAN / MGET round trip in `list()`. */
const PAGE = 200;

/**
 * Opens one connection to Redis and the two stores that share it. Rejects, naming
 * the URL (without its password), when Redis does not answer PING at start: a hub
 * configured for a shared store must not come up alone.
 */
export async function openRedisStores(url: string, options: RedisStoreOptions = {}): Promise<RedisStores> {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const shown = redactUrl(url);
  const redis = new Redis(url, {
    lazyConnect: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    connectionName: 'lwm2m-hub',
  });
  const connection = new SharedConnection(redis, shown, options.logger);
  try {
    await connection.ready(CONNECT_TIMEOUT_MS);
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(pong)}`);
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis at ${shown} is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  connection.started();
  options.logger?.info({ redis: shown, keyPrefix: prefix }, 'connected to Redis');
  return {
    store: new RedisRegistrationStore(redis, prefix, connection.lease()),
    observationStore: new RedisObservationStore(redis, prefix, connection.lease()),
  };
}

// --- Lua -------------------------------------------------------------------------------------------
//
// Every script gets KEYS[1] = the expiry zset and ARGV[1] = the key prefix.
// cjson is only used to read registrations (its decoder is exact; its encoder
// would turn [] into {} and round numbers to 14 digits), never to write them.

const LUA_PRELUDE = `
local expiry = KEYS[1]
local prefix = ARGV[1]

-- Numbers as JavaScript writes integers: 5683, 1700000003600000 (not 1.7000000036e+15).
local function num(n) return string.format('%.17g', n) end

-- Same text as peerKey(): a peer reached over DTLS is another peer than the same address and port without it.
local function peerOf(reg) return (reg.secure == true and 'dtls:' or '') .. reg.address .. '|' .. num(reg.port) end

-- Deletes a registration and its zset member, and its index entries where they still
-- point at it (another registration may have taken the endpoint or the address since).
local function drop(id, json)
  local reg = cjson.decode(json)
  redis.call('DEL', prefix .. 'reg:' .. id)
  redis.call('ZREM', expiry, id)
  local ep = prefix .. 'ep:' .. reg.endpoint
  if redis.call('GET', ep) == id then redis.call('DEL', ep) end
  local peer = prefix .. 'peer:' .. peerOf(reg)
  if redis.call('GET', peer) == id then redis.call('DEL', peer) end
end
`;

/** ARGV: prefix, id, endpoint, peerKey, json, score. Returns the replaced registration's JSON or nil. */
const LUA_ADD = `${LUA_PRELUDE}
local id, endpoint, peer, json, score = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local replaced = false
local oldId = redis.call('GET', prefix .. 'ep:' .. endpoint)
if oldId then
  local old = redis.call('GET', prefix .. 'reg:' .. oldId)
  if old then
    drop(oldId, old)
    replaced = old
  end
end
-- The same id under another endpoint (ids are unique, so only by mistake): keep the indexes clean.
local same = redis.call('GET', prefix .. 'reg:' .. id)
if same then drop(id, same) end
redis.call('SET', prefix .. 'reg:' .. id, json)
redis.call('SET', prefix .. 'ep:' .. endpoint, id)
redis.call('SET', prefix .. 'peer:' .. peer, id)
redis.call('ZADD', expiry, score, id)
return replaced
`;

/** ARGV: prefix, id. Returns the removed registration's JSON or nil. */
const LUA_REMOVE = `${LUA_PRELUDE}
local id = ARGV[2]
local json = redis.call('GET', prefix .. 'reg:' .. id)
if not json then return false end
drop(id, json)
return json
`;

/**
 * ARGV: prefix, id, then pairs of a JSON-encoded member name and its JSON value
 * ('' removes the member). Returns { previous JSON, current JSON } or nil.
 *
 * The merge splices the stored JSON text (written by JSON.stringify: no whitespace)
 * member by member, so values not changed are kept byte for byte.
 */
const LUA_UPDATE = `${LUA_PRELUDE}
local id = ARGV[2]
local key = prefix .. 'reg:' .. id
local old = redis.call('GET', key)
if not old then return false end

-- Index just past the JSON string starting at i (a '"').
local function skipString(s, i)
  local j = i + 1
  while true do
    local c = string.byte(s, j)
    if c == 34 then return j + 1 end
    if c == nil then error('malformed registration JSON at ' .. key) end
    if c == 92 then j = j + 2 else j = j + 1 end
  end
end

-- The top-level members of a JSON object as { name token, value text } in order.
local function members(s)
  local list = {}
  if string.byte(s, 2) == 125 then return list end
  local i = 2
  while true do
    local nameEnd = skipString(s, i)
    local name = string.sub(s, i, nameEnd - 1)
    local j = nameEnd + 1
    local start, depth = j, 0
    while true do
      local c = string.byte(s, j)
      if c == 34 then
        j = skipString(s, j)
      else
        if c == 123 or c == 91 then depth = depth + 1
        elseif c == 125 or c == 93 then
          if depth == 0 then break end
          depth = depth - 1
        elseif c == 44 and depth == 0 then break
        elseif c == nil then error('malformed registration JSON at ' .. key) end
        j = j + 1
      end
    end
    list[#list + 1] = { name, string.sub(s, start, j - 1) }
    if string.byte(s, j) == 125 then return list end
    i = j + 1
  end
end

local changes, order = {}, {}
for n = 3, #ARGV, 2 do
  changes[ARGV[n]] = ARGV[n + 1]
  order[#order + 1] = ARGV[n]
end
local parts, seen = {}, {}
for _, member in ipairs(members(old)) do
  local name, value = member[1], member[2]
  seen[name] = true
  local change = changes[name]
  if change == nil then parts[#parts + 1] = name .. ':' .. value
  elseif change ~= '' then parts[#parts + 1] = name .. ':' .. change end
end
for _, name in ipairs(order) do
  local change = changes[name]
  if not seen[name] and change ~= '' then parts[#parts + 1] = name .. ':' .. change end
end
local json = '{' .. table.concat(parts, ',') .. '}'

local before, after = cjson.decode(old), cjson.decode(json)
redis.call('SET', key, json)
local oldPeer, newPeer = peerOf(before), peerOf(after)
if oldPeer ~= newPeer then
  local oldKey = prefix .. 'peer:' .. oldPeer
  if redis.call('GET', oldKey) == id then redis.call('DEL', oldKey) end
  redis.call('SET', prefix .. 'peer:' .. newPeer, id)
end
redis.call('ZADD', expiry, num(after.lastUpdate + after.lifetime * 1000), id)
return { old, json }
`;

/**
 * ARGV: prefix, deadline (now - grace), limit. Removes and returns the JSON of up to
 * limit registrations whose expiry score is at or before the deadline. One script
 * runs at a time in Redis, so each expired registration goes to exactly one caller.
 */
const LUA_CLAIM_EXPIRED = `${LUA_PRELUDE}
local ids = redis.call('ZRANGEBYSCORE', expiry, '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
local claimed = {}
for _, id in ipairs(ids) do
  local json = redis.call('GET', prefix .. 'reg:' .. id)
  if json then
    drop(id, json)
    claimed[#claimed + 1] = json
  else
    redis.call('ZREM', expiry, id)
  end
end
return claimed
`;

/** The scripts as ioredis methods (defineCommand: EVALSHA, falling back to EVAL after a Redis restart). */
interface RegistrationScripts {
  lwm2mHubAdd(
    expiryKey: string,
    prefix: string,
    id: string,
    endpoint: string,
    peer: string,
    json: string,
    score: string,
  ): Promise<string | null>;
  lwm2mHubRemove(expiryKey: string, prefix: string, id: string): Promise<string | null>;
  lwm2mHubUpdate(expiryKey: string, prefix: string, id: string, ...changes: string[]): Promise<[string, string] | null>;
  lwm2mHubClaimExpired(expiryKey: string, prefix: string, deadline: string, limit: string): Promise<string[]>;
}

// --- Registrations -------------------------------------------------------------------------------------------

/** Use `openRedisStores`; the constructor is for it. */
export class RedisRegistrationStore implements RegistrationStore {
  private readonly scripts: RegistrationScripts;
  private readonly expiryKey: string;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly release: () => Promise<void>,
  ) {
    this.expiryKey = `${prefix}expiry`;
    // The connection is ours alone (openRedisStores), so defining the commands on it is safe.
    redis.defineCommand('lwm2mHubAdd', { numberOfKeys: 1, lua: LUA_ADD });
    redis.defineCommand('lwm2mHubRemove', { numberOfKeys: 1, lua: LUA_REMOVE });
    redis.defineCommand('lwm2mHubUpdate', { numberOfKeys: 1, lua: LUA_UPDATE });
    redis.defineCommand('lwm2mHubClaimExpired', { numberOfKeys: 1, lua: LUA_CLAIM_EXPIRED });
    this.scripts = redis as unknown as RegistrationScripts;
  }

  async add(registration: Registration): Promise<Registration | undefined> {
    const replaced = await this.scripts.lwm2mHubAdd(
      this.expiryKey,
      this.prefix,
      registration.id,
      registration.endpoint,
      peerKey(registration),
      JSON.stringify(registration),
      String(expiresAt(registration)),
    );
    return parseRegistration(replaced);
  }

  async update(id: string, changes: RegistrationChanges): Promise<{ previous: Registration; current: Registration } | undefined> {
    // Member name and value both JSON-encoded; '' (which JSON never is) for a field set to undefined.
    const pairs = Object.entries(changes).flatMap(([name, value]) => [
      JSON.stringify(name),
      value === undefined ? '' : JSON.stringify(value),
    ]);
    const result = await this.scripts.lwm2mHubUpdate(this.expiryKey, this.prefix, id, ...pairs);
    if (!result) return undefined;
    return { previous: JSON.parse(result[0]) as Registration, current: JSON.parse(result[1]) as Registration };
  }

  async remove(id: string): Promise<Registration | undefined> {
    return parseRegistration(await this.scripts.lwm2mHubRemove(this.expiryKey, this.prefix, id));
  }

  async getById(id: string): Promise<Registration | undefined> {
    return parseRegistration(await this.redis.get(this.regKey(id)));
  }

  async getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    return this.getByIndex(`${this.prefix}ep:${endpoint}`);
  }

  async getByPeer(peer: Peer): Promise<Registration | undefined> {
    return this.getByIndex(`${this.prefix}peer:${peerKey(peer)}`);
  }

  /**
   * Walks the expiry zset with ZSCAN, a page of ids at a time, and fetches each page with
   * one MGET. Like any SCAN it sees every registration present throughout the walk, may
   * miss ones added or removed meanwhile, and may return an id twice (dropped here).
   */
  async *list(): AsyncIterable<Registration> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(this.expiryKey, cursor, 'COUNT', PAGE);
      cursor = next;
      // ZSCAN answers member, score, member, score, …
      const ids = flat.filter((_, i) => i % 2 === 0).filter((id) => !seen.has(id));
      if (ids.length === 0) continue;
      for (const id of ids) seen.add(id);
      const values = await this.redis.mget(ids.map((id) => this.regKey(id)));
      for (const json of values) {
        const registration = parseRegistration(json);
        if (registration) yield registration;
      }
    } while (cursor !== '0');
  }

  async claimExpired(now: number, graceMs: number, limit: number): Promise<Registration[]> {
    if (limit <= 0) return [];
    const claimed = await this.scripts.lwm2mHubClaimExpired(this.expiryKey, this.prefix, String(now - graceMs), String(Math.floor(limit)));
    return claimed.map((json) => JSON.parse(json) as Registration);
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.expiryKey);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  private regKey(id: string): string {
    return `${this.prefix}reg:${id}`;
  }

  private async getByIndex(indexKey: string): Promise<Registration | undefined> {
    const id = await this.redis.get(indexKey);
    return id === null ? undefined : this.getById(id);
  }
}

// --- Observations -------------------------------------------------------------------------------------------

/**
 * Observations by token id, so that a notification reaching any instance is recognised
 * (`get`), and all of them for `restore()` at start (`list`, SMEMBERS: observations are
 * read in full only then).
 */
export class RedisObservationStore implements ObservationStore {
  private readonly allKey: string;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly release: () => Promise<void>,
  ) {
    this.allKey = `${prefix}obs:all`;
  }

  async add(observation: StoredObservation): Promise<void> {
    // MULTI: the value and its set membership appear together.
    await execOrThrow(this.redis.multi().set(this.key(observation.id), JSON.stringify(observation)).sadd(this.allKey, observation.id));
  }

  async remove(id: string): Promise<void> {
    await execOrThrow(this.redis.multi().del(this.key(id)).srem(this.allKey, id));
  }

  async get(id: string): Promise<StoredObservation | undefined> {
    const json = await this.redis.get(this.key(id));
    return json === null ? undefined : (JSON.parse(json) as StoredObservation);
  }

  async list(): Promise<StoredObservation[]> {
    const ids = await this.redis.smembers(this.allKey);
    const observations: StoredObservation[] = [];
    for (let i = 0; i < ids.length; i += PAGE) {
      const values = await this.redis.mget(ids.slice(i, i + PAGE).map((id) => this.key(id)));
      for (const json of values) if (json !== null) observations.push(JSON.parse(json) as StoredObservation);
    }
    return observations;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  private key(id: string): string {
    return `${this.prefix}obs:${id}`;
  }
}

// --- Connection -------------------------------------------------------------------------------------------

/**
 * The one connection both stores use: logs its losses and recoveries once each (ioredis
 * reports every failed reconnect), and quits when the last store using it closes
 * (the hub closes both stores at once).
 */
class SharedConnection {
  private users = 0;
  /** 'starting' until openRedisStores has its PONG: start-up failures are its to report. */
  private state: 'starting' | 'up' | 'down' = 'starting';

  constructor(
    private readonly redis: Redis,
    private readonly shown: string,
    private readonly logger: Logger | undefined,
  ) {
    // Without an 'error' listener ioredis prints every connection error to the console.
    redis.on('error', (error: Error) => {
      if (this.state !== 'up') return;
      this.state = 'down';
      logger?.warn({ redis: shown, err: error }, 'Redis connection lost; reconnecting');
    });
    redis.on('ready', () => {
      if (this.state !== 'down') return;
      this.state = 'up';
      logger?.info({ redis: shown }, 'Redis connection restored');
    });
  }

  started(): void {
    this.state = 'up';
  }

  /** Resolves once connected; rejects with the first connection error or after timeoutMs. */
  ready(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        this.redis.off('error', onError);
        this.redis.off('end', onEnd);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onError = (error: Error) => done(error);
      const onEnd = () => done(new Error('connection closed'));
      const timer = setTimeout(() => done(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      this.redis.once('ready', onReady);
      this.redis.once('error', onError);
      this.redis.once('end', onEnd);
    });
  }

  lease(): () => Promise<void> {
    this.users++;
    return async () => {
      if (--this.users > 0) return;
      try {
        await this.redis.quit();
      } catch (error) {
        // Redis gone: QUIT cannot be answered, so drop the socket (and any reconnect timer).
        this.logger?.debug({ redis: this.shown, err: error }, 'Redis QUIT failed; disconnecting');
        this.redis.disconnect();
      }
    };
  }
}

async function execOrThrow(transaction: ChainableCommander): Promise<void> {
  const results = await transaction.exec();
  if (results === null) throw new Error('Redis transaction aborted');
  for (const [error] of results) if (error) throw error;
}

function parseRegistration(json: string | null): Registration | undefined {
  return json === null ? undefined : (JSON.parse(json) as Registration);
}

export { DEFAULT_KEY_PREFIX, redactUrl };
