import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatCode, Method, ResponseCode } from '../../src/coap/codes.js';
import { CoapEndpoint, CoapTimeoutError, type IncomingRequest, type ReceivedResponse } from '../../src/coap/endpoint.js';
import { getStringOptions, getUintOption, OptionNumber, uintOption, type CoapOption } from '../../src/coap/options.js';
import { ContentFormat } from '../../src/codecs/codec.js';
import { parseLinkFormat } from '../../src/codecs/link-format/index.js';
import { decodeSenmlRecords, encodeSenmlPaths, encodeSenmlRecords } from '../../src/codecs/senml/records.js';
import type { Lwm2mNode, Lwm2mValue } from '../../src/model/node.js';
import type { ModelProvider } from '../../src/model/object-model.js';
import { parsePath } from '../../src/model/path.js';
import { LwM2mSimulator, type SimulatorOptions } from '../support/simulator/index.js';
import { shippedModel } from '../support/simulator/defaults.js';
import { codecs } from '../support/simulator/formats.js';

/** A bare CoAP endpoint playing LwM2M server: answers the client's requests, sends its own, collects notifications. */
class FakeServer {
  readonly received: IncomingRequest[] = [];
  readonly notifications: ReceivedResponse[] = [];
  /** Whether a notification is accepted (false: the endpoint answers it with a Reset). */
  acceptNotifications = true;

  private constructor(
    readonly endpoint: CoapEndpoint,
    readonly host: string,
  ) {
    endpoint.onRequest = (request) => {
      this.received.push(request);
      const path = request.uriPath.join('/');
      if (request.method === Method.POST && path === 'rd') {
        return {
          code: ResponseCode.CREATED,
          options: [
            { number: OptionNumber.LOCATION_PATH, value: Buffer.from('rd') },
            { number: OptionNumber.LOCATION_PATH, value: Buffer.from('abc') },
          ],
        };
      }
      if (request.method === Method.POST && (path === 'rd/abc' || path === 'dp')) return { code: ResponseCode.CHANGED };
      if (request.method === Method.DELETE && path === 'rd/abc') return { code: ResponseCode.DELETED };
      return { code: ResponseCode.NOT_FOUND };
    };
    endpoint.onUnmatchedResponse = (response) => {
      this.notifications.push(response);
      return this.acceptNotifications;
    };
  }

  static async start(host = '::1', maxRetransmit = 2): Promise<FakeServer> {
    const endpoint = await CoapEndpoint.bind({ host, port: 0, transmission: { ackTimeoutMs: 100, ackRandomFactor: 1.5, maxRetransmit } });
    return new FakeServer(endpoint, host);
  }

  get port(): number {
    return this.endpoint.address().port;
  }

  request(
    sim: LwM2mSimulator,
    method: number,
    path: string,
    extra: { accept?: number; contentFormat?: number; payload?: Buffer | string; observe?: number; query?: string[]; token?: Buffer; timeoutMs?: number } = {},
  ): Promise<ReceivedResponse> {
    const options: CoapOption[] = [];
    if (extra.accept !== undefined) options.push(uintOption(OptionNumber.ACCEPT, extra.accept));
    if (extra.contentFormat !== undefined) options.push(uintOption(OptionNumber.CONTENT_FORMAT, extra.contentFormat));
    if (extra.observe !== undefined) options.push(uintOption(OptionNumber.OBSERVE, extra.observe));
    return this.endpoint.request(
      { address: this.host, port: sim.port },
      {
        method,
        uriPath: path.split('/').filter((segment) => segment !== ''),
        uriQuery: extra.query ?? [],
        options,
        ...(extra.payload !== undefined ? { payload: Buffer.from(extra.payload) } : {}),
        ...(extra.token !== undefined ? { token: extra.token } : {}),
      },
      { timeoutMs: extra.timeoutMs ?? 5000 },
    );
  }

  /** Waits until `count` notifications have arrived in all. */
  async notificationsUpTo(count: number): Promise<ReceivedResponse[]> {
    await vi.waitFor(() => expect(this.notifications.length).toBeGreaterThanOrEqual(count), { timeout: 3000, interval: 10 });
    return this.notifications;
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

let model: ModelProvider;
let server: FakeServer;
const simulators: LwM2mSimulator[] = [];

beforeAll(async () => {
  model = await shippedModel();
  server = await FakeServer.start();
});
afterAll(() => server.close());
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.stop()));
  server.received.length = 0;
  server.notifications.length = 0;
  server.acceptNotifications = true;
});

