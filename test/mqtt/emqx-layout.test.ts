/**
 * The EMQX LwM2M gateway layout against EMQX's own examples:
 *   [doc]   https://docs.emqx.com/en/emqx/latest/gateway/lwm2m.html (emqx/emqx-docs en_US/gateway/lwm2m.md)
 *   [suite] emqx/emqx apps/emqx_gateway_lwm2m/test/emqx_lwm2m_SUITE.erl
 * Payloads are compared as JSON (deep equality); a few byte for byte where EMQX's key order is known.
 */
import { describe, expect, it } from 'vitest';
import type { Link } from '../../src/codecs/link-format/index.js';
import { instanceFromJson, nodeFromJson } from '../../src/http/node-json.js';
import type { Lwm2mResponse } from '../../src/lwm2m/device-api.js';
import { Lwm2mRequestError } from '../../src/lwm2m/errors.js';
import type { Registration } from '../../src/lwm2m/registration/registration.js';
import type { Lwm2mNode } from '../../src/model/node.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { parsePath, type Lwm2mPath } from '../../src/model/path.js';
import { createEmqxLayout, encodeEmqxJson } from '../../src/mqtt/emqx-layout.js';
import type { CommandOutcome, DeviceCommand, OutgoingMessage, ParsedCommand, TopicLayout } from '../../src/mqtt/layout.js';

const model = EMPTY_MODEL;
const T0 = Date.parse('2024-05-01T12:00:00Z');

function registration(overrides: Partial<Registration> = {}): Registration {
  return {
    id: 'reg-1',
    endpoint: 'testlwm2mclient',
    lifetime: 300,
    lwm2mVersion: '1.0',
    binding: 'U',
    queueMode: false,
    address: '127.0.0.1',
    port: 56830,
    rootPath: '/',
    objectLinks: [1, 2, 3, 4, 5, 6, 7].map((id) => ({ path: [id, 0] as Lwm2mPath, attributes: {} })),
    supportedContentFormats: [],
    additionalAttributes: {},
    registeredAt: T0,
    lastUpdate: T0,
    ...overrides,
  };
}

const json = (message: OutgoingMessage | undefined): unknown => JSON.parse(message?.payload ?? 'null');

