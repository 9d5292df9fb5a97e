/**
 * The registration policy on its own (every combination of transport, entry and
 * `--allow-unsecured`), then through the LwM2M dispatcher with requests shaped as
 * the DTLS transport hands them over (`security.pskIdentity`, a `secure` peer).
 */
import { describe, expect, it } from 'vitest';
import { formatCode, Method } from '../../src/coap/codes.js';
import type { IncomingRequest } from '../../src/coap/endpoint.js';
import { getStringOptions, OptionNumber } from '../../src/coap/options.js';
import type { Peer } from '../../src/coap/peer.js';
import { EventBus } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import { loadConfig } from '../../src/config.js';
import { createLwm2mDispatcher } from '../../src/lwm2m/dispatcher.js';
import { RegistrationHandler } from '../../src/lwm2m/registration/registration-handler.js';
import { decide, RegistrationPolicy } from '../../src/lwm2m/security/registration-policy.js';
import { SendHandler } from '../../src/lwm2m/send/send-handler.js';
import { createDefaultRegistry } from '../../src/model/object-registry.js';
import { MemoryRegistrationStore } from '../../src/store/memory-store.js';
import { MemorySecurityStore } from '../../src/store/security-store.js';

const entry = { identity: 'node1-id' };
const own = { pskIdentity: 'node1-id' };
const other = { pskIdentity: 'node2-id' };

describe('registration policy', () => {
  const cases: [string, { identity: string } | undefined, { pskIdentity: string } | undefined, boolean, boolean][] = [
    ['DTLS with the identity bound to the endpoint', entry, own, true, true],
    ['DTLS with the identity bound to the endpoint, unsecured refused', entry, own, false, true],
    ['DTLS with another identity', entry, other, true, false],
    ['DTLS for an endpoint without an entry', undefined, own, true, false],
    ['plain CoAP for an endpoint with an entry', entry, undefined, true, false],
    ['plain CoAP without an entry, unsecured allowed', undefined, undefined, true, true],
    ['plain CoAP without an entry, unsecured refused', undefined, undefined, false, false],
  ];
  for (const [name, stored, security, allowUnsecured, allowed] of cases) {
    it(`${allowed ? 'allows' : 'refuses'} ${name}`, () => {
      expect(decide(stored, security, allowUnsecured).allowed).toBe(allowed);
    });
  }

  it('compares identities exactly (case, spaces and Unicode count)', () => {
    expect(decide({ identity: 'Node1' }, { pskIdentity: 'node1' }, true).allowed).toBe(false);
    expect(decide({ identity: 'node1 ' }, { pskIdentity: 'node1' }, true).allowed).toBe(false);
    expect(decide({ identity: 'é' }, { pskIdentity: 'e\u0301' }, true).allowed).toBe(false);
  });

  it('tells a plain-UDP client what to do without telling whether the endpoint has credentials', () => {
    const withEntry = decide(entry, undefined, false);
    const without = decide(undefined, undefined, false);
    expect(withEntry).toEqual(without);
    expect(withEntry).toMatchObject({ allowed: false, reason: expect.stringMatching(/DTLS/) });
  });

  it('refuses an update over another transport than the registration used', async () => {
    const store = new MemorySecurityStore();
    await store.put('node1', { identity: 'node1-id', key: Buffer.alloc(16) });
    const policy = new RegistrationPolicy({ securityStore: store, allowUnsecured: true });
    expect((await policy.checkExisting({ endpoint: 'node1', secure: true }, own)).allowed).toBe(true);
    expect((await policy.checkExisting({ endpoint: 'node1', secure: true }, undefined)).allowed).toBe(false);
    expect((await policy.checkExisting({ endpoint: 'node1', secure: true }, other)).allowed).toBe(false);
    // Its entry deleted meanwhile: still not over plain UDP, and not over DTLS either.
    await store.delete('node1');
    expect((await policy.checkExisting({ endpoint: 'node1', secure: true }, undefined)).allowed).toBe(false);
    expect((await policy.checkExisting({ endpoint: 'node1', secure: true }, own)).allowed).toBe(false);
    // A plain registration updated over DTLS must register again over DTLS.
    expect((await policy.checkExisting({ endpoint: 'node3' }, own)).allowed).toBe(false);
    expect((await policy.checkExisting({ endpoint: 'node3' }, undefined)).allowed).toBe(true);
  });
});

