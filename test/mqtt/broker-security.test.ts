/**
 * The embedded broker's listeners (TCP, WebSocket, TLS), users and topic ACL
 * (`--mqtt-auth`), and back-pressure limits, on real loopback sockets.
 */
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../src/log.js';
import {
  authenticateUser,
  hashPassword,
  mayPublish,
  maySubscribe,
  parseMqttAuth,
  verifyPassword,
  type MqttUser,
} from '../../src/mqtt/auth.js';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from '../../src/mqtt/broker.js';

const HOST = '127.0.0.1';
const OPENSSL = spawnSync('openssl', ['version']).status === 0;
const MOSQUITTO_CLIENTS = spawnSync('mosquitto_pub', ['--help']).error === undefined;

/** Clients and raw sockets of the running test, closed after it whatever happened; temp dirs, removed at the end. */
const clients: MqttClient[] = [];
const sockets: Socket[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  for (const s of sockets.splice(0)) s.destroy();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-mqtt-'));
  dirs.push(dir);
  return dir;
}

function start(options: Partial<EmbeddedBrokerOptions> = {}): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({ host: HOST, port: 0, logger: silentLogger(), prefix: 'lwm2m', ...options });
}

async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  clients.push(client);
  return client;
}

/** The CONNACK return code of a refused CONNECT. */
async function refusal(url: string, options: IClientOptions): Promise<number> {
  const error = await connect(url, options).then(
    () => undefined,
    (e: unknown) => e as { code?: number },
  );
  expect(error, 'the connection should have been refused').toBeDefined();
  return error?.code ?? -1;
}

/** Collects the messages a client receives. */
function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const messages: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  return messages;
}

/**
 * The SUBACK return codes of one SUBSCRIBE. MQTT.js rejects when one of them
 * is 0x80 (Failure); the SUBACK is then on the error.
 */
async function subscribeCodes(client: MqttClient, filters: string[], qos: 0 | 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (error) {
    const suback = (error as { packet?: { granted?: number[] } }).packet;
    if (suback?.granted === undefined) throw error;
    return suback.granted;
  }
}

function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    ),
  );
}