async function simulator(options: Partial<SimulatorOptions> = {}, on: FakeServer = server): Promise<LwM2mSimulator> {
  const sim = await LwM2mSimulator.start({ endpoint: `sim-${simulators.length}`, serverPort: on.port, ...options });
  simulators.push(sim);
  return sim;
}

function decode(response: ReceivedResponse, path: string): Lwm2mNode {
  const format = response.contentFormat;
  if (format === undefined) throw new Error('response without Content-Format');
  const result = codecs.decode(format, response.payload, parsePath(path), model);
  if (!result.ok) throw result.error;
  return result.node;
}

function valueOf(node: Lwm2mNode, resourceId?: number): Lwm2mValue | undefined {
  if (node.kind === 'resource' || node.kind === 'resourceInstance') return node.value;
  if (node.kind === 'instance') {
    const resource = node.resources.find((r) => r.id === resourceId);
    return resource?.kind === 'resource' ? resource.value : undefined;
  }
  return undefined;
}

function encode(format: number, node: Lwm2mNode, path: string): Buffer {
  return Buffer.from(codecs.encode(format, node, parsePath(path), model));
}

const observeOf = (response: ReceivedResponse): number | undefined => getUintOption(response.options, OptionNumber.OBSERVE);
const code = (response: ReceivedResponse): string => formatCode(response.code);
const float = (value: number): Lwm2mValue => ({ type: 'float', value });

describe('registration', () => {
  it('registers with its parameters and object links, as link-format', async () => {
    const sim = await simulator({ endpoint: 'reg-node', lifetime: 120 });
    expect(await sim.register()).toEqual({ code: '2.01', location: 'rd/abc' });
    const [register] = server.received;
    expect(register?.uriPath).toEqual(['rd']);
    expect(register?.uriQuery).toEqual(['ep=reg-node', 'lt=120', 'lwm2m=1.1', 'b=U']);
    expect(register?.contentFormat).toBe(ContentFormat.LINK);
    expect(register?.peer.port).toBe(sim.port);
    const links = parseLinkFormat(register?.payload.toString() ?? '');
    expect(links[0]).toEqual({ uri: '/', attributes: { rt: 'oma.lwm2m', ct: '60 110 112 11542 11543' } });
    const uris = links.map((link) => link.uri);
    expect(uris).toEqual(expect.arrayContaining(['/1/0', '/3/0', '/3303/0']));
    expect(uris).not.toContain('/0/0');
  });

  it('updates with a new lifetime and its links, then de-registers', async () => {
    const sim = await simulator();
    await sim.register();
    expect(await sim.update({ lifetime: 60, withLinks: true })).toBe('2.04');
    const update = server.received.at(-1);
    expect(update?.uriPath).toEqual(['rd', 'abc']);
    expect(update?.uriQuery).toEqual(['lt=60']);
    expect(update?.payload.toString()).toContain('</3303/0>');
    expect(sim.getValue('/1/0/1')).toEqual({ type: 'integer', value: 60 });
    expect(await sim.update()).toBe('2.04');
    expect(server.received.at(-1)?.payload.length).toBe(0);
    expect(await sim.deregister()).toBe('2.02');
    expect(server.received.at(-1)?.method).toBe(Method.DELETE);
  });

  it('flags queue mode as b=UQ in 1.0 and as Q from 1.1', async () => {
    await (await simulator({ lwm2mVersion: '1.0', queueMode: true })).register();
    await (await simulator({ lwm2mVersion: '1.2', queueMode: true })).register();
    expect(server.received[0]?.uriQuery).toEqual(expect.arrayContaining(['lwm2m=1.0', 'b=UQ']));
    expect(server.received[1]?.uriQuery).toEqual(expect.arrayContaining(['lwm2m=1.2', 'b=U', 'Q']));
    expect(parseLinkFormat(server.received[1]?.payload.toString() ?? '')[0]?.attributes['ct']).toContain('11544');
  });

  it('registers over IPv4 when the server address is IPv4', async () => {
    const v4 = await FakeServer.start('127.0.0.1');
    try {
      const sim = await simulator({ serverAddress: '127.0.0.1' }, v4);
      expect((await sim.register()).code).toBe('2.01');
      expect(v4.received[0]?.peer).toEqual({ address: '127.0.0.1', port: sim.port });
      const read = await v4.request(sim, Method.GET, '/3/0/9', { accept: ContentFormat.TEXT });
      expect(read.payload.toString()).toBe('95');
    } finally {
      await v4.close();
    }
  });

  it('sends values with LwM2M Send as SenML CBOR', async () => {
    const sim = await simulator();
    expect(await sim.send(['/3303/0/5700', '/3/0/7'])).toBe('2.04');
    const send = server.received.at(-1);
    expect(send?.uriPath).toEqual(['dp']);
    expect(send?.contentFormat).toBe(ContentFormat.SENML_CBOR);
    const records = decodeSenmlRecords(send?.payload ?? Buffer.alloc(0), ContentFormat.SENML_CBOR, model);
    expect(records).toEqual([
      { path: [3303, 0, 5700], value: float(21.5) },
      { path: [3, 0, 7, 0], value: { type: 'integer', value: 3800 } },
      { path: [3, 0, 7, 1], value: { type: 'integer', value: 5000 } },
    ]);
  });
});

