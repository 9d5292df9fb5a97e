/**
 * The DTLS server on a real socket against our test client (test/support/dtls-client.ts),
 * which can fragment, reorder, lose and forge what it sends: the handshake with each cipher
 * suite, the cookie exchange, retransmission, alerts, replay, bad records, renegotiation,
 * and the bounds on the state kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DtlsServer, type DtlsServerOptions } from '../../../src/coap/dtls/server.js';
import { encodeClientHello, encodeHandshake } from '../../../src/coap/dtls/handshake.js';
import {
  AlertDescription,
  AlertLevel,
  CipherSuiteId,
  ContentType,
  DTLS_1_0,
  DTLS_1_2,
  HandshakeType,
} from '../../../src/coap/dtls/parameters.js';
import { encodeRecord } from '../../../src/coap/dtls/record.js';
import type { Peer } from '../../../src/coap/peer.js';
import { DtlsAlertError, DtlsClient, DtlsClientConnection, type DtlsClientOptions } from '../../support/dtls-client.js';
import { RawUdp } from '../../support/raw-udp.js';

const KEYS: Record<string, Buffer> = {
  'sensor-1': Buffer.from('secretPSK'),
  'sensor-2': Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
};
const CCM_8 = CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8;
const CBC = CipherSuiteId.TLS_PSK_WITH_AES_128_CBC_SHA256;

const servers: DtlsServer[] = [];
const clients: DtlsClient[] = [];
const sockets: RawUdp[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(sockets.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that answers every application datagram with `echo:` and what it got, and records who sent it. */
async function echoServer(
  options: Partial<DtlsServerOptions> = {},
): Promise<{ server: DtlsServer; received: { text: string; peer: Peer; identity: string }[] }> {
  const server = await DtlsServer.bind({
    host: '::',
    pskForIdentity: async (identity) => KEYS[identity],
    retransmission: { initialMs: 200, maxMs: 1000, maxRetransmissions: 4 },
    ...options,
  });
  servers.push(server);
  const received: { text: string; peer: Peer; identity: string }[] = [];
  server.onDatagram = (datagram, peer, security) => {
    received.push({ text: datagram.toString(), peer, identity: security.pskIdentity });
    server.send(Buffer.from(`echo:${datagram.toString()}`), peer);
  };
  return { server, received };
}

async function connect(server: DtlsServer, options: Partial<DtlsClientOptions> = {}, address = '::1'): Promise<DtlsClient> {
  const client = await DtlsClient.connect(address, server.address().port, {
    identity: 'sensor-1',
    key: KEYS['sensor-1'] as Buffer,
    ...options,
  });
  clients.push(client);
  return client;
}