function command(layout: TopicLayout, topic: string, body: unknown): { endpoint: string; command: DeviceCommand } {
  const parsed = layout.parseCommand(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
  if (!parsed.ok) throw new Error(`expected a command, got: ${parsed.error}`);
  return parsed;
}

function failure(parsed: ParsedCommand): Extract<ParsedCommand, { ok: false }> {
  if (parsed.ok) throw new Error('expected a failure');
  return parsed;
}

const ok = (response: Lwm2mResponse): CommandOutcome => ({ ok: true, response });

/** Parses `body` as a command of `endpoint` and answers it with `outcome`. */
function roundTrip(layout: TopicLayout, endpoint: string, body: unknown, outcome: CommandOutcome): { command: DeviceCommand; reply: OutgoingMessage } {
  const { command: parsed } = command(layout, `lwm2m/${endpoint}/dn`, body);
  return { command: parsed, reply: layout.reply(endpoint, parsed, parsed.id, outcome, model) };
}

describe('topics', () => {
  it('subscribes to dn/# under the default mountpoint lwm2m/${endpoint_name}/', () => {
    expect(createEmqxLayout().commandFilters()).toEqual(['lwm2m/+/dn/#']);
  });

  it('takes commands on lwm2m/{ep}/dn and anything below it ([doc] dn/cmd, [suite] dn/dm)', () => {
    const layout = createEmqxLayout();
    const body = { reqID: 1, msgType: 'read', data: { path: '/3/0/1' } };
    expect(command(layout, 'lwm2m/ep1/dn', body).endpoint).toBe('ep1');
    expect(command(layout, 'lwm2m/ep1/dn/cmd', body).endpoint).toBe('ep1');
    expect(command(layout, 'lwm2m/urn:oma:lwm2m:oma:3/dn/dm', body).endpoint).toBe('urn:oma:lwm2m:oma:3');
    expect(failure(layout.parseCommand('lwm2m/ep1/up/resp', Buffer.from(JSON.stringify(body)))).error).toMatch(/not an EMQX command topic/);
  });

  it('follows a mountpoint without trailing slash and translators with a leading one ([suite] default_config)', () => {
    const layout = createEmqxLayout({
      mountpoint: 'lwm2m/${username}',
      translators: { command: '/dn/#', response: '/up/resp', notify: '/up/notify', register: '/up/resp', update: '/up/resp' },
    });
    expect(layout.commandFilters()).toEqual(['lwm2m/+/dn/#']);
    const { reply } = roundTrip(layout, 'ep1', { reqID: 1, msgType: 'delete', data: { path: '/5/0' } }, ok({ code: '2.02', success: true }));
    expect(reply.topic).toBe('lwm2m/ep1/up/resp');
    expect(layout.registrationEvent('registered', registration({ endpoint: 'ep1' }), T0)[0]?.topic).toBe('lwm2m/ep1/up/resp');
  });

  it('fills ${peerhost} from the command topic and the registration ([suite] case102_mountpoint_peerhost_api)', () => {
    const layout = createEmqxLayout({ mountpoint: 'lwm2m/${peerhost}/${endpoint_name}/' });
    expect(layout.commandFilters()).toEqual(['lwm2m/+/+/dn/#']);
    const parsed = command(layout, 'lwm2m/10.0.0.7/ep1/dn', { reqID: 1, msgType: 'delete', data: { path: '/5/0' } });
    expect(parsed.endpoint).toBe('ep1');
    expect(layout.reply('ep1', parsed.command, parsed.command.id, ok({ code: '2.02', success: true }), model).topic).toBe('lwm2m/10.0.0.7/ep1/up/resp');
    const bad = failure(layout.parseCommand('lwm2m/10.0.0.7/ep1/dn', Buffer.from('not json')));
    expect(layout.reply('ep1', undefined, bad.id, { ok: false, error: bad.error, code: 'bad_request' }, model).topic).toBe('lwm2m/10.0.0.7/ep1/up/resp');
    expect(layout.registrationEvent('registered', registration({ endpoint: 'ep1', address: '10.0.0.7' }), T0)[0]?.topic).toBe('lwm2m/10.0.0.7/ep1/up/resp');
  });

  it("reads EMQX 4's %e placeholder ([4.x] lwm2m.mountpoint = lwm2m/%e/)", () => {
    const layout = createEmqxLayout({ mountpoint: 'lwm2m/%e/' });
    expect(layout.commandFilters()).toEqual(['lwm2m/+/dn/#']);
    expect(command(layout, 'lwm2m/ep1/dn', { reqID: 1, msgType: 'read', data: { path: '/3/0/1' } }).endpoint).toBe('ep1');
  });

  it('refuses a mountpoint without the endpoint or with a placeholder it cannot fill', () => {
    expect(() => createEmqxLayout({ mountpoint: 'lwm2m/' })).toThrow(/must name the endpoint/);
    expect(() => createEmqxLayout({ mountpoint: 'lwm2m/${client_attrs.group}/${endpoint_name}/' })).toThrow(/not supported/);
  });

  it('retains nothing', () => {
    const layout = createEmqxLayout();
    const messages = [
      ...layout.registrationEvent('registered', registration(), T0),
      ...layout.registrationEvent('updated', registration(), T0),
      ...layout.values(registration(), 'notify', [3, 0, 1], { kind: 'resource', id: 1, value: { type: 'string', value: 'x' } }, T0, model, 'obs'),
    ];
    expect(messages.length).toBe(3);
    expect(messages.every((m) => !m.retain)).toBe(true);
  });
});

describe('Register and Update', () => {
  it('publishes the [doc] Register example on up/resp', () => {
    const [message, ...rest] = createEmqxLayout().registrationEvent('registered', registration(), T0);
    expect(rest).toEqual([]);
    expect(message?.topic).toBe('lwm2m/testlwm2mclient/up/resp');
    const doc = {
      msgType: 'register',
      data: {
        objectList: ['/1/0', '/2/0', '/3/0', '/4/0', '/5/0', '/6/0', '/7/0'],
        lwm2m: '1.0',
        lt: 300,
        ep: 'testlwm2mclient',
        b: 'U',
      },
    };
    // The doc leaves it out, but EMQX adds alternatePath whenever the payload lists objects ([session] append_object_list2, [suite]).
    expect(json(message)).toEqual({ ...doc, data: { ...doc.data, alternatePath: '/' } });
  });

  it('writes the [suite] case01_register_report message byte for byte', () => {
    const reg = registration({
      endpoint: 'urn:oma:lwm2m:oma:3',
      lifetime: 345,
      lwm2mVersion: '1',
      objectLinks: [1, 2, 3, 4, 5].map((id) => ({ path: [id] as Lwm2mPath, attributes: {} })),
    });
    const [message] = createEmqxLayout().registrationEvent('registered', reg, T0);
    // emqx_utils_json:encode(#{msgType => register, data => #{...}}): Erlang writes small maps in key order; `b` is ours.
    expect(message?.payload).toBe(
      '{"data":{"alternatePath":"/","b":"U","ep":"urn:oma:lwm2m:oma:3","lt":345,"lwm2m":"1","objectList":["/1","/2","/3","/4","/5"]},"msgType":"register"}',
    );
  });

  it('publishes the [doc] Update example, on up/update when so configured', () => {
    const layout = createEmqxLayout({ translators: { update: 'up/update' } });
    const [message] = layout.registrationEvent('updated', registration({ objectLinks: [{ path: [7, 0], attributes: {} }] }), T0);
    expect(message?.topic).toBe('lwm2m/testlwm2mclient/up/update');
    const doc = { msgType: 'update', data: { objectList: ['/7/0'], lwm2m: '1.0', lt: 300, ep: 'testlwm2mclient', b: 'U' } };
    expect(json(message)).toEqual({ ...doc, data: { ...doc.data, alternatePath: '/' } });
  });

  it('keeps the alternate path apart from the object list ([suite] case08_reregister)', () => {
    const reg = registration({ endpoint: 'urn:oma:lwm2m:oma:3', lifetime: 345, lwm2mVersion: '1', rootPath: '/lwm2m', objectLinks: [1, 2, 3].map((id) => ({ path: [id, 0] as Lwm2mPath, attributes: { ver: '1.0' } })) });
    expect(json(createEmqxLayout().registrationEvent('registered', reg, T0)[0])).toEqual({
      msgType: 'register',
      data: { alternatePath: '/lwm2m', ep: 'urn:oma:lwm2m:oma:3', lt: 345, lwm2m: '1', b: 'U', objectList: ['/1/0', '/2/0', '/3/0'] },
    });
  });

  it('passes extra query parameters on and drops secrets ([suite] case01_register_additional_opts, case02_update_deregister)', () => {
    const reg = registration({
      binding: 'U',
      queueMode: true,
      smsNumber: '+33600000000',
      additionalAttributes: { apn: 'psmA.eDRX0.ctnb', cust_opt: 'shawn', im: '123', ct: '1.4', mt: 'mdm9620', mv: '1.2', password: 'public', secret: 'top', private_key: 'priv', access_token: 'token' },
    });
    expect((json(createEmqxLayout().registrationEvent('registered', reg, T0)[0]) as { data: unknown }).data).toEqual({
      alternatePath: '/',
      ep: 'testlwm2mclient',
      lt: 300,
      lwm2m: '1.0',
      b: 'UQ',
      sms: '+33600000000',
      objectList: ['/1/0', '/2/0', '/3/0', '/4/0', '/5/0', '/6/0', '/7/0'],
      apn: 'psmA.eDRX0.ctnb',
      cust_opt: 'shawn',
      im: '123',
      ct: '1.4',
      mt: 'mdm9620',
      mv: '1.2',
    });
  });

  it('publishes nothing on deregistration, expiry, wake-up or sleep ([channel] close the session silently)', () => {
    const layout = createEmqxLayout();
    for (const name of ['deregistered', 'expired', 'awake', 'sleeping'] as const) expect(layout.registrationEvent(name, registration(), T0)).toEqual([]);
  });
});

describe('Read', () => {
  it('parses the [doc] Read command', () => {
    const parsed = command(createEmqxLayout(), 'lwm2m/testlwm2mclient/dn', { reqID: 1, msgType: 'read', data: { path: '/3/0/1' } });
    expect(parsed).toEqual({
      ok: true,
      endpoint: 'testlwm2mclient',
      command: expect.objectContaining({ id: '1', op: 'read', path: '/3/0/1' }) as unknown,
    });
    expect(parsed.command.context).toMatchObject({ msgType: 'read', reqPath: '/3/0/1' });
  });

  it('answers with the [doc] Read response', () => {
    const { reply } = roundTrip(
      createEmqxLayout(),
      'testlwm2mclient',
      { reqID: 1, msgType: 'read', data: { path: '/3/0/1' } },
      ok({ code: '2.05', success: true, contentFormat: 0, node: { kind: 'resource', id: 1, value: { type: 'string', value: 'Lightweight M2M Client' } } }),
    );
    expect(reply.topic).toBe('lwm2m/testlwm2mclient/up/resp');
    expect(reply.retain).toBe(false);
    expect(json(reply)).toEqual({
      reqID: 1,
      msgType: 'read',
      data: { reqPath: '/3/0/1', code: '2.05', codeMsg: 'content', content: [{ value: 'Lightweight M2M Client', path: '/3/0/1' }] },
    });
  });

  it('echoes every field of the request, byte for byte as EMQX writes it ([suite] case10_read)', () => {
    const { reply } = roundTrip(
      createEmqxLayout(),
      'urn:oma:lwm2m:oma:3',
      { requestID: 206, cacheID: 206, msgType: 'read', data: { path: '/3/0/0' } },
      ok({ code: '2.05', success: true, contentFormat: 0, node: { kind: 'resource', id: 0, value: { type: 'string', value: 'EMQ' } } }),
    );
    expect(reply.payload).toBe('{"cacheID":206,"data":{"code":"2.05","codeMsg":"content","content":[{"path":"/3/0/0","value":"EMQ"}],"reqPath":"/3/0/0"},"msgType":"read","requestID":206}');
  });

  it('lists an instance resource by resource, typed as EMQX types them ([suite] case11_read_object_json, case15_read_tlv_types)', () => {
    const node: Lwm2mNode = {
      kind: 'instance',
      id: 0,
      resources: [
        { kind: 'resource', id: 0, value: { type: 'string', value: 'Open Mobile Alliance' } },
        { kind: 'resource', id: 13, value: { type: 'time', value: 1700000000 } },
        { kind: 'resource', id: 6, value: { type: 'boolean', value: true } },
        { kind: 'multipleResource', id: 22, instances: [{ kind: 'resourceInstance', id: 0, value: { type: 'objlnk', value: { objectId: 1, instanceId: 2 } } }, { kind: 'resourceInstance', id: 1, value: { type: 'objlnk', value: { objectId: 1, instanceId: 3 } } }] },
        { kind: 'resource', id: 4, value: { type: 'opaque', value: new Uint8Array([1, 2, 3]) } },
        { kind: 'resource', id: 5, value: { type: 'float', value: 1.5 } },
        { kind: 'resource', id: 7, value: { type: 'integer', value: -129 } },
      ],
    };
    const { reply } = roundTrip(createEmqxLayout(), 'ep', { requestID: 321, cacheID: 321, msgType: 'read', data: { path: '/3/0' } }, ok({ code: '2.05', success: true, contentFormat: 11542, node }));
    expect(json(reply)).toEqual({
      requestID: 321,
      cacheID: 321,
      msgType: 'read',
      data: {
        code: '2.05',
        codeMsg: 'content',
        reqPath: '/3/0',
        content: [
          { path: '/3/0/0', value: 'Open Mobile Alliance' },
          { path: '/3/0/13', value: 1700000000 },
          { path: '/3/0/6', value: true },
          { path: '/3/0/22/0', value: '1:2' },
          { path: '/3/0/22/1', value: '1:3' },
          { path: '/3/0/4', value: 'AQID' },
          { path: '/3/0/5', value: 1.5 },
          { path: '/3/0/7', value: -129 },
        ],
      },
    });
  });

  it('writes 64-bit integers as JSON numbers, as Erlang does', () => {
    const { reply } = roundTrip(createEmqxLayout(), 'ep', { reqID: 9, msgType: 'read', data: { path: '/3/0/7' } }, ok({ code: '2.05', success: true, node: { kind: 'resource', id: 7, value: { type: 'integer', value: 9007199254740993n } } }));
    expect(reply.payload).toContain('"value":9007199254740993');
  });

  it('leaves the slash out when a TLV answer holds several object instances ([suite] case16_read_tlv_object_instances)', () => {
    const node: Lwm2mNode = {
      kind: 'object',
      id: 3,
      instances: [
        { kind: 'instance', id: 0, resources: [{ kind: 'resource', id: 0, value: { type: 'string', value: 'A' } }] },
        { kind: 'instance', id: 1, resources: [{ kind: 'resource', id: 0, value: { type: 'string', value: 'B' } }] },
      ],
    };
    const body = { requestID: 330, cacheID: 330, msgType: 'read', data: { path: '/3' } };
    expect(json(roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.05', success: true, contentFormat: 11542, node })).reply)).toEqual({
      requestID: 330,
      cacheID: 330,
      msgType: 'read',
      data: { code: '2.05', codeMsg: 'content', reqPath: '/3', content: [{ path: '3/0/0', value: 'A' }, { path: '3/1/0', value: 'B' }] },
    });
    // A single instance keeps it (case20_read_tlv_variants), and so do formats EMQX read differently.
    const single: Lwm2mNode = { kind: 'object', id: 3, instances: [{ kind: 'instance', id: 0, resources: [{ kind: 'resource', id: 0, value: { type: 'string', value: 'ACME' } }] }] };
    expect((json(roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.05', success: true, contentFormat: 11542, node: single })).reply) as { data: { content: unknown } }).data.content).toEqual([{ path: '/3/0/0', value: 'ACME' }]);
    expect((json(roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.05', success: true, contentFormat: 112, node })).reply) as { data: { content: unknown } }).data.content).toEqual([
      { path: '/3/0/0', value: 'A' },
      { path: '/3/1/0', value: 'B' },
    ]);
  });

  it('answers an error code with its EMQX name and no content ([suite] case18_read_error_codes)', () => {
    const cases: [string, string][] = [
      ['4.01', 'unauthorized'],
      ['4.04', 'not_found'],
      ['4.05', 'method_not_allowed'],
      ['4.15', 'unsupported_content_format'],
      ['5.00', 'internal_server_error'],
      ['5.03', 'service_unavailable'],
    ];
    for (const [code, codeMsg] of cases) {
      const { reply } = roundTrip(createEmqxLayout(), 'ep', { requestID: 1, cacheID: 1, msgType: 'read', data: { path: '/3/0/0' } }, ok({ code, success: false }));
      expect(json(reply)).toEqual({ requestID: 1, cacheID: 1, msgType: 'read', data: { reqPath: '/3/0/0', code, codeMsg } });
    }
  });

  it('drops the query from reqPath ([suite] case14_read_text_types)', () => {
    const { command: parsed, reply } = roundTrip(createEmqxLayout(), 'ep', { requestID: 311, cacheID: 311, msgType: 'read', data: { path: '/6/0/0?foo=bar&baz=1' } }, ok({ code: '2.05', success: true, node: { kind: 'resource', id: 0, value: { type: 'float', value: 12.5 } } }));
    expect(parsed.path).toBe('/6/0/0');
    expect(json(reply)).toEqual({ requestID: 311, cacheID: 311, msgType: 'read', data: { code: '2.05', codeMsg: 'content', reqPath: '/6/0/0', content: [{ path: '/6/0/0', value: 12.5 }] } });
  });

  it('answers an undecodable answer with bad_request ([suite] case17_read_invalid_tlv)', () => {
    const layout = createEmqxLayout();
    const parsed = command(layout, 'lwm2m/ep/dn', { requestID: 340, cacheID: 340, msgType: 'read', data: { path: '/3/0' } });
    const error = new Lwm2mRequestError('decode_error', 'ep', 'cannot decode', [3, 0]);
    expect(json(layout.reply('ep', parsed.command, parsed.command.id, { ok: false, error, code: error.kind }, model))).toEqual({
      requestID: 340,
      cacheID: 340,
      msgType: 'read',
      data: { reqPath: '/3/0', code: '4.00', codeMsg: 'bad_request' },
    });
  });

  it('publishes nothing more for the read itself (the reply carries the values)', () => {
    expect(createEmqxLayout().values(registration(), 'read', [3, 0, 0], { kind: 'resource', id: 0, value: { type: 'string', value: 'x' } }, T0, model)).toEqual([]);
  });
});

describe('no answer', () => {
  it('answers a timeout with the request itself as coap_timeout ([session] handle_ack_failure)', () => {
    const layout = createEmqxLayout();
    const parsed = command(layout, 'lwm2m/ep/dn/dm', { requestID: 612, cacheID: 612, msgType: 'read', data: { path: '/3/0/0' } });
    const error = new Lwm2mRequestError('timeout', 'ep', 'no answer', [3, 0, 0]);
    expect(json(layout.reply('ep', parsed.command, parsed.command.id, { ok: false, error, code: error.kind }, model))).toEqual({
      requestID: 612,
      cacheID: 612,
      msgType: 'coap_timeout',
      data: { path: '/3/0/0' },
    });
  });

  it('answers a Reset as coap_reset ([suite] case64_coap_reset)', () => {
    const layout = createEmqxLayout();
    const parsed = command(layout, 'lwm2m/ep/dn/dm', { requestID: 612, cacheID: 612, msgType: 'read', data: { path: '/3/0/0' } });
    const error = new Lwm2mRequestError('reset', 'ep', 'reset', [3, 0, 0]);
    expect(json(layout.reply('ep', parsed.command, parsed.command.id, { ok: false, error, code: error.kind }, model))).toEqual({ requestID: 612, cacheID: 612, msgType: 'coap_reset', data: { path: '/3/0/0' } });
  });

  it('answers a command to an unregistered endpoint like an unanswered one', () => {
    const layout = createEmqxLayout();
    const parsed = command(layout, 'lwm2m/ghost/dn', { reqID: 5, msgType: 'execute', data: { path: '/3/0/4' } });
    const error = new Lwm2mRequestError('not_registered', 'ghost', 'no such registered client');
    expect(json(layout.reply('ghost', parsed.command, parsed.command.id, { ok: false, error, code: error.kind }, model))).toEqual({ reqID: 5, msgType: 'coap_timeout', data: { path: '/3/0/4' } });
  });
});

describe('Discover', () => {
  const links = (uris: string[]): Link[] => uris.map((uri) => ({ uri, attributes: {} }));

  it('parses the [doc] Discover command', () => {
    expect(command(createEmqxLayout(), 'lwm2m/ep/dn', { reqID: 2, msgType: 'discover', data: { path: '/3/0' } }).command).toMatchObject({ id: '2', op: 'discover', path: '/3/0' });
  });

  it('answers with the [doc] Discover response', () => {
    const answer: Link[] = [{ uri: '/3/0', attributes: { pmin: '10' } }, ...links(Array.from({ length: 17 }, (_, i) => `/3/0/${i}`))];
    const { reply } = roundTrip(createEmqxLayout(), 'ep', { reqID: 123, msgType: 'discover', data: { path: '/3/0' } }, ok({ code: '2.05', success: true, contentFormat: 40, links: answer }));
    expect(json(reply)).toEqual({
      reqID: 123,
      msgType: 'discover',
      data: {
        reqPath: '/3/0',
        code: '2.05',
        codeMsg: 'content',
        content: ['</3/0>;pmin=10', '</3/0/0>', '</3/0/1>', '</3/0/2>', '</3/0/3>', '</3/0/4>', '</3/0/5>', '</3/0/6>', '</3/0/7>', '</3/0/8>', '</3/0/9>', '</3/0/10>', '</3/0/11>', '</3/0/12>', '</3/0/13>', '</3/0/14>', '</3/0/15>', '</3/0/16>'],
      },
    });
  });

  it('keeps every attribute of a link ([suite] case40_discover)', () => {
    const answer: Link[] = [{ uri: '/3/0/7', attributes: { dim: '8', pmin: '10', pmax: '60', gt: '50', lt: '42.2' } }, { uri: '/3/0/8', attributes: {} }];
    const { reply } = roundTrip(createEmqxLayout(), 'ep', { requestID: 307, cacheID: 307, msgType: 'discover', data: { path: '/3/0/7' } }, ok({ code: '2.05', success: true, links: answer }));
    expect(json(reply)).toEqual({
      requestID: 307,
      cacheID: 307,
      msgType: 'discover',
      data: { reqPath: '/3/0/7', code: '2.05', codeMsg: 'content', content: ['</3/0/7>;dim=8;pmin=10;pmax=60;gt=50;lt=42.2', '</3/0/8>'] },
    });
  });
});

describe('Write', () => {
  it('parses the [doc] single Write', () => {
    const parsed = command(createEmqxLayout(), 'lwm2m/ep/dn', { reqID: 3, msgType: 'write', data: { path: '/31024/11/1', type: 'String', value: 'write_an_example_value' } });
    expect(parsed.command).toMatchObject({ id: '3', op: 'write', path: '/31024/11/1', value: { type: 'string', value: 'write_an_example_value' } });
    expect(parsed.command.partial).toBeUndefined();
  });

  it('parses the [doc] batch Write into a partial update of the instance', () => {
    const body = {
      reqID: 3,
      msgType: 'write',
      data: {
        basePath: '/31024/11/',
        content: [
          { path: '1', type: 'String', value: 'write_the_1st_value' },
          { path: '2', type: 'String', value: 'write_the_2nd_value' },
        ],
      },
    };
    const { command: parsed, reply } = roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.04', success: true }));
    expect(parsed).toMatchObject({
      op: 'write',
      path: '/31024/11',
      partial: true,
      value: {
        resources: [
          { id: 1, type: 'string', value: 'write_the_1st_value' },
          { id: 2, type: 'string', value: 'write_the_2nd_value' },
        ],
      },
    });
    // reqPath is basePath as written ([suite] case21_write_object).
    expect(json(reply)).toEqual({ reqID: 3, msgType: 'write', data: { reqPath: '/31024/11/', code: '2.04', codeMsg: 'changed' } });
  });

  it('reads the [suite] value spellings: numbers as strings, booleans as "true", multiple resources as n/i (case21, case26)', () => {
    const body = {
      requestID: 560,
      cacheID: 560,
      msgType: 'write',
      data: {
        basePath: '/3/0',
        content: [
          { path: '/6/0', type: 'Integer', value: 1 },
          { path: '6/1', type: 'Integer', value: '2' },
          { path: '13', type: 'Time', value: 10 },
          { path: '13', type: 'Time', value: 11 },
          { path: '11', type: 'Boolean', value: 'true' },
          { path: '12', type: 'Boolean', value: 'false' },
          { path: '14', type: 'Float', value: '1.5' },
          { path: '300', type: 'Opaque', value: 'QkJC' },
          { path: '22', type: 'Objlnk', value: '1:2' },
        ],
      },
    };
    expect(command(createEmqxLayout(), 'lwm2m/ep/dn/dm', body).command.value).toEqual({
      resources: [
        { id: 6, type: 'integer', values: { '0': 1, '1': '2' } },
        { id: 13, type: 'time', value: 11 },
        { id: 11, type: 'boolean', value: true },
        { id: 12, type: 'boolean', value: false },
        { id: 14, type: 'float', value: 1.5 },
        { id: 300, type: 'opaque', value: 'QkJC' },
        { id: 22, type: 'objlnk', value: '1:2' },
      ],
    });
  });

  it('writes a resource with one value, or its instances, under a resource basePath ([suite] case20_write, case23)', () => {
    const layout = createEmqxLayout();
    const single = command(layout, 'lwm2m/ep/dn', { requestID: 307, cacheID: 307, msgType: 'write', data: { basePath: '/3/0/13', content: [{ type: 'Float', value: '12345.0' }] } });
    expect(single.command).toMatchObject({ path: '/3/0/13', value: { type: 'float', value: 12345 } });
    expect(single.command.partial).toBeUndefined();
    const instances = command(layout, 'lwm2m/ep/dn', {
      requestID: 400,
      msgType: 'write',
      mheaders: { ttl: 0 },
      data: { basePath: '/3/0/22', content: [{ path: '0', type: 'Objlnk', value: '1:2' }, { path: '1', type: 'Objlnk', value: '1:3' }, { path: '1', type: 'Objlnk', value: '1:4' }] },
    });
    expect(instances.command).toMatchObject({ path: '/3/0/22', value: { type: 'objlnk', values: { '0': '1:2', '1': '1:4' } } });
    expect(json(layout.reply('ep', instances.command, instances.command.id, ok({ code: '2.04', success: true }), model))).toEqual({
      requestID: 400,
      mheaders: { ttl: 0 },
      msgType: 'write',
      data: { reqPath: '/3/0/22', code: '2.04', codeMsg: 'changed' },
    });
  });

  it('decodes hex values and echoes "encoding" ([suite] case27_write_hex_encoding)', () => {
    const body = { requestID: 308, cacheID: 308, msgType: 'write', encoding: 'hex', data: { path: '/3/0/1', type: 'String', value: '48656C6C6F' } };
    const { command: parsed, reply } = roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.04', success: true }));
    expect(parsed.value).toEqual({ type: 'string', value: 'Hello' });
    expect(json(reply)).toEqual({ requestID: 308, cacheID: 308, msgType: 'write', encoding: 'hex', data: { reqPath: '/3/0/1', code: '2.04', codeMsg: 'changed' } });
  });

  it('answers bad hex with bad_request, echoing the request ([suite] case27_write_hex_encoding_invalid)', () => {
    const layout = createEmqxLayout();
    const parsed = failure(layout.parseCommand('lwm2m/ep/dn/dm', Buffer.from(JSON.stringify({ requestID: 309, cacheID: 309, msgType: 'write', encoding: 'hex', data: { path: '/3/0/1', type: 'String', value: 'ZZ' } }))));
    expect(parsed).toMatchObject({ endpoint: 'ep', id: '309' });
    expect(parsed.error).toMatch(/hex/);
    // What the bridge does with a failed parse: reply without a command.
    expect(json(layout.reply('ep', undefined, parsed.id, { ok: false, error: parsed.error, code: 'bad_request' }, model))).toEqual({
      requestID: 309,
      cacheID: 309,
      msgType: 'write',
      encoding: 'hex',
      data: { reqPath: '/3/0/1', code: '4.00', codeMsg: 'bad_request' },
    });
  });

  it('answers a device error with its code ([suite] case22_write_error)', () => {
    const { reply } = roundTrip(createEmqxLayout(), 'ep', { requestID: 307, cacheID: 307, msgType: 'write', data: { basePath: '/3/0/1', content: [{ type: 'Integer', value: '12345' }] } }, ok({ code: '4.00', success: false }));
    expect(json(reply)).toEqual({ requestID: 307, cacheID: 307, msgType: 'write', data: { reqPath: '/3/0/1', code: '4.00', codeMsg: 'bad_request' } });
  });

  it('refuses what EMQX cannot write', () => {
    const layout = createEmqxLayout();
    const parse = (data: unknown) => failure(layout.parseCommand('lwm2m/ep/dn', Buffer.from(JSON.stringify({ reqID: 1, msgType: 'write', data })))).error;
    expect(parse({ path: '/3/0/13', value: 1 })).toMatch(/"type" must be one of/);
    expect(parse({ path: '/3/0/13', type: 'Integer' })).toMatch(/"value" is missing/);
    expect(parse({ path: '/3/0/13', type: 'Integer', value: 'x' })).toMatch(/whole number/);
    expect(parse({ path: '/3/0', type: 'Integer', value: 1 })).toMatch(/resource path/);
    expect(parse({ basePath: '/3', content: [] })).toMatch(/object instance/);
    expect(parse({ basePath: '/3/0', content: {} })).toMatch(/"data.content" must be a list/);
  });
});

describe('values the bridge builds nodes from (src/http/node-json.ts)', () => {
  const layout = createEmqxLayout();
  const node = (data: unknown, msgType = 'write') => {
    const { command: parsed } = command(layout, 'lwm2m/ep/dn', { reqID: 1, msgType, data });
    const path = parsePath(parsed.path);
    return msgType === 'create' ? instanceFromJson(parsed.value as Record<string, unknown>, 0, path[0] as number, model) : nodeFromJson(parsed.value, path, model);
  };

  it('single writes, typed', () => {
    expect(node({ path: '/3/0/13', type: 'Time', value: '1700000000' })).toEqual({ kind: 'resource', id: 13, value: { type: 'time', value: 1700000000 } });
    expect(node({ path: '/3/0/8', type: 'Opaque', value: 'FBUWFw==' })).toEqual({ kind: 'resource', id: 8, value: { type: 'opaque', value: Buffer.from([20, 21, 22, 23]) } });
    expect(node({ path: '/3/0/22/0', type: 'Objlnk', value: '1:2' })).toEqual({ kind: 'resourceInstance', id: 0, value: { type: 'objlnk', value: { objectId: 1, instanceId: 2 } } });
    expect(node({ path: '/3/0/7', type: 'Integer', value: '-9223372036854775808' })).toEqual({ kind: 'resource', id: 7, value: { type: 'integer', value: -9223372036854775808n } });
  });

  it('batch writes and creates', () => {
    expect(node({ basePath: '/3/0/', content: [{ path: '13', type: 'Integer', value: '12345' }, { path: '14', type: 'String', value: '87x' }, { path: '6/0', type: 'Integer', value: '1' }] })).toEqual({
      kind: 'instance',
      id: 0,
      resources: [
        { kind: 'resource', id: 13, value: { type: 'integer', value: 12345 } },
        { kind: 'resource', id: 14, value: { type: 'string', value: '87x' } },
        { kind: 'multipleResource', id: 6, instances: [{ kind: 'resourceInstance', id: 0, value: { type: 'integer', value: 1 } }] },
      ],
    });
    expect(node({ basePath: '/6', content: [{ path: '2/0', type: 'Float', value: '1.5' }] }, 'create')).toEqual({
      kind: 'instance',
      id: 2,
      resources: [{ kind: 'resource', id: 0, value: { type: 'float', value: 1.5 } }],
    });
  });
});

describe('Write-Attributes, Execute, Create, Delete', () => {
  it('passes pmin, pmax, gt, lt and st, skipping null and other keys ([suite] case50_write_attribute)', () => {
    const body = { requestID: 307, cacheID: 307, msgType: 'write-attr', data: { path: '/3/0/9', pmin: '1', pmax: '5', lt: '5', st: null, ignored: '1' } };
    const { command: parsed, reply } = roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.04', success: true }));
    expect(parsed).toMatchObject({ op: 'write-attributes', path: '/3/0/9', attributes: { pmin: 1, pmax: 5, lt: 5 } });
    expect(json(reply)).toEqual({ requestID: 307, cacheID: 307, msgType: 'write-attr', data: { reqPath: '/3/0/9', code: '2.04', codeMsg: 'changed' } });
  });

  it('takes [doc] attributes as numbers too', () => {
    expect(command(createEmqxLayout(), 'lwm2m/ep/dn', { reqID: 1, msgType: 'write-attr', data: { path: '/3/0/9', pmin: 10, pmax: 60, gt: 50, st: 0.5 } }).command.attributes).toEqual({ pmin: 10, pmax: 60, gt: 50, st: 0.5 });
  });

  it('passes execute arguments, "undefined" being none ([suite] case30_execute, case31_execute_error)', () => {
    const layout = createEmqxLayout();
    expect(command(layout, 'lwm2m/ep/dn', { requestID: 307, msgType: 'execute', data: { path: '/3/0/4', args: '2,7' } }).command).toMatchObject({ op: 'execute', path: '/3/0/4', value: '2,7' });
    expect(command(layout, 'lwm2m/ep/dn', { requestID: 307, msgType: 'execute', data: { path: '/3/0/4', args: 'undefined' } }).command.value).toBe('');
    expect(command(layout, 'lwm2m/ep/dn', { requestID: 307, msgType: 'execute', data: { path: '/3/0/4' } }).command.value).toBe('');
    const { reply } = roundTrip(layout, 'ep', { requestID: 307, cacheID: 307, msgType: 'execute', data: { path: '/3/0/4', args: '2,7' } }, ok({ code: '4.01', success: false }));
    expect(json(reply)).toEqual({ requestID: 307, cacheID: 307, msgType: 'execute', data: { reqPath: '/3/0/4', code: '4.01', codeMsg: 'unauthorized' } });
  });

  it('creates an instance from basePath and content ([suite] case_create_basic)', () => {
    const body = { msgType: 'create', requestID: 307, cacheID: 307, data: { content: [], basePath: '/5' } };
    const { command: parsed, reply } = roundTrip(createEmqxLayout(), 'ep', body, ok({ code: '2.01', success: true, location: '/5/0' }));
    expect(parsed).toMatchObject({ op: 'create', path: '/5', value: { resources: [] } });
    // EMQX does not report the new instance's location.
    expect(json(reply)).toEqual({ requestID: 307, cacheID: 307, msgType: 'create', data: { reqPath: '/5', code: '2.01', codeMsg: 'created' } });
  });

  it('creates a given instance with values ([doc] Create)', () => {
    const body = { reqID: 8, msgType: 'create', data: { basePath: '/6', content: [{ path: '0/0', type: 'Float', value: '1.5' }, { path: '0/4', type: 'Opaque', value: 'AQID' }, { path: '0/21', type: 'Integer', value: '-129' }] } };
    expect(command(createEmqxLayout(), 'lwm2m/ep/dn', body).command).toMatchObject({
      op: 'create',
      path: '/6',
      value: { id: 0, resources: [{ id: 0, type: 'float', value: 1.5 }, { id: 4, type: 'opaque', value: 'AQID' }, { id: 21, type: 'integer', value: '-129' }] },
    });
    const two = { ...body, data: { ...body.data, content: [...body.data.content, { path: '1/0', type: 'Float', value: '2.5' }] } };
    expect(failure(createEmqxLayout().parseCommand('lwm2m/ep/dn', Buffer.from(JSON.stringify(two)))).error).toMatch(/one object instance/);
  });

  it('deletes an instance ([suite] case_delete_basic)', () => {
    const { command: parsed, reply } = roundTrip(createEmqxLayout(), 'ep', { requestID: 307, cacheID: 307, msgType: 'delete', data: { path: '/5/0' } }, ok({ code: '2.02', success: true }));
    expect(parsed).toMatchObject({ op: 'delete', path: '/5/0' });
    expect(json(reply)).toEqual({ requestID: 307, cacheID: 307, msgType: 'delete', data: { reqPath: '/5/0', code: '2.02', codeMsg: 'deleted' } });
  });
});

describe('Observe and Notify', () => {
  const reg = registration({ endpoint: 'urn:oma:lwm2m:oma:3' });
  const value = (v: number): Lwm2mNode => ({ kind: 'resource', id: 10, value: { type: 'integer', value: v } });

  it('parses the [doc] Observe command', () => {
    expect(command(createEmqxLayout(), 'lwm2m/ep/dn', { reqID: 10, msgType: 'observe', data: { path: '/31024/0/1' } }).command).toMatchObject({ id: '10', op: 'observe', path: '/31024/0/1' });
  });

  it('answers, notifies and cancels as [suite] case60_observe', () => {
    const layout = createEmqxLayout();
    const ep = reg.endpoint;
    const observe = command(layout, `lwm2m/${ep}/dn/dm`, { requestID: 307, cacheID: 307, msgType: 'observe', data: { path: '/3/0/10' } });
    // The hub reports the observe response as a first notification before the reply: EMQX publishes it once, as the reply.
    expect(layout.values(reg, 'notify', [3, 0, 10], value(2048), T0, model, 'tok')).toEqual([]);
    const reply = layout.reply(ep, observe.command, observe.command.id, ok({ code: '2.05', success: true, contentFormat: 0, node: value(2048), observationId: 'tok' }), model);
    expect(reply.topic).toBe(`lwm2m/${ep}/up/resp`);
    expect(json(reply)).toEqual({ requestID: 307, cacheID: 307, msgType: 'observe', data: { reqPath: '/3/0/10', code: '2.05', codeMsg: 'content', content: [{ path: '/3/0/10', value: 2048 }] } });

    const [notify, ...more] = layout.values(reg, 'notify', [3, 0, 10], value(4096), T0 + 1000, model, 'tok', 3);
    expect(more).toEqual([]);
    expect(notify?.topic).toBe(`lwm2m/${ep}/up/notify`);
    expect(json(notify)).toEqual({ requestID: 307, cacheID: 307, msgType: 'notify', seqNum: 3, data: { reqPath: '/3/0/10', code: '2.05', codeMsg: 'content', content: [{ path: '/3/0/10', value: 4096 }] } });

    const cancel = command(layout, `lwm2m/${ep}/dn/dm`, { requestID: 308, cacheID: 308, msgType: 'cancel-observe', data: { path: '/3/0/10' } });
    expect(cancel.command.op).toBe('cancel');
    expect(json(layout.reply(ep, cancel.command, cancel.command.id, ok({ code: '2.05', success: true, node: value(1150) }), model))).toEqual({
      requestID: 308,
      cacheID: 308,
      msgType: 'cancel-observe',
      data: { reqPath: '/3/0/10', code: '2.05', codeMsg: 'content', content: [{ path: '/3/0/10', value: 1150 }] },
    });
    // After the cancel, the request is no longer echoed.
    expect(json(layout.values(reg, 'notify', [3, 0, 10], value(1), T0, model, 'other')[0])).not.toHaveProperty('requestID');
  });

  it('shapes the [doc] Notify message, counting seqNum when the hub gives no Observe number', () => {
    const layout = createEmqxLayout();
    const observe = command(layout, 'lwm2m/ep/dn', { reqID: 10, msgType: 'observe', data: { path: '/31024/11' } });
    const instance = (v: string): Lwm2mNode => ({ kind: 'instance', id: 11, resources: [{ kind: 'resource', id: 1, value: { type: 'string', value: v } }] });
    layout.values(registration({ endpoint: 'ep' }), 'notify', [31024, 11], instance('26.7'), T0, model, 'o');
    layout.reply('ep', observe.command, observe.command.id, ok({ code: '2.05', success: true, node: instance('26.7'), observationId: 'o' }), model);
    const first = layout.values(registration({ endpoint: 'ep' }), 'notify', [31024, 11], instance('26.8'), T0, model, 'o');
    const second = layout.values(registration({ endpoint: 'ep' }), 'notify', [31024, 11], instance('26.9'), T0, model, 'o');
    expect(json(first[0])).toEqual({ reqID: 10, msgType: 'notify', seqNum: 1, data: { code: '2.05', codeMsg: 'content', reqPath: '/31024/11', content: [{ path: '/31024/11/1', value: '26.8' }] } });
    expect((json(second[0]) as { seqNum: number }).seqNum).toBe(2);
  });

  it('answers an observe error and forgets the request ([suite] case61_observe_error)', () => {
    const layout = createEmqxLayout();
    const observe = command(layout, 'lwm2m/ep/dn/dm', { requestID: 309, cacheID: 309, msgType: 'observe', data: { path: '/3/0/10' } });
    expect(json(layout.reply('ep', observe.command, observe.command.id, ok({ code: '4.01', success: false }), model))).toEqual({
      requestID: 309,
      cacheID: 309,
      msgType: 'observe',
      data: { reqPath: '/3/0/10', code: '4.01', codeMsg: 'unauthorized' },
    });
    const [notify] = layout.values(registration({ endpoint: 'ep' }), 'notify', [3, 0, 10], value(1), T0, model, 'x');
    expect(json(notify)).toEqual({ msgType: 'notify', seqNum: 1, data: { reqPath: '/3/0/10', code: '2.05', codeMsg: 'content', content: [{ path: '/3/0/10', value: 1 }] } });
  });

  it('sends firmware update notifications to {mountpoint}/v1/up/dm ([suite] case63_observe_notify_object5)', () => {
    const layout = createEmqxLayout({ mountpoint: 'lwm2m/${username}', translators: { command: '/dn/#', response: '/up/resp', notify: '/up/notify' } });
    const ep = 'urn:oma:lwm2m:oma:63';
    const observe = command(layout, `lwm2m/${ep}/dn/dm`, { requestID: 611, cacheID: 611, msgType: 'observe', data: { path: '/5/0/0' } });
    const state = (v: number): Lwm2mNode => ({ kind: 'resource', id: 0, value: { type: 'integer', value: v } });
    layout.values(registration({ endpoint: ep }), 'notify', [5, 0, 0], state(1), T0, model, 'fw');
    expect(layout.reply(ep, observe.command, observe.command.id, ok({ code: '2.05', success: true, node: state(1), observationId: 'fw' }), model).topic).toBe(`lwm2m/${ep}/up/resp`);
    const [notify] = layout.values(registration({ endpoint: ep }), 'notify', [5, 0, 0], state(2), T0, model, 'fw', 1);
    expect(notify?.topic).toBe(`lwm2m/${ep}/v1/up/dm`);
    expect(json(notify)).toMatchObject({ msgType: 'notify', requestID: 611 });
  });

  it('forgets observe requests when the client registers again', () => {
    const layout = createEmqxLayout();
    const observe = command(layout, 'lwm2m/ep/dn', { reqID: 1, msgType: 'observe', data: { path: '/3/0/10' } });
    layout.reply('ep', observe.command, observe.command.id, ok({ code: '2.05', success: true, node: value(1), observationId: 'a' }), model);
    layout.registrationEvent('registered', registration({ endpoint: 'ep' }), T0);
    expect(json(layout.values(registration({ endpoint: 'ep' }), 'notify', [3, 0, 10], value(2), T0, model, 'b')[0])).not.toHaveProperty('reqID');
  });
});

describe('Send (LwM2M 1.1, no EMQX equivalent)', () => {
  it('publishes one notify-like message per value on up/notify', () => {
    const messages = createEmqxLayout().sent(
      registration({ endpoint: 'ep' }),
      [
        { path: [3303, 0, 5700], value: { type: 'float', value: 21.5 }, time: 1714564800 },
        { path: [3303, 0, 5701], value: { type: 'string', value: 'Cel' } },
        { path: [3303, 0], value: { type: 'none', value: null } },
      ],
      T0,
      model,
    );
    expect(messages.map((m) => m.topic)).toEqual(['lwm2m/ep/up/notify', 'lwm2m/ep/up/notify']);
    expect(messages.map(json)).toEqual([
      { msgType: 'notify', data: { reqPath: '/3303/0/5700', code: '2.05', codeMsg: 'content', content: [{ path: '/3303/0/5700', value: 21.5, time: 1714564800 }] } },
      { msgType: 'notify', data: { reqPath: '/3303/0/5701', code: '2.05', codeMsg: 'content', content: [{ path: '/3303/0/5701', value: 'Cel' }] } },
    ]);
  });
});

describe('commands EMQX cannot take', () => {
  const layout = createEmqxLayout();
  const parse = (payload: string) => layout.parseCommand('lwm2m/ep/dn', Buffer.from(payload));

  it('refuses bad JSON with a clear error and answers it with bad_request (EMQX drops it)', () => {
    const parsed = failure(parse('{bad json'));
    expect(parsed).toMatchObject({ endpoint: 'ep', id: undefined });
    expect(parsed.error).toMatch(/not JSON/);
    const reply = layout.reply('ep', undefined, undefined, { ok: false, error: parsed.error, code: 'bad_request' }, model);
    expect(reply.topic).toBe('lwm2m/ep/up/resp');
    expect(json(reply)).toEqual({ data: { code: '4.00', codeMsg: 'bad_request' }, error: parsed.error });
    expect(failure(parse('[1, 2]')).error).toMatch(/JSON object/);
  });

  it('refuses an unknown msgType, answering like EMQX ([suite] case146_deliver_unsupported_msg_type)', () => {
    const body = { reqID: 10086, msgType: 'notify', seqNum: 99, data: { code: '2.01', codeMsg: 'content', reqPath: '/31024/11', content: [{ path: '/31024/11/1', value: '26.8' }] } };
    const parsed = failure(parse(JSON.stringify(body)));
    expect(parsed).toMatchObject({ endpoint: 'ep', id: '10086' });
    expect(parsed.error).toMatch(/unknown msgType "notify"/);
    expect(json(layout.reply('ep', undefined, parsed.id, { ok: false, error: parsed.error, code: 'bad_request' }, model))).toEqual({
      reqID: 10086,
      msgType: 'notify',
      seqNum: 99,
      data: { reqPath: '/31024/11', code: '4.00', codeMsg: 'bad_request' },
    });
  });

  it('refuses a command without a path', () => {
    expect(failure(parse(JSON.stringify({ reqID: 1, msgType: 'read', data: {} }))).error).toMatch(/"data.path" must be an LwM2M path/);
    expect(failure(parse(JSON.stringify({ reqID: 1, msgType: 'read', data: { path: '/3/x' } }))).error).toMatch(/not an LwM2M path/);
    expect(failure(parse(JSON.stringify({ reqID: 1, msgType: 'read' }))).error).toMatch(/"data" must be a JSON object/);
    expect(failure(parse(JSON.stringify({ reqID: 1, msgType: 'create', data: { content: [] } }))).error).toMatch(/"data.basePath"/);
  });

  it('answers a value the hub cannot encode with bad_request, and a hub failure with internal_server_error', () => {
    const parsed = command(layout, 'lwm2m/ep/dn', { reqID: 7, msgType: 'write', data: { path: '/3/0/13', type: 'String', value: 'x' } });
    expect(json(layout.reply('ep', parsed.command, parsed.command.id, { ok: false, error: new Error('bad value'), code: 'bad_request' }, model))).toEqual({
      reqID: 7,
      msgType: 'write',
      data: { reqPath: '/3/0/13', code: '4.00', codeMsg: 'bad_request' },
    });
    expect((json(layout.reply('ep', parsed.command, parsed.command.id, { ok: false, error: new Error('boom'), code: 'internal' }, model)) as { data: unknown }).data).toEqual({
      reqPath: '/3/0/13',
      code: '5.00',
      codeMsg: 'internal_server_error',
    });
  });
});

describe('encodeEmqxJson', () => {
  it('sorts keys, drops undefined, writes bigints as numbers', () => {
    expect(encodeEmqxJson({ b: 1, a: [{ d: undefined, c: 2n ** 64n }], e: 'x' })).toBe('{"a":[{"c":18446744073709551616}],"b":1,"e":"x"}');
  });
});