describe('Read', () => {
  it('answers in the format Accept asks: TLV, SenML JSON, SenML CBOR, text', async () => {
    const sim = await simulator();
    const tlv = await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.TLV });
    expect([code(tlv), tlv.contentFormat]).toEqual(['2.05', ContentFormat.TLV]);
    expect(valueOf(decode(tlv, '/3/0'), 0)).toEqual({ type: 'string', value: 'lwm2m-hub simulator' });
    expect(valueOf(decode(tlv, '/3/0'), 9)).toEqual({ type: 'integer', value: 95 });

    const json = await server.request(sim, Method.GET, '/3303/0', { accept: ContentFormat.SENML_JSON });
    expect(json.contentFormat).toBe(ContentFormat.SENML_JSON);
    const records: unknown[] = JSON.parse(json.payload.toString());
    expect(records[0]).toMatchObject({ bn: '/3303/0/' });
    expect(records).toContainEqual(expect.objectContaining({ n: '5700', v: 21.5 }));

    const cbor = await server.request(sim, Method.GET, '/3/0/7', { accept: ContentFormat.SENML_CBOR });
    expect(cbor.contentFormat).toBe(ContentFormat.SENML_CBOR);
    expect(decode(cbor, '/3/0/7')).toEqual({
      kind: 'multipleResource',
      id: 7,
      instances: [
        { kind: 'resourceInstance', id: 0, value: { type: 'integer', value: 3800 } },
        { kind: 'resourceInstance', id: 1, value: { type: 'integer', value: 5000 } },
      ],
    });

    const text = await server.request(sim, Method.GET, '/3/0/9', { accept: ContentFormat.TEXT });
    expect([text.contentFormat, text.payload.toString()]).toEqual([ContentFormat.TEXT, '95']);
    const instance = await server.request(sim, Method.GET, '/3/0/7/1', { accept: ContentFormat.TEXT });
    expect(instance.payload.toString()).toBe('5000');
  });

  it('answers in the default format of its version without Accept', async () => {
    const v11 = await simulator();
    const v10 = await simulator({ lwm2mVersion: '1.0' });
    expect((await server.request(v11, Method.GET, '/3/0')).contentFormat).toBe(ContentFormat.SENML_CBOR);
    expect((await server.request(v10, Method.GET, '/3/0')).contentFormat).toBe(ContentFormat.TLV);
  });

  it('answers 4.04 for an unknown path, 4.06 for a format it cannot produce, 4.05 on an executable', async () => {
    const sim = await simulator();
    expect(code(await server.request(sim, Method.GET, '/3/1'))).toBe('4.04');
    expect(code(await server.request(sim, Method.GET, '/3303/0/5750'))).toBe('4.04');
    expect(code(await server.request(sim, Method.GET, '/9999'))).toBe('4.04');
    expect(code(await server.request(sim, Method.GET, '/rd'))).toBe('4.04');
    // LwM2M CBOR came with 1.2; text cannot carry an instance
    expect(code(await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.LWM2M_CBOR }))).toBe('4.06');
    expect(code(await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.TEXT }))).toBe('4.06');
    expect(code(await server.request(sim, Method.GET, '/3/0/4'))).toBe('4.05');
  });

  it('in legacy mode answers TLV 1542 whatever Accept asked, JSON 1543 when asked JSON', async () => {
    const sim = await simulator({ legacyFormats: true, endpoint: 'contiki' });
    await sim.register();
    const register = server.received[0];
    expect(register?.uriQuery).toEqual(['ep=contiki']);
    expect(register?.payload.toString()).toBe('<1/0>,<3/0>,<3303/0>');

    const senml = await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.SENML_CBOR });
    expect(senml.contentFormat).toBe(ContentFormat.TLV_LEGACY);
    const tlv = await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.TLV });
    expect(tlv.payload.equals(encode(ContentFormat.TLV, decode(tlv, '/3/0'), '/3/0'))).toBe(true);
    expect(valueOf(decode(tlv, '/3/0'), 9)).toEqual({ type: 'integer', value: 95 });
    const text = await server.request(sim, Method.GET, '/3/0/9', { accept: ContentFormat.TEXT });
    expect(text.contentFormat).toBe(ContentFormat.TLV_LEGACY);
    const json = await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.JSON });
    expect(json.contentFormat).toBe(ContentFormat.JSON_LEGACY);
  });
});

