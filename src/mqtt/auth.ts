/**
 * MQTT users of the embedded broker (`--mqtt-auth`): parsing, password
 * verification and the topic ACL. No sockets and no Aedes here; the broker
 * wires these into Aedes's authenticate / authorizePublish / authorizeSubscribe.
 *
 * ## The `--mqtt-auth` value
 *
 * Either inline, entries separated by commas:
 *
 *     --mqtt-auth 'alice:secret,dev1:pw:node-1'
 *
 * or `@` and a file path (relative to the working directory), one entry per line:
 *
 *     # full access
 *     alice:secret
 *     ops:scrypt$3q2+7w8Rk1mX0aBcdEfGhA==$Zm9v…(base64)…
 *     # device-scoped: lwm2m/node-1/# only
 *     dev1:pw:node-1
 *     meter:scrypt$…$…:urn:imei:490154203237518
 *
 * An entry is `user:password` or `user:password:endpoint`. The user name and
 * the password end at the first and second `:`, so neither may contain `:`
 * (nor `,` in the inline form); the endpoint is the rest of the entry and may
 * (`urn:imei:…`), but must be a single topic level: no `/`, `+` or `#`.
 * In a file, `#` starts a comment line, blank lines are ignored and each line
 * is trimmed. User names are unique.
 *
 * A password is either the plain text or an scrypt hash
 * `scrypt$<salt-b64>$<hash-b64>`: node:crypto `scrypt(password, salt, hash.length)`
 * with Node's default cost (N=16384, r=8, p=1); salt at least 8 bytes, hash
 * at least 16 (hashPassword() makes 16 and 64). Make one (from the package directory, after `npm run build`) with
 *
 *     node -e "import('./dist/mqtt/auth.js').then((m) => console.log(m.hashPassword(process.argv[1])))" 'the password'
 *
 * ## Access
 *
 * A user without an endpoint may publish and subscribe anywhere (except
 * publishing to `$SYS/`, refused for everyone). A user with an endpoint may
 * only publish and subscribe under `{prefix}/{endpoint}` and below, i.e.
 * `{prefix}/{endpoint}/#`.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** How a user's password is kept: plain text, or an scrypt hash. */
export type Credential =
  { readonly kind: 'plain'; readonly password: Buffer } | { readonly kind: 'scrypt'; readonly salt: Buffer; readonly hash: Buffer };

export interface MqttUser {
  readonly username: string;
  /** Device scope: publish and subscribe only under `{prefix}/{endpoint}/#`. Full access when undefined. */
  readonly endpoint: string | undefined;
  readonly credential: Credential;
}

export interface MqttUsers {
  readonly users: ReadonlyMap<string, MqttUser>;
  /** `inline` or the file path, for messages. */
  readonly source: string;
}

/** MQTT 3.1.1 CONNACK return codes of a refused CONNECT (§3.2.2.3). */
export const BAD_USERNAME_OR_PASSWORD = 4;
export const NOT_AUTHORIZED = 5;

export type AuthResult =
  | { readonly ok: true; readonly user: MqttUser }
  | { readonly ok: false; readonly returnCode: typeof BAD_USERNAME_OR_PASSWORD | typeof NOT_AUTHORIZED; readonly reason: string };