describe('registration interface with a security context', () => {
  let objects: ReturnType<typeof createDefaultRegistry> | undefined;
  async function setup(allowUnsecured: boolean) {
    const logger = silentLogger();
    const events = new EventBus(logger);
    const store = new MemoryRegistrationStore();
    const securityStore = new MemorySecurityStore();
    await securityStore.put('node1', { identity: 'node1-id', key: Buffer.alloc(16, 1) });
    await securityStore.put('node2', { identity: 'node2-id', key: Buffer.alloc(16, 2) });
    const policy = new RegistrationPolicy({ securityStore, allowUnsecured });
    const registrations = new RegistrationHandler({ store, events, logger, expiryGraceMs: 0, policy });
    const model = await (objects ??= createDefaultRegistry([], () => undefined));
    const dispatch = createLwm2mDispatcher(registrations, new SendHandler({ store, events, model, logger }), logger);
    let messageId = 0;
    const send = async (
      method: number,
      uriPath: string[],
      uriQuery: string[],
      from: { peer: Peer; security?: { pskIdentity: string } },
    ) => {
      const request: IncomingRequest = {
        peer: from.peer,
        method,
        confirmable: true,
        messageId: ++messageId,
        token: Buffer.from([messageId]),
        options: [],
        payload: Buffer.from(method === Method.POST && uriPath.length === 1 ? '</1/0>,</3/0>' : ''),
        uriPath,
        uriQuery,
        contentFormat: undefined,
        ...(from.security ? { security: from.security } : {}),
      };
      const response = await dispatch(request);
      return {
        code: formatCode(response.code),
        diagnostic: response.payload === undefined ? '' : String(response.payload),
        location: getStringOptions(response.options ?? [], OptionNumber.LOCATION_PATH),
      };
    };
    return { store, registrations, send };
  }

  const dtls = (pskIdentity: string, port = 40001) => ({
    peer: { address: '2001:db8::1', port, secure: true as const },
    security: { pskIdentity },
  });
  const plain = (port = 40001) => ({ peer: { address: '2001:db8::1', port } });

  it('registers over DTLS with the bound identity, and keeps the registration on DTLS', async () => {
    const { send, store } = await setup(false);
    const registered = await send(Method.POST, ['rd'], ['ep=node1', 'lt=60'], dtls('node1-id'));
    expect(registered.code).toBe('2.01');
    expect(await store.getByEndpoint('node1')).toMatchObject({ secure: true, address: '2001:db8::1', port: 40001 });
    const id = registered.location[1]!;
    expect((await send(Method.POST, ['rd', id], ['lt=120'], dtls('node1-id', 40002))).code).toBe('2.04');
    expect((await send(Method.DELETE, ['rd', id], [], dtls('node1-id', 40002))).code).toBe('2.02');
  });

  it('refuses with 4.03 a DTLS client whose identity is bound to another endpoint', async () => {
    const { send, store } = await setup(true);
    const refused = await send(Method.POST, ['rd'], ['ep=node1'], dtls('node2-id'));
    expect(refused).toMatchObject({ code: '4.03', diagnostic: 'PSK identity not bound to this endpoint name' });
    expect(await store.count()).toBe(0);
  });

  it('refuses with 4.03 a plain-UDP update or de-register of a DTLS registration, and one from another identity', async () => {
    const { send, store } = await setup(true);
    const id = (await send(Method.POST, ['rd'], ['ep=node1', 'lt=60'], dtls('node1-id'))).location[1]!;
    expect((await send(Method.POST, ['rd', id], ['lt=5'], plain(50000))).code).toBe('4.03');
    expect((await send(Method.DELETE, ['rd', id], [], plain(50000))).code).toBe('4.03');
    expect((await send(Method.POST, ['rd', id], ['lt=5'], dtls('node2-id', 50001))).code).toBe('4.03');
    expect((await send(Method.DELETE, ['rd', id], [], dtls('node2-id', 50001))).code).toBe('4.03');
    // Nothing moved: requests still go to the client's own session.
    expect(await store.getById(id)).toMatchObject({ lifetime: 60, port: 40001, secure: true });
  });

  it('answers 4.04 for an unknown registration whatever the transport', async () => {
    const { send } = await setup(false);
    expect((await send(Method.POST, ['rd', 'nosuchid'], [], plain())).code).toBe('4.04');
    expect((await send(Method.DELETE, ['rd', 'nosuchid'], [], dtls('node1-id'))).code).toBe('4.04');
  });

  it('registers an endpoint without an entry over plain CoAP only when unsecured is allowed', async () => {
    const allowed = await setup(true);
    expect((await allowed.send(Method.POST, ['rd'], ['ep=node9'], plain())).code).toBe('2.01');
    const refused = await setup(false);
    expect((await refused.send(Method.POST, ['rd'], ['ep=node9'], plain())).code).toBe('4.03');
    expect(await refused.store.count()).toBe(0);
  });

  it('refuses an endpoint with an entry over plain CoAP even when unsecured is allowed', async () => {
    const { send, store } = await setup(true);
    expect((await send(Method.POST, ['rd'], ['ep=node1'], plain())).code).toBe('4.03');
    expect(await store.count()).toBe(0);
  });

  it('lets everyone register when the handler has no policy (embedding without security)', async () => {
    const logger = silentLogger();
    const registrations = new RegistrationHandler({
      store: new MemoryRegistrationStore(),
      events: new EventBus(logger),
      logger,
      expiryGraceMs: 0,
    });
    const registered = await registrations.register(
      { address: '::1', port: 1 },
      { endpoint: 'x', lifetime: 60, lwm2mVersion: '1.1', binding: 'U', queueMode: false, additionalAttributes: {} },
      { rootPath: '/', objectLinks: [], supportedContentFormats: [] },
    );
    expect(registered).toMatchObject({ endpoint: 'x' });
  });
});

