/**
 * Block-wise transfer (RFC 7959) end to end: a constrained simulated client answering in
 * 64-byte Block2 pieces (reads, notifications) and registering in 64-byte Block1 pieces,
 * and a write from the hub large enough to go out in Block1 pieces.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HubEventMap } from '../../src/events.js';
import type { Hub } from '../../src/hub.js';
import { restRequest, startTestHub } from '../support/hub.js';
import { LwM2mSimulator, type SimulatorOptions } from '../support/simulator/index.js';

let hub: Hub;
const sims: LwM2mSimulator[] = [];

beforeAll(async () => {
  hub = await startTestHub({ coapAckTimeout: 0.2, coapAckRandomFactor: 1, coapMaxRetransmit: 2 });
});
afterAll(() => hub.stop());
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function simulator(options: Omit<SimulatorOptions, 'serverPort'>): Promise<LwM2mSimulator> {
  const sim = await LwM2mSimulator.start({ serverPort: hub.coap.port, blockSize: 64, ...options });
  sims.push(sim);
  const { code } = await sim.register();
  expect(code).toBe('2.01');
  return sim;
}

const api = (method: string, path: string, body?: unknown) => restRequest(hub, method, path, body);

/** A ~1 KB string of its own per resource, so that a wrong block order would show. */
function longText(tag: string, length = 1000): string {
  return Array.from({ length: Math.ceil(length / 10) }, (_, i) => `${tag}${String(i).padStart(9 - tag.length, '0')}|`)
    .join('')
    .slice(0, length);
}

describe('block-wise transfer with a constrained client (64-byte blocks)', () => {
  for (const format of ['tlv', 'senml-cbor'] as const) {
    it(`reads a ~3 KB object answered in 64-byte Block2 pieces, in ${format}`, async () => {
      const endpoint = `block2-read-${format}`;
      const sim = await simulator({ endpoint });
      const texts = { 0: longText('man'), 1: longText('mod'), 2: longText('ser') };
      for (const [id, text] of Object.entries(texts)) sim.setValue(`/3/0/${id}`, { type: 'string', value: text });
      const read = await api('GET', `/api/clients/${endpoint}/3?format=${format}`);
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      const json = JSON.stringify(read.body);
      expect(json.length).toBeGreaterThan(3000);
      for (const text of Object.values(texts)) expect(json).toContain(JSON.stringify(text));
      // One Read reached the simulator's handler; its endpoint served the body in 64-byte blocks.
      expect(sim.requests.filter((r) => r.method === 'GET' && r.path === '/3')).toHaveLength(1);
      expect(sim.blockStats().block2Served).toBeGreaterThan(3000 / 64);
    });
  }

  it('registers with a link body in 64-byte Block1 pieces', async () => {
    const sim = await simulator({ endpoint: 'block1-sim' });
    expect(sim.location).toMatch(/^rd\//);
    expect(sim.blockStats().block1Sent).toBe(1);
    const listed = await api('GET', '/api/clients/block1-sim');
    expect(listed.status).toBe(200);
    expect((listed.body['objectLinks'] as unknown[]).length).toBeGreaterThan(3);
  });

  it('completes a notification that needs 2 blocks before the event bus sees it', async () => {
    const endpoint = 'block2-notify';
    const sim = await simulator({ endpoint });
    const first = longText('a', 100);
    sim.setValue('/3/0/1', { type: 'string', value: first });
    const notifications: HubEventMap['notification'][] = [];
    const off = hub.events.on('notification', (event) => {
      if (event.registration.endpoint === endpoint) notifications.push(event);
    });
    try {
      const observed = await api('POST', `/api/clients/${endpoint}/3/0/1/observe`);
      expect(observed.status, JSON.stringify(observed.body)).toBe(200);
      expect(JSON.stringify(observed.body)).toContain(first);
      const second = longText('b', 100);
      sim.setValue('/3/0/1', { type: 'string', value: second });
      const arrived = (): HubEventMap['notification'] | undefined =>
        notifications.find((n) => JSON.stringify(n.node).includes(JSON.stringify(second)));
      const deadline = Date.now() + 3000;
      while (!arrived() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      // Whole: the value of both blocks, nothing of the first value.
      expect(JSON.stringify(arrived()?.node)).not.toContain('a0000');
      // The rest of the notification was fetched with a GET without Observe (RFC 7959 §3.4), which the
      // simulator's handler answered (the rest of the Observe response came from the body its endpoint kept).
      expect(sim.requests.filter((r) => r.method === 'GET' && r.path === '/3/0/1' && r.observe === undefined)).toHaveLength(1);
      // Two blocks for the Observe response, two for the notification.
      expect(sim.blockStats().block2Served).toBe(4);
    } finally {
      off();
    }
  });

  it('takes a Send (/dp) in 64-byte Block1 pieces and reports it whole', async () => {
    const endpoint = 'block1-send';
    const sim = await simulator({ endpoint });
    const text = longText('s', 1500);
    sim.setValue('/3/0/0', { type: 'string', value: text });
    const sent: HubEventMap['send'][] = [];
    const off = hub.events.on('send', (event) => {
      if (event.registration.endpoint === endpoint) sent.push(event);
    });
    try {
      expect(await sim.send(['/3/0/0'])).toBe('2.04');
      expect(sent).toHaveLength(1);
      expect(JSON.stringify(sent[0]!.records)).toContain(text);
      expect(sim.blockStats().block1Sent).toBe(2); // the registration and the Send
    } finally {
      off();
    }
  });

  it('writes ~2 KB to the client in Block1 pieces', async () => {
    const endpoint = 'block1-write';
    const sim = await simulator({ endpoint });
    const value = longText('w', 2000);
    const written = await api('PUT', `/api/clients/${endpoint}/3/0/14`, { value });
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value });
  });
});