const SCRYPT_PREFIX = 'scrypt$';
const SALT_BYTES = 16;
const HASH_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new scrypt hash of `plain` in the `scrypt$<salt-b64>$<hash-b64>` form `--mqtt-auth` accepts. */
export function hashPassword(plain: string): string {
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(Buffer.from(plain, 'utf8'), salt, HASH_BYTES);
  return `${SCRYPT_PREFIX}${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Reads a `--mqtt-auth` value: inline entries, or `@file`. Throws an Error
 * naming `--mqtt-auth` and the entry or line (never the password) when it cannot.
 */
export function parseMqttAuth(value: string, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): MqttUsers {
  if (value.startsWith('@')) {
    const path = value.slice(1).trim();
    if (path === '') throw new Error('invalid --mqtt-auth: "@" must be followed by a file path');
    let text: string;
    try {
      text = readFile(path);
    } catch (error) {
      throw new Error(`invalid --mqtt-auth: cannot read ${path}: ${(error as Error).message}`);
    }
    const entries = text.split(/\r?\n/).map((line, index) => ({ text: line.trim(), where: `${path} line ${index + 1}` }));
    return {
      users: parseEntries(
        entries.filter((e) => e.text !== '' && !e.text.startsWith('#')),
        path,
      ),
      source: path,
    };
  }
  const entries = value.split(',').map((text, index) => ({ text: text.trim(), where: `entry ${index + 1}` }));
  return {
    users: parseEntries(
      entries.filter((e) => e.text !== ''),
      'the value',
    ),
    source: 'inline',
  };
}

function parseEntries(entries: readonly { text: string; where: string }[], what: string): Map<string, MqttUser> {
  const users = new Map<string, MqttUser>();
  for (const { text, where } of entries) {
    const fail = (reason: string): never => {
      throw new Error(`invalid --mqtt-auth (${where}): ${reason}`);
    };
    const first = text.indexOf(':');
    if (first < 0) fail('expected user:password or user:password:endpoint');
    const second = text.indexOf(':', first + 1);
    const username = text.slice(0, first);
    const password = second < 0 ? text.slice(first + 1) : text.slice(first + 1, second);
    const endpoint = second < 0 ? undefined : text.slice(second + 1);
    if (username === '') fail('empty user name');
    if (password === '') fail(`empty password for user "${username}"`);
    if (endpoint !== undefined) {
      if (endpoint === '') fail(`empty endpoint for user "${username}" (leave out the second ":" for full access)`);
      if (/[/+#]/.test(endpoint)) fail(`endpoint of user "${username}" must be one topic level, without "/", "+" or "#"`);
    }
    if (users.has(username)) fail(`user "${username}" is listed twice`);
    users.set(username, {
      username,
      endpoint,
      credential: parseCredential(password, (reason) => fail(`${reason} for user "${username}"`)),
    });
  }
  if (users.size === 0) throw new Error(`invalid --mqtt-auth: no users in ${what}`);
  return users;
}

function parseCredential(password: string, fail: (reason: string) => never): Credential {
  if (!password.startsWith(SCRYPT_PREFIX)) return { kind: 'plain', password: Buffer.from(password, 'utf8') };
  const parts = password.slice(SCRYPT_PREFIX.length).split('$');
  if (parts.length !== 2 || !parts.every((p) => BASE64.test(p))) fail('malformed scrypt hash (expected scrypt$<salt-b64>$<hash-b64>)');
  const salt = Buffer.from(parts[0] ?? '', 'base64');
  const hash = Buffer.from(parts[1] ?? '', 'base64');
  if (salt.length < 8) fail('scrypt salt shorter than 8 bytes');
  if (hash.length < 16) fail('scrypt hash shorter than 16 bytes');
  return { kind: 'scrypt', salt, hash };
}

function scryptAsync(password: Buffer, salt: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Whether `password` matches, in time independent of where they differ. Scrypt runs off the event loop. */
export async function verifyPassword(credential: Credential, password: Buffer): Promise<boolean> {
  if (credential.kind === 'plain') {
    // Digests first: timingSafeEqual needs equal lengths, and the length must not leak either.
    const digest = (b: Buffer) => createHash('sha256').update(b).digest();
    return timingSafeEqual(digest(credential.password), digest(password));
  }
  const derived = await scryptAsync(password, credential.salt, credential.hash.length);
  return timingSafeEqual(derived, credential.hash);
}

/** Verified against when the user is unknown, so that an unknown name costs about what a wrong password does. */
const DUMMY_PLAIN: Credential = { kind: 'plain', password: Buffer.alloc(0) };
const DUMMY_SCRYPT: Credential = { kind: 'scrypt', salt: Buffer.alloc(SALT_BYTES), hash: Buffer.alloc(HASH_BYTES) };

/**
 * Checks a CONNECT's credentials: no user name → 5 (not authorized: no
 * anonymous access), unknown user or wrong or missing password → 4.
 */
export async function authenticateUser(table: MqttUsers, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
  if (username === undefined || username === '') return { ok: false, returnCode: NOT_AUTHORIZED, reason: 'no user name' };
  const user = table.users.get(username);
  if (user === undefined) {
    const hashed = [...table.users.values()].some((u) => u.credential.kind === 'scrypt');
    await verifyPassword(hashed ? DUMMY_SCRYPT : DUMMY_PLAIN, password ?? Buffer.alloc(0));
    return { ok: false, returnCode: BAD_USERNAME_OR_PASSWORD, reason: 'unknown user' };
  }
  if (password === undefined) return { ok: false, returnCode: BAD_USERNAME_OR_PASSWORD, reason: 'no password' };
  if (!(await verifyPassword(user.credential, password)))
    return { ok: false, returnCode: BAD_USERNAME_OR_PASSWORD, reason: 'wrong password' };
  return { ok: true, user };
}

/** `topic` (a PUBLISH topic or a SUBSCRIBE filter) lies within `{prefix}/{endpoint}/#`. */
function withinEndpoint(topic: string, prefix: string, endpoint: string): boolean {
  const base = `${prefix}/${endpoint}`;
  return topic === base || topic.startsWith(`${base}/`);
}

/** Whether `user` may publish to `topic`. `$SYS/` is refused for everyone. */
export function mayPublish(user: MqttUser | undefined, topic: string, prefix: string): boolean {
  if (topic.startsWith('$SYS/')) return false;
  if (user?.endpoint === undefined) return true;
  return withinEndpoint(topic, prefix, user.endpoint);
}

/**
 * Whether `user` may subscribe to `filter`. A device-scoped filter must name
 * the prefix and the endpoint literally; wildcards are fine below them, since
 * they cannot reach past `{prefix}/{endpoint}`.
 */
export function maySubscribe(user: MqttUser | undefined, filter: string, prefix: string): boolean {
  if (user?.endpoint === undefined) return true;
  return withinEndpoint(filter, prefix, user.endpoint);
}