describe('Write, Execute, Create, Delete', () => {
  it('writes a resource and reads it back', async () => {
    const sim = await simulator();
    const write = await server.request(sim, Method.PUT, '/3/0/14', { contentFormat: ContentFormat.TEXT, payload: '+02:00' });
    expect(code(write)).toBe('2.04');
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+02:00' });
    const read = await server.request(sim, Method.GET, '/3/0/14', { accept: ContentFormat.TEXT });
    expect(read.payload.toString()).toBe('+02:00');
    expect(sim.requests.at(-2)).toMatchObject({ method: 'PUT', path: '/3/0/14', contentFormat: ContentFormat.TEXT });
  });

  it('updates an instance partially with POST and refuses a read-only resource with 4.05', async () => {
    const sim = await simulator();
    const lifetime: Lwm2mNode = { kind: 'instance', id: 0, resources: [{ kind: 'resource', id: 1, value: { type: 'integer', value: 900 } }] };
    const update = await server.request(sim, Method.POST, '/1/0', { contentFormat: ContentFormat.TLV, payload: encode(ContentFormat.TLV, lifetime, '/1/0') });
    expect(code(update)).toBe('2.04');
    expect(sim.getValue('/1/0/1')).toEqual({ type: 'integer', value: 900 });
    expect(sim.getValue('/1/0/7')).toEqual({ type: 'string', value: 'U' });

    const battery = await server.request(sim, Method.PUT, '/3/0/9', { contentFormat: ContentFormat.TEXT, payload: '10' });
    expect(code(battery)).toBe('4.05');
    expect(sim.getValue('/3/0/9')).toEqual({ type: 'integer', value: 95 });
    const noFormat = await server.request(sim, Method.PUT, '/3/0/14', { contentFormat: ContentFormat.LWM2M_CBOR, payload: 'x' });
    expect(code(noFormat)).toBe('4.15');
  });

  it('records an Execute with its arguments', async () => {
    const sim = await simulator();
    expect(code(await server.request(sim, Method.POST, '/3/0/4', { payload: "0='now'" }))).toBe('2.04');
    expect(code(await server.request(sim, Method.POST, '/3/0/4'))).toBe('2.04');
    expect(code(await server.request(sim, Method.POST, '/3/0/9'))).toBe('4.05');
    expect(sim.executed).toEqual([
      { path: '/3/0/4', args: "0='now'" },
      { path: '/3/0/4', args: '' },
    ]);
  });

  it('creates an instance, then deletes it', async () => {
    const sim = await simulator();
    const created: Lwm2mNode = {
      kind: 'instance',
      id: 1,
      resources: [
        { kind: 'resource', id: 5700, value: float(-3.5) },
        { kind: 'resource', id: 5701, value: { type: 'string', value: 'Cel' } },
      ],
    };
    const create = await server.request(sim, Method.POST, '/3303', { contentFormat: ContentFormat.TLV, payload: encode(ContentFormat.TLV, created, '/3303/1') });
    expect(code(create)).toBe('2.01');
    expect(getStringOptions(create.options, OptionNumber.LOCATION_PATH)).toEqual(['3303', '1']);
    expect(sim.getValue('/3303/1/5700')).toEqual(float(-3.5));

    const senml = encodeSenmlRecords([{ path: [3303, 7, 5700], value: float(40) }], ContentFormat.SENML_JSON);
    const named = await server.request(sim, Method.POST, '/3303', { contentFormat: ContentFormat.SENML_JSON, payload: Buffer.from(senml) });
    expect(getStringOptions(named.options, OptionNumber.LOCATION_PATH)).toEqual(['3303', '7']);

    expect(code(await server.request(sim, Method.DELETE, '/3303/1'))).toBe('2.02');
    expect(code(await server.request(sim, Method.GET, '/3303/1'))).toBe('4.04');
    expect(code(await server.request(sim, Method.DELETE, '/3303/1'))).toBe('4.04');
    expect(code(await server.request(sim, Method.POST, '/3304', { contentFormat: ContentFormat.TLV, payload: encode(ContentFormat.TLV, created, '/3303/1') }))).toBe('4.04');
  });
});

