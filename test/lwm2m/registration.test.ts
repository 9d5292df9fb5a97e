import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatCode, Method } from '../../src/coap/codes.js';
import type { HubEventMap } from '../../src/events.js';
import type { Hub } from '../../src/hub.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { TestClient } from '../support/coap-client.js';
import { httpUrl, startTestHub } from '../support/hub.js';

let hub: Hub;
const clients: TestClient[] = [];

beforeAll(async () => {
  hub = await startTestHub({ expiryGrace: 0.2 });
});
afterAll(() => hub.stop());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function client(family: 4 | 6): Promise<TestClient> {
  const c = await TestClient.connect(hub.coap.port, family);
  clients.push(c);
  return c;
}

async function getClient(endpoint: string): Promise<{ status: number; body: RegistrationJson }> {
  const response = await fetch(httpUrl(hub, `/api/clients/${encodeURIComponent(endpoint)}`));
  return { status: response.status, body: (await response.json()) as RegistrationJson };
}

function code(response: { code: number }): string {
  return formatCode(response.code);
}

describe('registration interface', () => {
  for (const family of [4, 6] as const) {
    it(`registers, updates and deregisters over IPv${family} on the shared port`, async () => {
      const c = await client(family);
      const endpoint = `ipv${family}-node`;
      const { response, location } = await c.register([`ep=${endpoint}`, 'lt=60', 'lwm2m=1.1', 'b=U'], '</1/0>,</3/0>;ver=1.1,</3303>');
      expect(code(response)).toBe('2.01');
      expect(location).toMatch(/^rd\/[A-Za-z0-9_-]{4,12}$/);

      const listed = await getClient(endpoint);
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({
        endpoint,
        registrationId: location.split('/')[1],
        lifetime: 60,
        lwm2mVersion: '1.1',
        binding: 'U',
        queueMode: false,
        address: family === 4 ? '127.0.0.1' : '::1',
        port: c.port,
        rootPath: '/',
        objectLinks: [
          { path: '/1/0', attributes: {} },
          { path: '/3/0', attributes: { ver: '1.1' } },
          { path: '/3303', attributes: {} },
        ],
      });
      expect(Date.parse(listed.body.registeredAt)).not.toBeNaN();

      const update = await c.request(Method.POST, location, ['lt=120']);
      expect(code(update)).toBe('2.04');
      expect((await getClient(endpoint)).body.lifetime).toBe(120);

      const keepAlive = await c.request(Method.POST, location);
      expect(code(keepAlive)).toBe('2.04');

      const deleted = await c.request(Method.DELETE, location);
      expect(code(deleted)).toBe('2.02');
      expect((await getClient(endpoint)).status).toBe(404);
      expect(code(await c.request(Method.POST, location))).toBe('4.04');
    });
  }

  it('applies the defaults to a client that sends nothing but ep and links without a leading slash', async () => {
    const c = await client(6);
    const { response } = await c.register(['ep=contiki-node'], '<3/0>,<3303/0>,<3303/1>');
    expect(code(response)).toBe('2.01');
    const { body } = await getClient('contiki-node');
    expect(body).toMatchObject({ lifetime: 86400, lwm2mVersion: '1.0', binding: 'U', queueMode: false });
    expect(body.objectLinks.map((l) => l.path)).toEqual(['/3/0', '/3303/0', '/3303/1']);
  });

  it('records queue mode from a 1.0 UQ binding and from the 1.1 Q flag', async () => {
    const c = await client(4);
    await c.register(['ep=q10', 'b=UQ']);
    await c.register(['ep=q11', 'lwm2m=1.1', 'Q']);
    expect((await getClient('q10')).body).toMatchObject({ binding: 'U', queueMode: true });
    expect((await getClient('q11')).body).toMatchObject({ binding: 'U', queueMode: true, lwm2mVersion: '1.1' });
  });

  it('keeps an alternate root path and the content formats of the root link', async () => {
    const c = await client(6);
    await c.register(['ep=rooted', 'lwm2m=1.1'], '</lwm2m>;rt="oma.lwm2m";ct="60 110 112 11542",</lwm2m/1/0>,</lwm2m/3/0>');
    const { body } = await getClient('rooted');
    expect(body.rootPath).toBe('/lwm2m');
    expect(body.supportedContentFormats).toEqual([60, 110, 112, 11542]);
    expect(body.objectLinks.map((l) => l.path)).toEqual(['/1/0', '/3/0']);
  });

  it('replaces the registration of an endpoint that registers again', async () => {
    const events: HubEventMap['registered'][] = [];
    const off = hub.events.on('registered', (e) => events.push(e));
    const c = await client(6);
    const first = await c.register(['ep=twice', 'lt=300']);
    const second = await c.register(['ep=twice', 'lt=300']);
    off();
    expect(second.location).not.toBe(first.location);
    expect((await getClient('twice')).body.registrationId).toBe(second.location.split('/')[1]);
    expect(code(await c.request(Method.POST, first.location))).toBe('4.04');
    expect(code(await c.request(Method.POST, second.location))).toBe('2.04');
    expect(events[1]?.replaced?.id).toBe(first.location.split('/')[1]);
  });

  it('follows the client to its new address and port on update', async () => {
    const a = await client(4);
    const { location } = await a.register(['ep=mover']);
    const b = await client(6);
    expect(code(await b.request(Method.POST, location))).toBe('2.04');
    expect((await getClient('mover')).body).toMatchObject({ address: '::1', port: b.port });
  });

  it('updates the object list when an update carries one', async () => {
    const c = await client(6);
    const { location } = await c.register(['ep=growing'], '</3/0>');
    await c.request(Method.POST, location, [], '</3/0>,</3303/0>');
    expect((await getClient('growing')).body.objectLinks.map((l) => l.path)).toEqual(['/3/0', '/3303/0']);
  });

  it('expires a registration whose lifetime passes without update', async () => {
    const c = await client(6);
    const expired = new Promise<HubEventMap['expired']>((resolve) => {
      const off = hub.events.on('expired', (e) => {
        if (e.registration.endpoint === 'short-lived') {
          off();
          resolve(e);
        }
      });
    });
    await c.register(['ep=short-lived', 'lt=1']);
    expect((await getClient('short-lived')).status).toBe(200);
    const event = await expired;
    expect(event.registration.lifetime).toBe(1);
    expect((await getClient('short-lived')).status).toBe(404);
  }, 3000);

  it('keeps a registration alive while updates arrive within its lifetime', async () => {
    const c = await client(4);
    const { location } = await c.register(['ep=kept-alive', 'lt=1']);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(code(await c.request(Method.POST, location))).toBe('2.04');
    }
    expect((await getClient('kept-alive')).status).toBe(200);
    await c.request(Method.DELETE, location);
  });
});