/** Just enough MQTT 3.1.1 encoding for raw-socket clients (§2.2.3, §3.1, §3.3, §3.8). */
const raw = {
  packet(type: number, body: Buffer): Buffer {
    const length: number[] = [];
    let n = body.length;
    do {
      length.push((n % 128) | (n >= 128 ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return Buffer.concat([Buffer.from([type, ...length]), body]);
  },
  string(text: string | Buffer): Buffer {
    const bytes = Buffer.from(text);
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  },
  connect(clientId: string, credentials?: { username: string; password: string }): Buffer {
    const flags = 0x02 | (credentials ? 0xc0 : 0); // clean session, user name and password
    const payload = [raw.string(clientId), ...(credentials ? [raw.string(credentials.username), raw.string(credentials.password)] : [])];
    return raw.packet(0x10, Buffer.concat([raw.string('MQTT'), Buffer.from([4, flags, 0, 0]), ...payload]));
  },
  subscribe(topic: string): Buffer {
    return raw.packet(0x82, Buffer.concat([Buffer.from([0, 1]), raw.string(topic), Buffer.from([0])]));
  },
  publish(topic: string, payload: string): Buffer {
    return raw.packet(0x30, Buffer.concat([raw.string(topic), Buffer.from(payload)]));
  },
};

describe('--mqtt-auth parsing and checks', () => {
  it('reads inline entries, with and without an endpoint', () => {
    const { users, source } = parseMqttAuth(' alice:secret , dev1:pw:node-1,meter:m:urn:imei:4901542');
    expect(source).toBe('inline');
    expect([...users.values()].map((u) => [u.username, u.endpoint])).toEqual([
      ['alice', undefined],
      ['dev1', 'node-1'],
      ['meter', 'urn:imei:4901542'],
    ]);
  });

  it('reads a file with comments and blank lines, and names the line of an error', () => {
    const dir = tempDir();
    const good = path.join(dir, 'good.txt');
    writeFileSync(good, `# users\n\nalice:secret\n  # device\ndev1:${hashPassword('pw')}:node-1\r\n`);
    const { users } = parseMqttAuth(`@${good}`);
    expect(users.get('dev1')?.credential.kind).toBe('scrypt');
    expect(users.get('dev1')?.endpoint).toBe('node-1');

    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, '# users\nalice:secret\nbob\n');
    expect(() => parseMqttAuth(`@${bad}`)).toThrow(`invalid --mqtt-auth (${bad} line 3): expected user:password or user:password:endpoint`);
  });

  it.each([
    ['alice', 'entry 1): expected user:password'],
    ['alice:secret,alice:other', 'entry 2): user "alice" is listed twice'],
    [':pw', 'empty user name'],
    ['alice:', 'empty password'],
    ['dev:pw:', 'empty endpoint'],
    ['dev:pw:a/b', 'must be one topic level'],
    ['dev:pw:+', 'must be one topic level'],
    ['bob:scrypt$abc', 'malformed scrypt hash'],
    ['bob:scrypt$AAAA$AAAAAAAAAAAAAAAAAAAAAAAA', 'salt shorter than 8 bytes'],
    [' , ', 'no users'],
    ['@', 'must be followed by a file path'],
    ['@/nonexistent/lwm2m-hub-users', 'cannot read /nonexistent/lwm2m-hub-users'],
  ])('refuses %j', (value, message) => {
    expect(() => parseMqttAuth(value)).toThrow(message);
  });

  it('never puts a password in an error', () => {
    for (const value of ['alice:hunter2:a/b', 'alice:hunter2,alice:hunter2', 'alice:scrypt$hunter2']) {
      const error = (() => {
        try {
          parseMqttAuth(value);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error?.message).toBeDefined();
      expect(error?.message).not.toContain('hunter2');
    }
  });

  it('verifies plain and scrypt passwords', async () => {
    const { users } = parseMqttAuth(`alice:secret,bob:${hashPassword('pässword')}`);
    const alice = users.get('alice')!.credential;
    const bob = users.get('bob')!.credential;
    expect(await verifyPassword(alice, Buffer.from('secret'))).toBe(true);
    expect(await verifyPassword(alice, Buffer.from('secret2'))).toBe(false);
    expect(await verifyPassword(bob, Buffer.from('pässword'))).toBe(true);
    expect(await verifyPassword(bob, Buffer.from('password'))).toBe(false);
    expect(await authenticateUser({ users, source: 'inline' }, undefined, undefined)).toMatchObject({ ok: false, returnCode: 5 });
    expect(await authenticateUser({ users, source: 'inline' }, 'carol', Buffer.from('x'))).toMatchObject({ ok: false, returnCode: 4 });
    expect(await authenticateUser({ users, source: 'inline' }, 'bob', undefined)).toMatchObject({ ok: false, returnCode: 4 });
  });

  it('confines a device-scoped user to {prefix}/{endpoint}/#', () => {
    const device: MqttUser = { username: 'dev1', endpoint: 'node-1', credential: { kind: 'plain', password: Buffer.from('pw') } };
    const admin: MqttUser = { ...device, username: 'alice', endpoint: undefined };
    for (const topic of ['lwm2m/node-1', 'lwm2m/node-1/3303/0/5700']) expect(mayPublish(device, topic, 'lwm2m'), topic).toBe(true);
    for (const topic of ['lwm2m/node-2/x', 'lwm2m/node-10/x', 'lwm2m/node-1x', 'other/node-1/x', '$SYS/x'])
      expect(mayPublish(device, topic, 'lwm2m'), topic).toBe(false);
    for (const filter of ['lwm2m/node-1/#', 'lwm2m/node-1', 'lwm2m/node-1/+/0'])
      expect(maySubscribe(device, filter, 'lwm2m'), filter).toBe(true);
    for (const filter of ['#', 'lwm2m/#', 'lwm2m/+/x', 'lwm2m/node-2/#', 'lwm2m/node-1+/#', '$SYS/#'])
      expect(maySubscribe(device, filter, 'lwm2m'), filter).toBe(false);
    expect(mayPublish(admin, 'anything/at/all', 'lwm2m')).toBe(true);
    expect(mayPublish(admin, '$SYS/x', 'lwm2m')).toBe(false);
    expect(maySubscribe(admin, '#', 'lwm2m')).toBe(true);
    // A prefix of several levels.
    expect(mayPublish({ ...device }, 'acme/lwm2m/node-1/x', 'acme/lwm2m')).toBe(true);
    expect(maySubscribe({ ...device }, 'acme/lwm2m/+/x', 'acme/lwm2m')).toBe(false);
  });
});

describe('broker with --mqtt-auth alice:secret,dev1:pw:node-1', () => {
  let broker: EmbeddedBroker;
  let url: string;
  beforeAll(async () => {
    broker = await start({ auth: 'alice:secret,dev1:pw:node-1', wsPort: 0 });
    url = `mqtt://${HOST}:${broker.address().port}`;
  });
  afterAll(() => broker.close());

  it('lets alice in', async () => {
    const alice = await connect(url, { username: 'alice', password: 'secret' });
    expect(alice.connected).toBe(true);
    expect(broker.stats().clients).toBeGreaterThanOrEqual(1);
  });

  it('refuses a wrong password, an unknown user and no credentials', async () => {
    expect(await refusal(url, { username: 'alice', password: 'wrong' })).toBe(4);
    expect(await refusal(url, { username: 'mallory', password: 'secret' })).toBe(4);
    expect(await refusal(url, { username: 'alice' })).toBe(4);
    expect(await refusal(url, {})).toBe(5);
  });

  it('refuses no credentials over WebSocket too', async () => {
    expect(await refusal(`ws://${HOST}:${broker.wsAddress()!.port}`, {})).toBe(5);
  });

  it('lets dev1 use lwm2m/node-1/# only: another endpoint subscription fails with 0x80, a publish there disconnects it', async () => {
    const alice = await connect(url, { username: 'alice', password: 'secret' });
    const seenByAlice = inbox(alice);
    await alice.subscribeAsync('lwm2m/#', { qos: 1 });

    const dev1 = await connect(url, { username: 'dev1', password: 'pw', clientId: 'dev1-acl' });
    const seenByDev1 = inbox(dev1);
    expect(await subscribeCodes(dev1, ['lwm2m/node-1/#', 'lwm2m/node-2/#', 'lwm2m/+/x', '#'], 1)).toEqual([1, 0x80, 0x80, 0x80]);
    expect(dev1.connected).toBe(true);

    // Its own endpoint: delivered to alice and to dev1.
    await dev1.publishAsync('lwm2m/node-1/x', 'mine', { qos: 1 });
    await vi.waitFor(() => expect(seenByAlice).toContainEqual({ topic: 'lwm2m/node-1/x', payload: 'mine' }));
    await vi.waitFor(() => expect(seenByDev1).toContainEqual({ topic: 'lwm2m/node-1/x', payload: 'mine' }));

    // Someone else's: the broker closes the connection, nothing is routed.
    const closed = new Promise<void>((resolve) => dev1.once('close', () => resolve()));
    dev1.publish('lwm2m/node-2/x', 'not mine', { qos: 0 });
    await closed;
    // A marker published after the refusal arrives after anything the refused publish could have produced.
    await alice.publishAsync('lwm2m/node-2/marker', 'after', { qos: 1 });
    await vi.waitFor(() => expect(seenByAlice).toContainEqual({ topic: 'lwm2m/node-2/marker', payload: 'after' }));
    expect(seenByAlice.map((m) => m.topic)).not.toContain('lwm2m/node-2/x');
  });

  describe.skipIf(!MOSQUITTO_CLIENTS)(
    MOSQUITTO_CLIENTS ? 'with mosquitto_pub / mosquitto_sub' : 'with mosquitto clients — skipped: mosquitto_pub not found',
    () => {
      const mosquitto = (command: string, ...args: string[]) => run(command, ['-h', HOST, '-p', String(broker.address().port), ...args]);

      it('mosquitto_pub: alice publishes (exit 0), a wrong password (exit 4) and no credentials (exit 5) are refused', async () => {
        const alice = await connect(url, { username: 'alice', password: 'secret' });
        const seen = inbox(alice);
        await alice.subscribeAsync('lwm2m/node-1/cli', { qos: 1 });

        const ok = await mosquitto(
          'mosquitto_pub',
          '-u',
          'alice',
          '-P',
          'secret',
          '-t',
          'lwm2m/node-1/cli',
          '-m',
          'from mosquitto_pub',
          '-q',
          '1',
        );
        expect(ok).toMatchObject({ code: 0, stderr: '' });
        await vi.waitFor(() => expect(seen).toContainEqual({ topic: 'lwm2m/node-1/cli', payload: 'from mosquitto_pub' }));

        const wrong = await mosquitto('mosquitto_pub', '-u', 'alice', '-P', 'wrong', '-t', 'lwm2m/node-1/cli', '-m', 'x');
        expect(wrong.code).toBe(4);
        expect(wrong.stderr).toContain('bad user name or password');
        const anonymous = await mosquitto('mosquitto_pub', '-t', 'lwm2m/node-1/cli', '-m', 'x');
        expect(anonymous.code).toBe(5);
        expect(anonymous.stderr).toContain('not authorised');
      });

      it('mosquitto_pub: dev1 publishing to another endpoint loses its connection and nothing reaches alice', async () => {
        const alice = await connect(url, { username: 'alice', password: 'secret' });
        const seen = inbox(alice);
        await alice.subscribeAsync('lwm2m/node-2/#', { qos: 1 });
        const denied = await mosquitto('mosquitto_pub', '-u', 'dev1', '-P', 'pw', '-t', 'lwm2m/node-2/x', '-m', 'not mine', '-q', '1');
        expect(denied.code).not.toBe(0);
        expect(denied.stderr).toContain('connection was lost');
        await alice.publishAsync('lwm2m/node-2/marker', 'after', { qos: 1 });
        await vi.waitFor(() => expect(seen).toContainEqual({ topic: 'lwm2m/node-2/marker', payload: 'after' }));
        expect(seen.map((m) => m.topic)).not.toContain('lwm2m/node-2/x');
      });

      it('mosquitto_sub: dev1 receives under lwm2m/node-1/#, its lwm2m/node-2/# subscription is denied', async () => {
        const alice = await connect(url, { username: 'alice', password: 'secret' });
        // Retained, so that mosquitto_sub gets it whenever it subscribes.
        await alice.publishAsync('lwm2m/node-1/retained', 'kept', { qos: 1, retain: true });
        const own = await mosquitto('mosquitto_sub', '-u', 'dev1', '-P', 'pw', '-t', 'lwm2m/node-1/#', '-C', '1', '-W', '5', '-v');
        expect(own).toMatchObject({ code: 0, stdout: 'lwm2m/node-1/retained kept\n' });

        await alice.publishAsync('lwm2m/node-2/retained', 'not yours', { qos: 1, retain: true });
        const other = await mosquitto('mosquitto_sub', '-u', 'dev1', '-P', 'pw', '-t', 'lwm2m/node-2/#', '-C', '1', '-W', '5', '-v');
        expect(other.stderr).toContain('All subscription requests were denied');
        expect(other.stdout).toBe('');
        await alice.publishAsync('lwm2m/node-1/retained', '', { qos: 1, retain: true });
        await alice.publishAsync('lwm2m/node-2/retained', '', { qos: 1, retain: true });
      });
    },
  );
});

describe('broker with --mqtt-auth @file (scrypt hashes, an endpoint with colons)', () => {
  let broker: EmbeddedBroker;
  let url: string;
  beforeAll(async () => {
    const file = path.join(tempDir(), 'users.txt');
    writeFileSync(
      file,
      ['# MQTT users of the test', '', `carol:${hashPassword('correct horse')}`, `meter:${hashPassword('m-pw')}:urn:imei:4901542`, ''].join(
        '\n',
      ),
    );
    broker = await start({ auth: `@${file}` });
    url = `mqtt://${HOST}:${broker.address().port}`;
  });
  afterAll(() => broker.close());

  it('lets carol in with her password, not with another', async () => {
    const carol = await connect(url, { username: 'carol', password: 'correct horse' });
    expect(carol.connected).toBe(true);
    expect(await refusal(url, { username: 'carol', password: 'correct horse!' })).toBe(4);
  });

  it('confines meter to lwm2m/urn:imei:4901542/#', async () => {
    const meter = await connect(url, { username: 'meter', password: 'm-pw' });
    expect(await subscribeCodes(meter, ['lwm2m/urn:imei:4901542/#', 'lwm2m/urn:imei:4901543/#'], 0)).toEqual([0, 0x80]);
  });
});

describe('broker without --mqtt-auth', () => {
  let broker: EmbeddedBroker;
  const logs: { level: number; msg: string }[] = [];
  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line) as { level: number; msg: string }) });
    broker = await start({ logger, wsPort: 0 });
  });
  afterAll(() => broker.close());

  it('warns at start that it accepts anonymous clients, and does', async () => {
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 40, msg: expect.stringContaining('MQTT broker accepts anonymous clients') }),
    );
    const anonymous = await connect(`mqtt://${HOST}:${broker.address().port}`);
    expect(anonymous.connected).toBe(true);
    expect(broker.tlsAddress()).toBeUndefined();
  });

  it('carries a message from a WebSocket publisher to a TCP subscriber', async () => {
    const ws = broker.wsAddress();
    expect(ws).toBeDefined();
    const subscriber = await connect(`mqtt://${HOST}:${broker.address().port}`);
    const seen = inbox(subscriber);
    await subscriber.subscribeAsync('lwm2m/ws/#', { qos: 1 });
    const publisher = await connect(`ws://${HOST}:${ws!.port}`);
    await publisher.publishAsync('lwm2m/ws/hello', 'over websocket', { qos: 1 });
    await vi.waitFor(() => expect(seen).toContainEqual({ topic: 'lwm2m/ws/hello', payload: 'over websocket' }));
  });

  it('sends each MQTT packet to a WebSocket subscriber in one WebSocket message, not one per piece', async () => {
    // A raw WebSocket client, so that message boundaries are seen (an MQTT client reassembles them).
    const websocket = new WebSocket(`ws://${HOST}:${broker.wsAddress()!.port}`, 'mqtt');
    const messages: Buffer[] = [];
    websocket.on('message', (data: Buffer) => messages.push(data));
    await once(websocket, 'open');
    try {
      // MQTT 3.1.1 §3.1: CONNECT, clean session, keep-alive 60 s, client id "ws-raw".
      websocket.send(Buffer.from('101200044d5154540402003c000677732d726177', 'hex'));
      // §3.8: SUBSCRIBE packet id 1 to "lwm2m/ws/#" at QoS 0.
      websocket.send(Buffer.from('820f0001000a6c776d326d2f77732f2300', 'hex'));
      await vi.waitFor(() => expect(messages.map((m) => m.toString('hex'))).toEqual(['20020000', '9003000100']));
      const publisher = await connect(`mqtt://${HOST}:${broker.address().port}`);
      await publisher.publishAsync('lwm2m/ws/a', 'hello');
      // §3.3: PUBLISH at QoS 0, topic "lwm2m/ws/a", payload "hello": 19 bytes in one message.
      await vi.waitFor(() => expect(messages.slice(2).map((m) => m.toString('hex'))).toEqual(['3011000a6c776d326d2f77732f6168656c6c6f']));
    } finally {
      websocket.terminate();
    }
  });

  it('answers a plain HTTP request on the WebSocket port with 426', async () => {
    const response = await fetch(`http://${HOST}:${broker.wsAddress()!.port}/`);
    expect(response.status).toBe(426);
    await response.text();
  });
});