describe('security options', () => {
  const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const request = loadConfig(argv, env);
    if (request.kind !== 'run') throw new Error(`expected a run request, got ${request.kind}`);
    return request.config;
  };

  it('listens for DTLS on 5684 by default, on a free port with 0, not at all with off', () => {
    expect(config([]).coapsPort).toBe(5684);
    expect(config(['--coaps-port', '0']).coapsPort).toBe(0);
    expect(config(['--coaps-port', 'off']).coapsPort).toBeUndefined();
    expect(config([], { LWM2M_HUB_COAPS_PORT: 'off' }).coapsPort).toBeUndefined();
    expect(() => config(['--coaps-port', 'none'])).toThrow(
      'invalid --coaps-port: must be a port number from 0 to 65535, or off (got "none")',
    );
    expect(() => config(['--coaps-port', '65536'])).toThrow(/invalid --coaps-port: must be a port number/);
  });

  it('allows unsecured registrations unless told otherwise', () => {
    expect(config([]).allowUnsecured).toBe(true);
    expect(config(['--allow-unsecured=false']).allowUnsecured).toBe(false);
    expect(config(['--allow-unsecured', 'no']).allowUnsecured).toBe(false);
    expect(config([], { LWM2M_HUB_ALLOW_UNSECURED: '0' }).allowUnsecured).toBe(false);
    expect(() => config(['--allow-unsecured', 'maybe'])).toThrow('invalid --allow-unsecured: must be true or false (got "maybe")');
  });

  it('takes a security file path', () => {
    expect(config([]).securityFile).toBeUndefined();
    expect(config([], { LWM2M_HUB_SECURITY_FILE: '/etc/lwm2m-hub/psk.json' }).securityFile).toBe('/etc/lwm2m-hub/psk.json');
  });
});