describe('Discover and Write-Attributes', () => {
  it('shows the attributes Write-Attributes set', async () => {
    const sim = await simulator();
    expect(code(await server.request(sim, Method.PUT, '/3/0', { query: ['pmin=10'] }))).toBe('2.04');
    expect(code(await server.request(sim, Method.PUT, '/3/0/9', { query: ['pmax=60', 'gt=50'] }))).toBe('2.04');
    expect(sim.attributes('/3/0/9')).toEqual({ pmax: '60', gt: '50' });

    const discover = await server.request(sim, Method.GET, '/3/0', { accept: ContentFormat.LINK });
    expect([code(discover), discover.contentFormat]).toEqual(['2.05', ContentFormat.LINK]);
    const text = discover.payload.toString();
    expect(text.startsWith('</3/0>;pmin=10,</3/0/0>,</3/0/1>,')).toBe(true);
    expect(text).toContain('</3/0/4>,');
    expect(text).toContain('</3/0/7>;dim=2,');
    expect(text).toContain('</3/0/9>;pmax=60;gt=50,');

    const resource = await server.request(sim, Method.GET, '/3/0/9', { accept: ContentFormat.LINK });
    expect(resource.payload.toString()).toBe('</3/0/9>;pmin=10;pmax=60;gt=50');
    const object = await server.request(sim, Method.GET, '/3', { accept: ContentFormat.LINK });
    expect(object.payload.toString()).toMatch(/^<\/3>;ver=[\d.]+,<\/3\/0>;pmin=10,/);

    // a name without value removes the attribute
    await server.request(sim, Method.PUT, '/3/0/9', { query: ['gt'] });
    expect(sim.attributes('/3/0/9')).toEqual({ pmax: '60' });
  });

  it('refuses unknown attributes, malformed values and unknown paths', async () => {
    const sim = await simulator();
    expect(code(await server.request(sim, Method.PUT, '/3/0', { query: ['foo=1'] }))).toBe('4.00');
    expect(code(await server.request(sim, Method.PUT, '/3/0', { query: ['pmin=ten'] }))).toBe('4.00');
    expect(code(await server.request(sim, Method.PUT, '/3/0', { query: ['gt=5'] }))).toBe('4.00');
    expect(code(await server.request(sim, Method.PUT, '/3/9', { query: ['pmin=1'] }))).toBe('4.04');
    expect(code(await server.request(sim, Method.GET, '/3/9', { accept: ContentFormat.LINK }))).toBe('4.04');
  });
});

