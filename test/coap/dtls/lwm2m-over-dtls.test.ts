/**
 * LwM2M over DTLS end to end: the hub's coaps:// listener with PSK entries from its security
 * store, and clients we did not write (libcoap's coap-client-openssl and coap-client-gnutls,
 * node-dtls-client) as well as our simulator behind our test DTLS client, for registration,
 * read, observe/notify, block-wise transfer and queue mode.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Method, ResponseCode } from '../../../src/coap/codes.js';
import { decodeMessage, encodeMessage, MessageType } from '../../../src/coap/message.js';
import { getStringOptions, OptionNumber, stringOption } from '../../../src/coap/options.js';
import type { Hub } from '../../../src/hub.js';
import { httpUrl, restRequest, startTestHub } from '../../support/hub.js';
import { RawUdp } from '../../support/raw-udp.js';
import { LwM2mSimulator, type SimulatorOptions } from '../../support/simulator/index.js';
import { SseClient } from '../../support/sse.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

let hub: Hub;
let coapsPort: number;
const sims: LwM2mSimulator[] = [];

beforeAll(async () => {
  hub = await startTestHub({ coapAckTimeout: 0.2, coapAckRandomFactor: 1, coapMaxRetransmit: 2, queueAwakeTime: 1 });
  coapsPort = hub.coaps?.port ?? 0;
});
afterAll(() => hub.stop());
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

/** A security entry for `endpoint`: identity `<endpoint>-id`, key the text `<endpoint>-key`. */
async function credentials(endpoint: string): Promise<{ identity: string; key: Buffer }> {
  const entry = { identity: `${endpoint}-id`, key: Buffer.from(`${endpoint}-key`) };
  expect((await hub.securityStore.put(endpoint, entry)).ok).toBe(true);
  return entry;
}

async function simulator(options: Omit<SimulatorOptions, 'serverPort' | 'dtls'>, family: 4 | 6 = 6): Promise<LwM2mSimulator> {
  const sim = await LwM2mSimulator.start({
    serverPort: coapsPort,
    serverAddress: family === 4 ? '127.0.0.1' : '::1',
    dtls: await credentials(options.endpoint),
    ...options,
  });
  sims.push(sim);
  const { code } = await sim.register();
  expect(code).toBe('2.01');
  return sim;
}

const api = (method: string, path: string, body?: unknown) => restRequest(hub, method, path, body);

describe('the coaps:// listener', () => {
  it('listens on its own port beside CoAP', () => {
    expect(hub.coaps?.port).toBeGreaterThan(0);
    expect(hub.coaps?.port).not.toBe(hub.coap.port);
  });
});