describe('registration errors', () => {
  const cases: [string, () => Promise<{ code: number; payload: Buffer }>, string][] = [
    ['missing ep', async () => (await client(6)).request(Method.POST, 'rd', ['lt=60'], '</3/0>'), '4.00'],
    ['empty ep', async () => (await client(6)).request(Method.POST, 'rd', ['ep='], '</3/0>'), '4.00'],
    ['non-numeric lt', async () => (await client(6)).request(Method.POST, 'rd', ['ep=x', 'lt=soon'], '</3/0>'), '4.00'],
    ['zero lt', async () => (await client(6)).request(Method.POST, 'rd', ['ep=x', 'lt=0'], '</3/0>'), '4.00'],
    ['unknown binding', async () => (await client(6)).request(Method.POST, 'rd', ['ep=x', 'b=Z'], '</3/0>'), '4.00'],
    ['unsupported version', async () => (await client(6)).request(Method.POST, 'rd', ['ep=x', 'lwm2m=2.0'], '</3/0>'), '4.00'],
    ['body that is not link-format', async () => (await client(6)).request(Method.POST, 'rd', ['ep=x'], 'hello world'), '4.00'],
    ['body that is not UTF-8', async () => (await client(6)).request(Method.POST, 'rd', ['ep=x'], Buffer.from([0x3c, 0xff, 0xfe, 0x3e])), '4.00'],
    ['bad lt on update', async () => (await client(6)).request(Method.POST, 'rd/whatever', ['lt=-1']), '4.00'],
    ['update of an unknown id', async () => (await client(6)).request(Method.POST, 'rd/nosuchid'), '4.04'],
    ['deregistration of an unknown id', async () => (await client(6)).request(Method.DELETE, 'rd/nosuchid'), '4.04'],
    ['GET on /rd', async () => (await client(6)).request(Method.GET, 'rd'), '4.05'],
    ['PUT on /rd', async () => (await client(6)).request(Method.PUT, 'rd', ['ep=x']), '4.05'],
    ['PUT on /rd/{id}', async () => (await client(6)).request(Method.PUT, 'rd/abc'), '4.05'],
    ['another path', async () => (await client(6)).request(Method.POST, 'bs', ['ep=x']), '4.04'],
    ['a path below a registration', async () => (await client(6)).request(Method.POST, 'rd/abc/def'), '4.04'],
  ];
  for (const [name, send, expected] of cases) {
    it(`answers ${expected} with a diagnostic to ${name}`, async () => {
      const response = await send();
      expect(formatCode(response.code)).toBe(expected);
      expect(response.payload.toString('utf8').length).toBeGreaterThan(0);
    });
  }

  it('registers nothing when a request is refused', async () => {
    expect((await getClient('x')).status).toBe(404);
  });
});