describe('composite operations (LwM2M 1.1)', () => {
  it('answers Read-Composite with the values of the paths asked', async () => {
    const sim = await simulator();
    const paths = encodeSenmlPaths([[3303, 0, 5700], [3, 0, 9], [3, 0, 99]], ContentFormat.SENML_JSON);
    const fetch = await server.request(sim, Method.FETCH, '/', { contentFormat: ContentFormat.SENML_JSON, payload: Buffer.from(paths) });
    expect([code(fetch), fetch.contentFormat]).toEqual(['2.05', ContentFormat.SENML_JSON]);
    expect(decodeSenmlRecords(fetch.payload, ContentFormat.SENML_JSON, model)).toEqual([
      { path: [3303, 0, 5700], value: float(21.5) },
      { path: [3, 0, 9], value: { type: 'integer', value: 95 } },
    ]);
    const cbor = await server.request(sim, Method.FETCH, '/', {
      contentFormat: ContentFormat.SENML_JSON,
      accept: ContentFormat.SENML_CBOR,
      payload: Buffer.from(paths),
    });
    expect(cbor.contentFormat).toBe(ContentFormat.SENML_CBOR);
  });

  it('applies Write-Composite all or nothing', async () => {
    const sim = await simulator();
    const write = (records: Parameters<typeof encodeSenmlRecords>[0]) =>
      server.request(sim, Method.IPATCH, '/', { contentFormat: ContentFormat.SENML_CBOR, payload: Buffer.from(encodeSenmlRecords(records, ContentFormat.SENML_CBOR)) });
    const ok = await write([
      { path: [3, 0, 14], value: { type: 'string', value: '+05:30' } },
      { path: [1, 0, 1], value: { type: 'integer', value: 42 } },
    ]);
    expect(code(ok)).toBe('2.04');
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+05:30' });
    expect(sim.getValue('/1/0/1')).toEqual({ type: 'integer', value: 42 });

    const refused = await write([
      { path: [3, 0, 14], value: { type: 'string', value: 'Z' } },
      { path: [3, 0, 9], value: { type: 'integer', value: 1 } },
    ]);
    expect(code(refused)).toBe('4.05');
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+05:30' });
  });

  it('are unknown to a 1.0 client', async () => {
    const sim = await simulator({ lwm2mVersion: '1.0' });
    const paths = encodeSenmlPaths([[3, 0, 9]], ContentFormat.SENML_JSON);
    expect(code(await server.request(sim, Method.FETCH, '/', { contentFormat: ContentFormat.SENML_JSON, payload: Buffer.from(paths) }))).toBe('4.05');
  });
});

describe('Observe', () => {
  it('notifies a change with the same token, increasing Observe and the observed format', async () => {
    const sim = await simulator();
    const token = Buffer.from('0b5e', 'hex');
    const first = await server.request(sim, Method.GET, '/3303/0/5700', { observe: 0, accept: ContentFormat.SENML_JSON, token });
    expect(code(first)).toBe('2.05');
    const sequence = observeOf(first);
    expect(sequence).toBeDefined();
    expect(sim.observations.get('0b5e')).toEqual({ path: '/3303/0/5700', format: ContentFormat.SENML_JSON });

    sim.setValue('/3303/0/5700', float(22.5));
    sim.setValue('/3303/0/5700', float(23));
    const [n1, n2] = await server.notificationsUpTo(2);
    for (const n of [n1, n2]) {
      expect(n?.token.equals(token)).toBe(true);
      expect(n?.contentFormat).toBe(ContentFormat.SENML_JSON);
    }
    expect(observeOf(n1!)).toBeGreaterThan(sequence!);
    expect(observeOf(n2!)).toBeGreaterThan(observeOf(n1!)!);
    expect(valueOf(decode(n1!, '/3303/0/5700'))).toEqual(float(22.5));
    expect(valueOf(decode(n2!, '/3303/0/5700'))).toEqual(float(23));
  });

  it('notifies the observer of an instance when one of its resources changes, with CON when configured', async () => {
    const sim = await simulator({ confirmableNotifications: true, lwm2mVersion: '1.0' });
    await server.request(sim, Method.GET, '/3/0', { observe: 0 });
    sim.setValue('/3/0/9', { type: 'integer', value: 50 });
    const [notification] = await server.notificationsUpTo(1);
    expect(notification?.contentFormat).toBe(ContentFormat.TLV);
    expect(valueOf(decode(notification!, '/3/0'), 9)).toEqual({ type: 'integer', value: 50 });
    // a CON notification the server accepted keeps the observation
    await vi.waitFor(() => expect(sim.observations.size).toBe(1));
  });

  it('stops notifying after a cancel with Observe=1', async () => {
    const sim = await simulator();
    const token = Buffer.from('cafe', 'hex');
    await server.request(sim, Method.GET, '/3/0/9', { observe: 0, token, accept: ContentFormat.TEXT });
    const cancel = await server.request(sim, Method.GET, '/3/0/9', { observe: 1, token, accept: ContentFormat.TEXT });
    expect(code(cancel)).toBe('2.05');
    expect(observeOf(cancel)).toBeUndefined();
    expect(sim.observations.size).toBe(0);
    sim.setValue('/3/0/9', { type: 'integer', value: 1 });
    // a full round trip after the change: a notification sent for it would have come first
    await server.request(sim, Method.GET, '/3/0/9');
    expect(server.notifications).toEqual([]);
  });

  // CON only: CoapEndpoint.notify() resolves a NON notification as 'sent' and drops the Reset it may get.
  it('forgets an observation when the server rejects a CON notification with a Reset', async () => {
    const sim = await simulator({ confirmableNotifications: true });
    server.acceptNotifications = false;
    await server.request(sim, Method.GET, '/3303/0/5700', { observe: 0 });
    sim.setValue('/3303/0/5700', float(30));
    await server.notificationsUpTo(1);
    await vi.waitFor(() => expect(sim.observations.size).toBe(0));
  });

  it('ends the observation of a deleted instance with a 4.04 notification', async () => {
    const sim = await simulator();
    sim.setValue('/3303/1/5700', float(1));
    await server.request(sim, Method.GET, '/3303/1', { observe: 0 });
    await server.request(sim, Method.DELETE, '/3303/1');
    const [notification] = await server.notificationsUpTo(1);
    expect(code(notification!)).toBe('4.04');
    expect(sim.observations.size).toBe(0);
  });

  it('notifies the current value when pmax elapses', async () => {
    const sim = await simulator();
    await server.request(sim, Method.PUT, '/3303/0/5700', { query: ['pmax=1'] });
    await server.request(sim, Method.GET, '/3303/0/5700', { observe: 0, accept: ContentFormat.TEXT });
    const [notification] = await server.notificationsUpTo(1);
    expect(notification?.payload.toString()).toBe('21.5');
  });
});