describe.skipIf(!OPENSSL)(OPENSSL ? 'TLS listener' : 'TLS listener — skipped: the openssl CLI was not found', () => {
  let dir: string;
  let cert: string;
  let key: string;
  beforeAll(() => {
    dir = tempDir();
    cert = path.join(dir, 'cert.pem');
    key = path.join(dir, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
  });

  it('carries a message over mqtts://', async () => {
    const broker = await start({ tlsPort: 0, tlsCert: cert, tlsKey: key, auth: 'alice:secret' });
    try {
      const tls = broker.tlsAddress();
      expect(tls).toBeDefined();
      const options: IClientOptions = { username: 'alice', password: 'secret', rejectUnauthorized: false };
      const subscriber = await connect(`mqtts://${HOST}:${tls!.port}`, options);
      const seen = inbox(subscriber);
      await subscriber.subscribeAsync('lwm2m/tls/#', { qos: 1 });
      const publisher = await connect(`mqtts://${HOST}:${tls!.port}`, options);
      await publisher.publishAsync('lwm2m/tls/hello', 'over tls', { qos: 1 });
      await vi.waitFor(() => expect(seen).toContainEqual({ topic: 'lwm2m/tls/hello', payload: 'over tls' }));
      expect(await refusal(`mqtts://${HOST}:${tls!.port}`, { rejectUnauthorized: false })).toBe(5);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
      await broker.close();
    }
  });

  it('refuses to start with a key file that is not a key', async () => {
    await expect(start({ tlsPort: 0, tlsCert: cert, tlsKey: cert })).rejects.toThrow(/invalid --mqtt-tls-cert\/--mqtt-tls-key/);
  });
});

describe('start-up errors', () => {
  it('names --mqtt-tls-key when only the certificate is given, and the other way round', async () => {
    await expect(start({ tlsPort: 0, tlsCert: '/some/cert.pem' })).rejects.toThrow('--mqtt-tls-cert is set but --mqtt-tls-key is missing');
    await expect(start({ tlsPort: 0, tlsKey: '/some/key.pem' })).rejects.toThrow('--mqtt-tls-key is set but --mqtt-tls-cert is missing');
  });

  it('names the file it cannot read', async () => {
    await expect(start({ tlsPort: 0, tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' })).rejects.toThrow(
      'cannot read --mqtt-tls-cert /nonexistent/cert.pem',
    );
  });

  it('names the line of a bad --mqtt-auth file', async () => {
    const file = path.join(tempDir(), 'users.txt');
    writeFileSync(file, 'alice:secret\n\n# next is wrong\ndev1:pw:lwm2m/x\n');
    await expect(start({ auth: `@${file}` })).rejects.toThrow(`${file} line 4`);
  });

  it('reports a port in use, naming the listener and the port', async () => {
    const first = await start();
    try {
      await expect(start({ wsPort: first.address().port })).rejects.toThrow(
        `cannot listen for MQTT over WebSocket on ${HOST} port ${first.address().port}`,
      );
    } finally {
      await first.close();
    }
  });
});

describe('close()', () => {
  it('returns with clients connected on every listener, one of them not yet past CONNECT', async () => {
    const broker = await start({ wsPort: 0 });
    const tcp = await connect(`mqtt://${HOST}:${broker.address().port}`);
    const ws = await connect(`ws://${HOST}:${broker.wsAddress()!.port}`);
    const silent = connectTcp(broker.address().port, HOST);
    sockets.push(silent);
    await new Promise((resolve) => silent.once('connect', resolve));
    const silentClosed = new Promise((resolve) => silent.once('close', resolve));
    const tcpClosed = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
    const wsClosed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await broker.close();
    await Promise.all([silentClosed, tcpClosed, wsClosed]);
    await broker.close(); // twice is fine
  });
});

describe('back-pressure', () => {
  it('disconnects a subscriber that stops reading, counts its dropped messages, and keeps delivering to the others', async () => {
    const broker = await start({ limits: { drainTimeoutMs: 200, concurrency: 16 } });
    try {
      const port = broker.address().port;
      // A subscriber that never reads past its SUBACK.
      const frozen = connectTcp(port, HOST);
      sockets.push(frozen);
      frozen.on('error', () => {});
      await new Promise((resolve) => frozen.once('connect', resolve));
      const subacked = new Promise((resolve) => frozen.once('data', resolve));
      frozen.write(Buffer.concat([raw.connect('frozen'), raw.subscribe('lwm2m/bulk/#')]));
      await subacked;
      frozen.pause();

      const healthy = await connect(`mqtt://${HOST}:${port}`);
      let received = 0;
      healthy.on('message', () => received++);
      await healthy.subscribeAsync('lwm2m/bulk/#', { qos: 0 });
      const publisher = await connect(`mqtt://${HOST}:${port}`);
      expect(broker.stats()).toEqual({ droppedMessages: 0, clients: 3 });

      // Well past what the loopback socket buffers of the frozen client hold.
      const count = 400;
      const payload = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < count; i++) publisher.publish('lwm2m/bulk/data', payload, { qos: 0 });

      await vi.waitFor(() => expect(received).toBe(count), { timeout: 15_000 });
      const stats = broker.stats();
      expect(stats.clients).toBe(2);
      expect(stats.droppedMessages).toBeGreaterThan(0);
      expect(stats.droppedMessages).toBeLessThan(count);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
      await broker.close();
    }
  });

  it('disconnects a client that sends more than queueLimit packets before its CONNECT is accepted', async () => {
    const broker = await start({ auth: 'alice:secret', limits: { queueLimit: 2 } });
    try {
      const socket = connectTcp(broker.address().port, HOST);
      sockets.push(socket);
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const packets = [raw.connect('eager', { username: 'alice', password: 'secret' })];
      for (let i = 0; i < 5; i++) packets.push(raw.publish('lwm2m/eager/x', 'x'));
      socket.write(Buffer.concat(packets)); // one write: Aedes parses them all while the password is checked
      await closed;
      expect(broker.stats().droppedMessages).toBeGreaterThan(0);
    } finally {
      await broker.close();
    }
  });
});