/** Sends and waits for the echo. */
async function roundTrip(client: DtlsClient, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo of ${text}`)), 5000);
    client.connection.onData = (data) => {
      clearTimeout(timer);
      resolve(data.toString());
    };
    client.connection.send(Buffer.from(text));
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rawSocket(family: 4 | 6 = 6): Promise<RawUdp> {
  const socket = await RawUdp.open(family);
  sockets.push(socket);
  return socket;
}

function clientHello(
  cookie: Buffer = Buffer.alloc(0),
  options: { random?: Buffer; version?: number; suites?: number[]; messageSeq?: number; recordSeq?: number } = {},
): Buffer {
  const body = encodeClientHello({
    version: options.version ?? DTLS_1_2,
    random: options.random ?? Buffer.alloc(32, 7),
    cookie,
    cipherSuites: options.suites ?? [CCM_8],
  });
  return encodeRecord(
    { type: ContentType.HANDSHAKE, version: DTLS_1_0, epoch: 0, sequence: options.recordSeq ?? 0 },
    encodeHandshake(HandshakeType.CLIENT_HELLO, options.messageSeq ?? 0, body),
  );
}

/** The cookie of a HelloVerifyRequest datagram. */
function cookieOf(datagram: Buffer): Buffer {
  // record header (13) + handshake header (12) + server_version (2), then the cookie's length byte
  return datagram.subarray(13 + 12 + 3, 13 + 12 + 3 + (datagram[13 + 12 + 2] as number));
}

describe('DTLS 1.2 PSK handshake', () => {
  for (const [name, suite] of [
    ['TLS_PSK_WITH_AES_128_CCM_8', CCM_8],
    ['TLS_PSK_WITH_AES_128_CBC_SHA256', CBC],
  ] as const) {
    for (const ems of [true, false]) {
      it(`completes with ${name}${ems ? ' and the extended master secret' : ''} and carries data both ways`, async () => {
        const { server, received } = await echoServer();
        const client = await connect(server, { cipherSuites: [suite], extendedMasterSecret: ems });
        expect(client.connection.suite?.id).toBe(suite);
        expect(client.connection.extendedMasterSecret).toBe(ems);
        expect(await roundTrip(client, 'hello')).toBe('echo:hello');
        expect(received).toEqual([{ text: 'hello', peer: { address: '::1', port: client.port, secure: true }, identity: 'sensor-1' }]);
        expect(server.sessionIdentity({ address: '::1', port: client.port })).toBe('sensor-1');
      });
    }
  }

  it('prefers CCM_8 when the client offers both', async () => {
    const { server } = await echoServer();
    const client = await connect(server, { cipherSuites: [CBC, CCM_8] });
    expect(client.connection.suite?.id).toBe(CCM_8);
  });

  it('serves IPv4 clients on the dual-stack socket, with their plain IPv4 address', async () => {
    const { server, received } = await echoServer();
    const client = await connect(server, { identity: 'sensor-2', key: KEYS['sensor-2'] as Buffer }, '127.0.0.1');
    expect(await roundTrip(client, 'v4')).toBe('echo:v4');
    expect(received[0]).toMatchObject({ peer: { address: '127.0.0.1', port: client.port, secure: true }, identity: 'sensor-2' });
  });

  it('reassembles a ClientKeyExchange sent in reordered fragments', async () => {
    const { server } = await echoServer();
    const client = await connect(server, { fragmentBytes: 3, reverseFragments: true });
    expect(await roundTrip(client, 'fragments')).toBe('echo:fragments');
  });

  it('sends its flight again when the client repeats its own (flight 4 lost, then flight 6 lost)', async () => {
    const { server } = await echoServer();
    // Datagrams from the server: 0 HelloVerifyRequest, 1 flight 4 (dropped), 2 flight 4 again, 3 flight 6 (dropped), 4 flight 6 again.
    const client = await connect(server, { dropIncoming: (_, index) => index === 1 || index === 3, retransmitMs: 100 });
    expect(await roundTrip(client, 'after loss')).toBe('echo:after loss');
    expect(server.stats().handshakesCompleted).toBe(1);
  });

  it('fails a wrong key with a fatal bad_record_mac and keeps nothing', async () => {
    const { server, received } = await echoServer();
    const error = await connect(server, { key: Buffer.from('wrong key') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DtlsAlertError);
    expect(error).toMatchObject({ level: AlertLevel.FATAL, description: AlertDescription.BAD_RECORD_MAC });
    expect(server.stats()).toMatchObject({ sessions: 0, handshakesInProgress: 0, handshakesFailed: 1, handshakesCompleted: 0 });
    expect(received).toEqual([]);
  });

  it('fails an unknown identity exactly like a wrong key (RFC 4279 §2)', async () => {
    const { server } = await echoServer();
    const error = await connect(server, { identity: 'nobody' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ level: AlertLevel.FATAL, description: AlertDescription.BAD_RECORD_MAC });
    expect(server.stats().sessions).toBe(0);
  });

  it('refuses a client without a common cipher suite, and a DTLS 1.0 client', async () => {
    const { server } = await echoServer({ cipherSuites: [CCM_8] });
    const noSuite = await connect(server, { cipherSuites: [CBC] }).catch((e: unknown) => e);
    expect(noSuite).toMatchObject({ level: AlertLevel.FATAL, description: AlertDescription.HANDSHAKE_FAILURE });
    const raw = await rawSocket();
    await raw.send(clientHello(Buffer.alloc(0), { version: DTLS_1_0 }), server.address().port);
    const alert = await raw.receive();
    expect(alert?.data.toString('hex')).toBe('15' + 'fefd' + '0000' + '000000000000' + '0002' + '02' + '46');
    expect(server.stats().sessions).toBe(0);
  });

  it('answers a ClientHello without a cookie statelessly, reusing its record sequence number (§4.2.1)', async () => {
    const { server } = await echoServer();
    const raw = await rawSocket();
    await raw.send(clientHello(Buffer.alloc(0), { recordSeq: 5, messageSeq: 0 }), server.address().port);
    const verify = (await raw.receive())?.data;
    // record: handshake, DTLS 1.0, epoch 0, sequence 5; hello_verify_request, message_seq 0; server_version DTLS 1.0; 16-byte cookie
    expect(verify?.subarray(0, 13).toString('hex')).toBe('16' + 'feff' + '0000' + '000000000005' + '001f');
    expect(verify?.subarray(13, 25).toString('hex')).toBe('03' + '000013' + '0000' + '000000' + '000013');
    expect(verify?.subarray(25, 28).toString('hex')).toBe('feff' + '10');
    expect(server.stats()).toMatchObject({ sessions: 0, handshakesInProgress: 0, helloVerifyRequests: 1 });
    // A wrong cookie gets another HelloVerifyRequest, still without state.
    await raw.send(clientHello(Buffer.alloc(16, 1), { recordSeq: 6, messageSeq: 1 }), server.address().port);
    expect((await raw.receive())?.data[13]).toBe(HandshakeType.HELLO_VERIFY_REQUEST);
    expect(server.stats()).toMatchObject({ sessions: 0, helloVerifyRequests: 2 });
    // The right cookie from the same address and port starts the handshake: the ServerHello.
    await raw.send(clientHello(cookieOf(verify as Buffer), { recordSeq: 7, messageSeq: 1 }), server.address().port);
    const flight = (await raw.receive())?.data;
    expect(flight?.subarray(0, 13).toString('hex')).toMatch(/^16fefd0000000000000007/);
    expect(flight?.[13]).toBe(HandshakeType.SERVER_HELLO);
    expect(server.stats()).toMatchObject({ sessions: 1, handshakesInProgress: 1 });
    // The same cookie from another port is worth nothing there.
    const other = await rawSocket();
    await other.send(clientHello(cookieOf(verify as Buffer), { recordSeq: 7, messageSeq: 1 }), server.address().port);
    expect((await other.receive())?.data[13]).toBe(HandshakeType.HELLO_VERIFY_REQUEST);
    expect(server.stats().sessions).toBe(1);
  });

  it('gives up a handshake whose client goes silent', async () => {
    const { server } = await echoServer({ retransmission: { initialMs: 20, maxMs: 40, maxRetransmissions: 2 } });
    const raw = await rawSocket();
    await raw.send(clientHello(), server.address().port);
    const verify = (await raw.receive())?.data as Buffer;
    await raw.send(clientHello(cookieOf(verify), { recordSeq: 1, messageSeq: 1 }), server.address().port);
    const flights: Buffer[] = [];
    for (let i = 0; i < 3; i++) flights.push((await raw.receive())?.data as Buffer);
    expect(flights.every((f) => f[13] === HandshakeType.SERVER_HELLO)).toBe(true);
    await until(() => server.stats().handshakesInProgress === 0, 'the handshake to be dropped');
    expect(server.stats()).toMatchObject({ sessions: 0, handshakesFailed: 1 });
  });
});

describe('an established session', () => {
  it('delivers a replayed record once', async () => {
    const { server, received } = await echoServer();
    const client = await connect(server);
    const record = client.connection.sealRecord(ContentType.APPLICATION_DATA, Buffer.from('once'));
    for (let i = 0; i < 3; i++) await client.sendRaw(record);
    await until(() => server.stats().recordsDropped === 2, 'the replays to be dropped');
    await until(() => received.length === 1, 'the first copy');
    expect(await roundTrip(client, 'then')).toBe('echo:then');
    expect(received.map((r) => r.text)).toEqual(['once', 'then']);
  });

  it('takes records that arrive late but inside the window', async () => {
    const { server, received } = await echoServer();
    const client = await connect(server);
    const early = client.connection.sealRecord(ContentType.APPLICATION_DATA, Buffer.from('early'));
    const late = client.connection.sealRecord(ContentType.APPLICATION_DATA, Buffer.from('late'));
    await client.sendRaw(late);
    await client.sendRaw(early);
    await until(() => received.length === 2, 'both records');
    expect(received.map((r) => r.text)).toEqual(['late', 'early']);
  });

  it('drops records with a bad MAC, a wrong epoch or a truncated header silently and goes on', async () => {
    const { server, received } = await echoServer();
    const client = await connect(server);
    const good = client.connection.sealRecord(ContentType.APPLICATION_DATA, Buffer.from('tampered'));
    for (let i = 13; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = (bad[i] as number) ^ 0x04;
      await client.sendRaw(bad);
    }
    const wrongEpoch = Buffer.from(client.connection.sealRecord(ContentType.APPLICATION_DATA, Buffer.from('epoch 2')));
    wrongEpoch.writeUInt16BE(2, 3);
    await client.sendRaw(wrongEpoch);
    await client.sendRaw(good.subarray(0, 10));
    expect(await roundTrip(client, 'still here')).toBe('echo:still here');
    expect(received.map((r) => r.text)).toEqual(['still here']);
    expect(server.stats().recordsDropped).toBeGreaterThanOrEqual(good.length - 13 + 2);
  });

  it('refuses renegotiation with a no_renegotiation warning and keeps the session (RFC 5746 §4.4)', async () => {
    const { server } = await echoServer();
    const client = await connect(server);
    const hello = encodeHandshake(
      HandshakeType.CLIENT_HELLO,
      4,
      encodeClientHello({ version: DTLS_1_2, random: Buffer.alloc(32, 9), cipherSuites: [CCM_8] }),
    );
    await client.sendRaw(client.connection.sealRecord(ContentType.HANDSHAKE, hello));
    await until(() => client.connection.alerts.length > 0, 'an alert');
    expect(client.connection.alerts).toEqual([{ level: AlertLevel.WARNING, description: AlertDescription.NO_RENEGOTIATION }]);
    expect(await roundTrip(client, 'same session')).toBe('echo:same session');
    expect(server.stats().handshakesCompleted).toBe(1);
  });

  it('ends with close_notify, answered with close_notify', async () => {
    const { server } = await echoServer();
    const client = await connect(server);
    const alert = new Promise<Buffer>((resolve) => client.socket.once('message', resolve));
    client.connection.close();
    await alert;
    await until(() => server.stats().sessions === 0, 'the session to end');
  });

  it('is replaced by a new handshake from the same address and port (a rebooted client, §4.2.8)', async () => {
    const { server, received } = await echoServer();
    const first = await connect(server);
    const second = new DtlsClientConnection({ identity: 'sensor-2', key: KEYS['sensor-2'] as Buffer }, (d) =>
      first.socket.send(d, server.address().port, '::1'),
    );
    first.socket.removeAllListeners('message');
    first.socket.on('message', (d) => second.receive(d));
    second.start();
    await second.connected;
    const echoed = new Promise<string>((resolve) => (second.onData = (d) => resolve(d.toString())));
    second.send(Buffer.from('rebooted'));
    expect(await echoed).toBe('echo:rebooted');
    expect(received.at(-1)).toMatchObject({ identity: 'sensor-2', peer: { port: first.port } });
    expect(server.stats()).toMatchObject({ sessions: 1, handshakesCompleted: 2 });
  });

  it('is forgotten after its idle time', async () => {
    const { server } = await echoServer({ limits: { sessionIdleMs: 100 } });
    await connect(server);
    expect(server.stats().sessions).toBe(1);
    await until(() => server.stats().sessions === 0, 'the idle session to expire');
    expect(server.stats().sessionsExpired).toBe(1);
  });

  it('gets nothing sent when the endpoint sends to a peer without a session', async () => {
    const { server } = await echoServer();
    server.send(Buffer.from('nobody'), { address: '::1', port: 9, secure: true });
    expect(server.stats()).toMatchObject({ unsentNoSession: 1, applicationRecordsOut: 0 });
  });
});

describe('bounded state under abuse', () => {
  it('keeps nothing for a flood of ClientHellos without cookies from many ports', async () => {
    const { server } = await echoServer();
    const floods = await Promise.all(Array.from({ length: 50 }, () => rawSocket()));
    await Promise.all(
      floods.map(async (socket) => {
        for (let n = 0; n < 20; n++)
          await socket.send(clientHello(Buffer.alloc(0), { random: Buffer.alloc(32, n), recordSeq: n }), server.address().port);
      }),
    );
    await until(() => server.stats().helloVerifyRequests === 1000, 'every HelloVerifyRequest');
    expect(server.stats()).toMatchObject({ sessions: 0, handshakesInProgress: 0 });
    const client = await connect(server);
    expect(await roundTrip(client, 'after flood')).toBe('echo:after flood');
  });

  it('bounds handshakes of clients that return their cookie, and sessions, evicting the oldest', async () => {
    const { server } = await echoServer({ limits: { maxHandshakes: 8, maxSessions: 12 } });
    const established = await connect(server);
    const floods = await Promise.all(Array.from({ length: 40 }, () => rawSocket()));
    for (const socket of floods) {
      await socket.send(clientHello(), server.address().port);
      const verify = (await socket.receive())?.data as Buffer;
      await socket.send(clientHello(cookieOf(verify), { recordSeq: 1, messageSeq: 1 }), server.address().port);
      expect((await socket.receive())?.data[13]).toBe(HandshakeType.SERVER_HELLO);
      expect(server.stats().handshakesInProgress).toBeLessThanOrEqual(8);
      expect(server.stats().sessions).toBeLessThanOrEqual(12);
    }
    // Half-open handshakes were evicted, not the established session: it still works.
    expect(await roundTrip(established, 'kept')).toBe('echo:kept');
    expect(server.stats().sessionsEvicted).toBeGreaterThanOrEqual(32);
    // Past 12 sessions, the least recently active established one goes, and is told so.
    const more: DtlsClient[] = [];
    for (let i = 0; i < 12; i++) more.push(await connect(server));
    expect(server.stats().sessions).toBeLessThanOrEqual(12);
    expect(await roundTrip(more.at(-1) as DtlsClient, 'newest')).toBe('echo:newest');
    await until(() => established.connection.alerts.length > 0, 'the evicted session to be told');
    expect(established.connection.alerts).toEqual([{ level: AlertLevel.WARNING, description: AlertDescription.CLOSE_NOTIFY }]);
  });

  it('survives 10 000 random and truncated datagrams, from strangers and from an established peer', async () => {
    const { server, received } = await echoServer();
    const client = await connect(server);
    const stranger = await rawSocket(4);
    const port = server.address().port;
    const valid = client.connection.sealRecord(ContentType.APPLICATION_DATA, Buffer.from('x'.repeat(40)));
    const hello = clientHello();
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const junk = (i: number): Buffer => {
      switch (i % 5) {
        case 0:
          return Buffer.from(Array.from({ length: random() % 200 }, () => random() & 0xff));
        case 1:
          return valid.subarray(0, random() % valid.length);
        case 2:
          return hello.subarray(0, random() % hello.length);
        case 3: {
          // A plausible header with a random type, epoch, sequence and length.
          const header = Buffer.from(valid.subarray(0, 13));
          header[0] = 20 + (random() % 5);
          header.writeUInt16BE(random() % 3, 3);
          header.writeUInt16BE(random() % 300, 11);
          return Buffer.concat([header, Buffer.from(Array.from({ length: random() % 64 }, () => random() & 0xff))]);
        }
        default: {
          const flipped = Buffer.from(valid);
          const at = random() % flipped.length;
          flipped[at] = (flipped[at] as number) ^ (1 << (random() % 8));
          return flipped;
        }
      }
    };
    for (let i = 0; i < 10_000; i++) {
      const datagram = junk(i);
      if (i % 2 === 0) await stranger.send(datagram, port, '127.0.0.1');
      else await client.sendRaw(datagram);
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await roundTrip(client, 'alive')).toBe('echo:alive');
    expect(received.map((r) => r.text)).toEqual(['alive']);
    expect(server.stats().handshakesInProgress).toBe(0);
    expect(server.stats().sessions).toBe(1);
  }, 60_000);
});