describe('sleep (queue mode)', () => {
  it('leaves requests unanswered while asleep and answers again after waking', async () => {
    const sim = await simulator({ queueMode: true });
    await sim.register();
    sim.sleep();
    await expect(server.request(sim, Method.GET, '/3/0/9', { timeoutMs: 800 })).rejects.toBeInstanceOf(CoapTimeoutError);
    expect(sim.requests).toEqual([]);
    expect(sim.lostWhileAsleep).toBeGreaterThanOrEqual(1);

    sim.wake();
    expect(await sim.update()).toBe('2.04');
    const read = await server.request(sim, Method.GET, '/3/0/9', { accept: ContentFormat.TEXT });
    expect(read.payload.toString()).toBe('95');
    expect(sim.requests).toHaveLength(1);
  });

  it('answers a retransmission that arrives after waking, unlike the copies it slept through', async () => {
    const patient = await FakeServer.start('::1', 5);
    try {
      const sim = await simulator({}, patient);
      sim.sleep();
      const pending = patient.request(sim, Method.GET, '/3/0/9', { accept: ContentFormat.TEXT, timeoutMs: 10_000 });
      await vi.waitFor(() => expect(sim.lostWhileAsleep).toBeGreaterThanOrEqual(1), { timeout: 3000, interval: 5 });
      sim.wake();
      const read = await pending; // a later retransmission, same message ID
      expect(read.payload.toString()).toBe('95');
      expect(sim.requests).toHaveLength(1);
    } finally {
      await patient.close();
    }
  });

  it('holds notifications while asleep and sends the latest value on waking', async () => {
    const sim = await simulator();
    await server.request(sim, Method.GET, '/3303/0/5700', { observe: 0, accept: ContentFormat.TEXT });
    sim.unresponsive = true;
    sim.setValue('/3303/0/5700', float(1));
    sim.setValue('/3303/0/5700', float(2));
    // answered by nobody: a server request in between proves the radio was off
    await expect(server.request(sim, Method.GET, '/3/0/9', { timeoutMs: 500 })).rejects.toBeInstanceOf(CoapTimeoutError);
    expect(server.notifications).toEqual([]);
    sim.unresponsive = false;
    const [notification] = await server.notificationsUpTo(1);
    expect(notification?.payload.toString()).toBe('2');
  });
});

describe('device state', () => {
  it('is typed by the object model', async () => {
    const sim = await simulator();
    expect(sim.getValue('/1/0/0')).toEqual({ type: 'integer', value: 1 });
    expect(sim.getValue('/1/0/7')).toEqual({ type: 'string', value: 'U' });
    expect(sim.getValue('/3/0/6/1')).toEqual({ type: 'integer', value: 5 });
    expect(sim.getValue('/3/0/13')?.type).toBe('time');
    expect(sim.getValue('/3303/0/5700')).toEqual(float(21.5));
    expect(sim.getValue('/3/0/4')).toBeUndefined();
    expect(() => sim.setValue('/3/0/7', { type: 'integer', value: 1 })).toThrow(/multiple resource/);
    expect(() => sim.setValue('/3/0', { type: 'integer', value: 1 })).toThrow(/resource/);
  });
});