describe('LwM2M over DTLS with the simulator', () => {
  for (const family of [6, 4] as const) {
    it(`registers over IPv${family}, is read over its session and notifies observations`, async () => {
      const endpoint = `dtls-sim-v${family}`;
      const sim = await simulator({ endpoint }, family);
      const stored = await hub.store.getByEndpoint(endpoint);
      expect(stored).toMatchObject({ address: family === 6 ? '::1' : '127.0.0.1', port: sim.port, secure: true });

      const read = await api('GET', `/api/clients/${endpoint}/3303/0/5700`);
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      expect(read.body['content']).toMatchObject({ path: '/3303/0/5700', value: 21.5 });

      const stream = await SseClient.open(httpUrl(hub, '/api/events'));
      try {
        expect((await api('POST', `/api/clients/${endpoint}/3303/0/5700/observe`)).status).toBe(200);
        sim.setValue('/3303/0/5700', { type: 'float', value: 30.5 });
        await stream.waitFor(
          (e) => e.event === 'notification' && e.data['endpoint'] === endpoint && (e.data['content'] as { value?: unknown }).value === 30.5,
        );
      } finally {
        await stream.close();
      }
      expect(await sim.update()).toBe('2.04');
      expect(await sim.deregister()).toBe('2.02');
      expect(await hub.store.getByEndpoint(endpoint)).toBeUndefined();
    });
  }

  it('reads block-wise (64-byte Block2) and registers block-wise (Block1)', async () => {
    const endpoint = 'dtls-blocks';
    const sim = await simulator({ endpoint, blockSize: 64 });
    expect(sim.blockStats().block1Sent).toBe(1);
    const text = 'x'.repeat(900);
    sim.setValue('/3/0/0', { type: 'string', value: text });
    const read = await api('GET', `/api/clients/${endpoint}/3/0/0`);
    expect(read.status).toBe(200);
    expect(read.body['content']).toMatchObject({ value: text });
    expect(sim.blockStats().block2Served).toBeGreaterThan(900 / 64);
  });

  it('holds a write for a sleeping queue-mode client and delivers it over DTLS after its update', async () => {
    const endpoint = 'dtls-sleepy';
    const sim = await simulator({ endpoint, queueMode: true });
    const stream = await SseClient.open(httpUrl(hub, '/api/events'));
    try {
      await stream.waitFor((e) => e.event === 'sleeping' && e.data['endpoint'] === endpoint, 1, 4000);
    } finally {
      await stream.close();
    }
    sim.sleep();
    const pending = api('PUT', `/api/clients/${endpoint}/3/0/14`, { value: '+01:00' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    sim.wake();
    expect(await sim.update()).toBe('2.04');
    expect((await pending).status).toBe(200);
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+01:00' });
  });

  it('keeps serving an established client through 10 000 junk datagrams on the DTLS port', async () => {
    const endpoint = 'dtls-under-fire';
    await simulator({ endpoint });
    const stranger = await RawUdp.open(6);
    try {
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      for (let i = 0; i < 10_000; i++) {
        // Random bytes, and record-shaped ones (handshake or application data, epochs 0 to 2) cut anywhere.
        const datagram =
          i % 2 === 0
            ? Buffer.from(Array.from({ length: random() % 120 }, () => random() & 0xff))
            : Buffer.concat([
                Buffer.from([22 + (random() % 2), 0xfe, 0xfd, 0, random() % 3]),
                Buffer.alloc(random() % 80, random() & 0xff),
              ]);
        await stranger.send(datagram, coapsPort);
        if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await stranger.close();
    }
    const read = await api('GET', `/api/clients/${endpoint}/3303/0/5700`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body['content']).toMatchObject({ value: 21.5 });
  });

  it("answers 4.03 to a DTLS client registering under another endpoint's name", async () => {
    await credentials('dtls-owner');
    const sim = await LwM2mSimulator.start({ endpoint: 'dtls-owner', serverPort: coapsPort, dtls: await credentials('dtls-intruder') });
    sims.push(sim);
    expect((await sim.register()).code).toBe('4.03');
    expect(await hub.store.getByEndpoint('dtls-owner')).toBeUndefined();
  });
});

const LIBCOAP = ['openssl', 'gnutls'].map((library) => ({ library, binary: `/usr/bin/coap-client-${library}` }));

/** Runs a libcoap client and returns what it printed (debug level 7 shows the response code). */
async function coapClient(binary: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(binary, ['-v', '7', '-B', '4', ...args], { timeout: 15_000 });
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return (failed.stdout ?? '') + (failed.stderr ?? '');
  }
}

// In CI .ci/run installs libcoap3-bin: a missing binary there must fail, not skip.
describe.skipIf(!LIBCOAP.every((c) => existsSync(c.binary)) && !process.env['CI'])('libcoap DTLS clients', () => {
  for (const { library, binary } of LIBCOAP) {
    for (const host of ['[::1]', '127.0.0.1']) {
      it(`coap-client-${library} registers over coaps://${host} with -u and -k and gets 2.01`, async () => {
        const endpoint = `libcoap-${library}-${host === '[::1]' ? 'v6' : 'v4'}`;
        const { identity, key } = await credentials(endpoint);
        const output = await coapClient(binary, [
          '-u',
          identity,
          '-k',
          key.toString(),
          '-m',
          'post',
          '-e',
          '</1/0>,</3/0>',
          `coaps://${host}:${coapsPort}/rd?ep=${endpoint}&lt=60&b=U`,
        ]);
        expect(output).toMatch(/c:2\.01/);
        expect(await hub.store.getByEndpoint(endpoint)).toMatchObject({ secure: true, address: host === '[::1]' ? '::1' : '127.0.0.1' });
      });
    }

    it(`coap-client-${library} with a wrong key fails the handshake and registers nothing`, async () => {
      const endpoint = `libcoap-${library}-wrong`;
      const { identity } = await credentials(endpoint);
      const output = await coapClient(binary, [
        '-u',
        identity,
        '-k',
        'not-the-key',
        '-m',
        'post',
        '-e',
        '</3/0>',
        `coaps://[::1]:${coapsPort}/rd?ep=${endpoint}&lt=60`,
      ]);
      expect(output).not.toMatch(/c:2\.01/);
      expect(await hub.store.getByEndpoint(endpoint)).toBeUndefined();
    });
  }
});

interface DtlsClientSocket {
  on(event: 'connected', listener: () => void): void;
  on(event: 'message', listener: (message: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  send(data: Buffer): void;
  close(): void;
}

describe('node-dtls-client, a second DTLS implementation', () => {
  const { dtls } = require('node-dtls-client') as { dtls: { createSocket(options: Record<string, unknown>): DtlsClientSocket } };

  for (const cipher of ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']) {
    it(`registers with ${cipher} and gets 2.01`, async () => {
      const endpoint = `node-dtls-${cipher.endsWith('CCM_8') ? 'ccm8' : 'cbc'}`;
      const { identity, key } = await credentials(endpoint);
      const socket = dtls.createSocket({
        type: 'udp6',
        address: '::1',
        port: coapsPort,
        psk: { [identity]: key.toString() },
        ciphers: [cipher],
        timeout: 5000,
      });
      try {
        const response = await new Promise<Buffer>((resolve, reject) => {
          socket.on('error', reject);
          socket.on('message', resolve);
          socket.on('connected', () => {
            const register = encodeMessage({
              type: MessageType.CON,
              code: Method.POST,
              messageId: 0x1234,
              token: Buffer.from('t1'),
              options: [
                stringOption(OptionNumber.URI_PATH, 'rd'),
                stringOption(OptionNumber.URI_QUERY, `ep=${endpoint}`),
                stringOption(OptionNumber.URI_QUERY, 'lt=60'),
              ],
              payload: Buffer.from('</3/0>'),
            });
            socket.send(register);
          });
        });
        const decoded = decodeMessage(response);
        expect(decoded.ok && decoded.message.code).toBe(ResponseCode.CREATED);
        expect(decoded.ok && getStringOptions(decoded.message.options, OptionNumber.LOCATION_PATH)[0]).toBe('rd');
        expect(await hub.store.getByEndpoint(endpoint)).toMatchObject({ secure: true });
      } finally {
        socket.close();
      }
    });
  }
});
