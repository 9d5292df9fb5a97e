/**
 * Device management and information reporting driven from REST, against the
 * simulated LwM2M client over real UDP on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { httpUrl, restRequest, startTestHub } from '../support/hub.js';
import { LwM2mSimulator, type SimulatorOptions } from '../support/simulator/index.js';
import { SseClient } from '../support/sse.js';

let hub: Hub;
const sims: LwM2mSimulator[] = [];
const streams: SseClient[] = [];

beforeAll(async () => {
  // Fast CoAP timers so that an unanswered request gives up within a second or two.
  hub = await startTestHub({ coapAckTimeout: 0.1, coapAckRandomFactor: 1, coapMaxRetransmit: 2, queueAwakeTime: 1 });
});
afterAll(() => hub.stop());
afterEach(async () => {
  await Promise.all(streams.splice(0).map((s) => s.close()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function simulator(options: Omit<SimulatorOptions, 'serverPort'>): Promise<LwM2mSimulator> {
  const sim = await LwM2mSimulator.start({ serverPort: hub.coap.port, ...options });
  sims.push(sim);
  const { code } = await sim.register();
  expect(code).toBe('2.01');
  return sim;
}

const api = (method: string, path: string, body?: unknown) => restRequest(hub, method, path, body);

async function events(): Promise<SseClient> {
  const stream = await SseClient.open(httpUrl(hub, '/api/events'));
  streams.push(stream);
  return stream;
}

type ResourceJson = { id: number; name?: string; type: string; value?: unknown; values?: Record<string, unknown> };
type InstanceJson = { path: string; resources: ResourceJson[] };

describe('read', () => {
  const formats = ['tlv', 'json', 'senml-json', 'senml-cbor', 'lwm2m-cbor'];
  for (const format of formats) {
    it(`reads a resource, an instance and an object in ${format}`, async () => {
      const sim = await simulator({ endpoint: `read-${format}`, lwm2mVersion: '1.2' });
      const resource = await api('GET', `/api/clients/read-${format}/3303/0/5700?format=${format}`);
      expect(resource.status).toBe(200);
      expect(resource.body['content']).toMatchObject({ path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 21.5 });

      const instance = await api('GET', `/api/clients/read-${format}/3/0?format=${format}`);
      expect(instance.status).toBe(200);
      const resources = (instance.body['content'] as InstanceJson).resources;
      expect(resources.find((r) => r.id === 0)).toMatchObject({ name: 'Manufacturer', value: 'lwm2m-hub simulator' });
      expect(resources.find((r) => r.id === 7)?.values).toEqual({ '0': 3800, '1': 5000 });

      const object = await api('GET', `/api/clients/read-${format}/3303?format=${format}`);
      expect(object.status).toBe(200);
      expect(object.body['content']).toMatchObject({ path: '/3303', name: 'Temperature', instances: [{ path: '/3303/0' }] });
      expect(sim.requests.filter((r) => r.method === 'GET').length).toBe(3);
    });
  }

  for (const format of ['text', 'opaque', 'cbor']) {
    it(`reads a single resource in ${format}`, async () => {
      await simulator({ endpoint: `single-${format}` });
      const path = format === 'opaque' ? '/3/0/0' : '/3303/0/5700';
      const { status, body } = await api('GET', `/api/clients/single-${format}${path}?format=${format}`);
      if (format === 'opaque') {
        // A string resource asked as octet-stream: the device may refuse (4.06) or send bytes.
        expect([200, 406]).toContain(status);
      } else {
        expect(status).toBe(200);
        expect(body['content']).toMatchObject({ value: 21.5 });
      }
    });
  }

  it('negotiates TLV with a 1.0 client and SenML CBOR with a 1.1 client', async () => {
    const old = await simulator({ endpoint: 'neg-10', lwm2mVersion: '1.0' });
    const modern = await simulator({ endpoint: 'neg-11', lwm2mVersion: '1.1' });
    expect((await api('GET', '/api/clients/neg-10/3/0')).body['contentFormat']).toBe(11542);
    expect((await api('GET', '/api/clients/neg-11/3/0')).body['contentFormat']).toBe(112);
    expect(old.requests[0]?.accept).toBe(11542);
    expect(modern.requests[0]?.accept).toBe(112);
  });

  it('decodes a Contiki-style client that answers legacy TLV 1542 whatever it was asked', async () => {
    await simulator({ endpoint: 'contiki', lwm2mVersion: '1.0', legacyFormats: true });
    const { status, body } = await api('GET', '/api/clients/contiki/3303/0?format=senml-cbor');
    expect(status).toBe(200);
    expect(body['contentFormat']).toBe(1542);
    expect((body['content'] as InstanceJson).resources.find((r) => r.id === 5700)?.value).toBe(21.5);
    const json = await api('GET', '/api/clients/contiki/3303/0?format=json');
    expect(json.body['contentFormat']).toBe(1543);
    expect((json.body['content'] as InstanceJson).resources.find((r) => r.id === 5700)?.value).toBe(21.5);
  });

  it('answers 404 for an unknown endpoint and passes on the device 4.04', async () => {
    await simulator({ endpoint: 'nf' });
    expect((await api('GET', '/api/clients/nobody/3/0')).status).toBe(404);
    const missing = await api('GET', '/api/clients/nf/3/0/12345');
    expect(missing.status).toBe(404);
    expect(missing.body['code']).toBe('4.04');
    expect((await api('GET', '/api/clients/nf/not/a/path')).status).toBe(400);
  });

  it('answers 504 when the device does not answer, and keeps serving', async () => {
    const sim = await simulator({ endpoint: 'mute' });
    sim.unresponsive = true;
    const { status, body } = await api('GET', '/api/clients/mute/3/0');
    expect(status).toBe(504);
    expect(body['code']).toBe('timeout');
    expect((await fetch(httpUrl(hub, '/healthz'))).status).toBe(200);
  });
});

describe('write, execute, create, delete', () => {
  it('writes a resource and reads it back', async () => {
    const sim = await simulator({ endpoint: 'writer' });
    expect((await api('PUT', '/api/clients/writer/3/0/14', { value: '+02:00' })).status).toBe(200);
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+02:00' });
    expect(((await api('GET', '/api/clients/writer/3/0/14')).body['content'] as ResourceJson).value).toBe('+02:00');
    expect((await api('PATCH', '/api/clients/writer/3/0', { resources: [{ id: 15, value: 'Europe/Paris' }] })).status).toBe(200);
    expect(sim.getValue('/3/0/15')).toEqual({ type: 'string', value: 'Europe/Paris' });
    expect((await api('PUT', '/api/clients/writer/3/0/14', { value: 12 })).status).toBe(400);
  });

  it('executes with arguments', async () => {
    const sim = await simulator({ endpoint: 'exec' });
    expect((await api('POST', '/api/clients/exec/3/0/4', "0='now'")).status).toBe(200);
    expect(sim.executed).toEqual([{ path: '/3/0/4', args: "0='now'" }]);
  });

  it('creates an instance and deletes it', async () => {
    const sim = await simulator({ endpoint: 'creator' });
    const created = await api('POST', '/api/clients/creator/3303', { id: 7, resources: [{ id: 5700, value: 19.5 }, { id: 5701, value: 'Cel' }] });
    expect(created.status).toBe(201);
    expect(created.body['location']).toBe('/3303/7');
    expect(sim.getValue('/3303/7/5700')).toEqual({ type: 'float', value: 19.5 });
    expect((await api('DELETE', '/api/clients/creator/3303/7')).status).toBe(200);
    expect(sim.getValue('/3303/7/5700')).toBeUndefined();
    expect((await api('DELETE', '/api/clients/creator/3303/7')).status).toBe(404);
    const unnamed = await api('POST', '/api/clients/creator/3303', { resources: [{ id: 5700, value: 18 }] });
    expect(unnamed.body['location']).toBe('/3303/1'); // the lowest id the registration does not list
  });

  it('discovers with the attributes it wrote', async () => {
    await simulator({ endpoint: 'disc' });
    expect((await api('PUT', '/api/clients/disc/3303/0/5700/attributes?pmin=1&pmax=60')).status).toBe(200);
    const { status, body } = await api('GET', '/api/clients/disc/3303/0/discover');
    expect(status).toBe(200);
    const links = body['links'] as { uri: string; attributes: Record<string, string> }[];
    expect(links.find((l) => l.uri === '/3303/0/5700')?.attributes).toMatchObject({ pmin: '1', pmax: '60' });
  });
});

describe('observe and send', () => {
  it('streams each notification on SSE, in order, until cancelled', async () => {
    const sim = await simulator({ endpoint: 'observed' });
    const stream = await events();
    const observed = await api('POST', '/api/clients/observed/3303/0/5700/observe');
    expect(observed.status).toBe(200);
    expect(observed.body['observationId']).toMatch(/^[0-9a-f]+$/);
    expect((await api('GET', '/api/clients/observed/observations')).body).toMatchObject([{ path: '/3303/0/5700' }]);

    const isMine = (e: { event: string; data: Record<string, unknown> }) => e.event === 'notification' && e.data['endpoint'] === 'observed';
    for (const value of [22, 23.5, 24.25]) {
      sim.setValue('/3303/0/5700', { type: 'float', value });
      await stream.waitFor((e) => isMine(e) && (e.data['content'] as ResourceJson).value === value);
    }
    const values = stream.events.filter(isMine).map((e) => (e.data['content'] as ResourceJson).value);
    expect(values).toEqual([21.5, 22, 23.5, 24.25]);

    expect((await api('DELETE', '/api/clients/observed/3303/0/5700/observe')).status).toBe(200);
    expect(sim.observations.size).toBe(0);
    sim.setValue('/3303/0/5700', { type: 'float', value: 30 });
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.events.filter(isMine).length).toBe(4);
  });

  it('ends observations when the endpoint registers again', async () => {
    const sim = await simulator({ endpoint: 'reborn' });
    expect((await api('POST', '/api/clients/reborn/3303/0/5700/observe')).status).toBe(200);
    expect((await api('GET', '/api/clients/reborn/observations')).body).toHaveLength(1);
    await sim.register();
    expect((await api('GET', '/api/clients/reborn/observations')).body).toEqual([]);
  });

  it('resumes the event stream after Last-Event-ID', async () => {
    const sim = await simulator({ endpoint: 'resumer' });
    const first = await events();
    await api('POST', '/api/clients/resumer/3303/0/5700/observe');
    const [initial] = await first.waitFor((e) => e.event === 'notification' && e.data['endpoint'] === 'resumer');
    await first.close();
    sim.setValue('/3303/0/5700', { type: 'float', value: 40 });
    sim.setValue('/3303/0/5700', { type: 'float', value: 41 });
    await new Promise((r) => setTimeout(r, 300));
    const resumed = await SseClient.open(httpUrl(hub, '/api/events'), { 'last-event-id': String(initial?.id) });
    streams.push(resumed);
    const missed = await resumed.waitFor((e) => e.event === 'notification' && e.data['endpoint'] === 'resumer', 2);
    expect(missed.map((e) => (e.data['content'] as ResourceJson).value)).toEqual([40, 41]);
  });

  it('writes several resources at once with Write-Composite', async () => {
    const sim = await simulator({ endpoint: 'composite-writer', lwm2mVersion: '1.1' });
    const { status } = await api('PUT', '/api/clients/composite-writer/composite', {
      values: [
        { path: '/3/0/14', value: '+03:00' },
        { path: '/3/0/15', value: 'Europe/Moscow' },
      ],
    });
    expect(status).toBe(200);
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+03:00' });
    expect(sim.getValue('/3/0/15')).toEqual({ type: 'string', value: 'Europe/Moscow' });
  });

  it('reads several paths at once with Read-Composite', async () => {
    await simulator({ endpoint: 'composite', lwm2mVersion: '1.1' });
    const { status, body } = await api('POST', '/api/clients/composite/composite/read', { paths: ['/3/0/9', '/3303/0/5700'] });
    expect(status).toBe(200);
    expect(body['values']).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/3/0/9', value: 95 }), expect.objectContaining({ path: '/3303/0/5700', value: 21.5 })]),
    );
  });

  it('takes a Send from the client and puts it on SSE', async () => {
    const sim = await simulator({ endpoint: 'sender', lwm2mVersion: '1.1' });
    const stream = await events();
    expect(await sim.send(['/3303/0/5700'])).toBe('2.04');
    const [sent] = await stream.waitFor((e) => e.event === 'send' && e.data['endpoint'] === 'sender');
    expect(sent?.data['values']).toEqual([expect.objectContaining({ path: '/3303/0/5700', value: 21.5 })]);
  });
});

describe('queue mode', () => {
  it('holds a write for a sleeping client and delivers it on its next update', async () => {
    const sim = await simulator({ endpoint: 'sleepy', lwm2mVersion: '1.1', queueMode: true });
    const stream = await events();
    await stream.waitFor((e) => e.event === 'sleeping' && e.data['endpoint'] === 'sleepy', 1, 4000);
    sim.sleep();
    const pending = api('PUT', '/api/clients/sleepy/3/0/14', { value: '+05:30' });
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.getValue('/3/0/14')).not.toEqual({ type: 'string', value: '+05:30' });
    sim.wake();
    expect(await sim.update()).toBe('2.04');
    expect((await pending).status).toBe(200);
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+05:30' });
  });
});
