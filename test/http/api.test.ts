import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { TestClient } from '../support/coap-client.js';
import { httpUrl, startTestHub } from '../support/hub.js';

let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.stop());

describe('REST API', () => {
  it('reports health', async () => {
    const response = await fetch(httpUrl(hub, '/healthz'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', mqtt: { connected: true, dropped: 0, brokerDropped: 0 } });
  });

  it('lists registered clients with every documented field', async () => {
    const client = await TestClient.connect(hub.coap.port, 6);
    await client.register(['ep=rest-node', 'lt=300', 'lwm2m=1.1', 'b=U', 'sms=+123'], '</3/0>;ver=1.1');
    const clients = (await (await fetch(httpUrl(hub, '/api/clients'))).json()) as Record<string, unknown>[];
    const node = clients.find((c) => c['endpoint'] === 'rest-node');
    expect(Object.keys(node ?? {}).sort()).toEqual(
      [
        'additionalAttributes',
        'address',
        'binding',
        'endpoint',
        'expiresAt',
        'lastUpdate',
        'lifetime',
        'lwm2mVersion',
        'objectLinks',
        'port',
        'queueMode',
        'registeredAt',
        'registrationId',
        'rootPath',
        'smsNumber',
        'supportedContentFormats',
      ].sort(),
    );
    expect(node?.['registeredAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await client.close();
  });

  it('answers 404 with a JSON error for an unknown endpoint and an unknown route', async () => {
    for (const path of ['/api/clients/nobody', '/api/nothing-here']) {
      const response = await fetch(httpUrl(hub, path));
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await response.json()) as { error: string; code: string };
      expect(body.code).toBe(path.startsWith('/api/clients') ? 'not_registered' : 'no_route');
      expect(body.error.length).toBeGreaterThan(0);
    }
  });
});

describe('object model over REST', () => {
  it('lists the shipped objects with their resources', async () => {
    const objects = (await (await fetch(httpUrl(hub, '/api/objects'))).json()) as { id: number; name: string }[];
    expect(objects.map((o) => o.id)).toEqual(expect.arrayContaining([0, 1, 2, 3, 4, 5, 6, 7, 3303, 3304, 3311, 3315, 3323, 3342, 3347]));
  });

  it('shows one object with typed resources, and 404 for an unknown one', async () => {
    const device = (await (await fetch(httpUrl(hub, '/api/objects/3'))).json()) as {
      name: string;
      resources: { id: number; name: string; type: string; operations: string; multiple: boolean }[];
    };
    expect(device.name).toBe('Device');
    expect(device.resources.find((r) => r.id === 0)).toMatchObject({ name: 'Manufacturer', type: 'string', operations: 'R', multiple: false });
    expect(device.resources.find((r) => r.id === 4)).toMatchObject({ name: 'Reboot', type: 'none', operations: 'E' });
    const temperature = (await (await fetch(httpUrl(hub, '/api/objects/3303'))).json()) as { resources: { id: number; units?: string; type: string }[] };
    expect(temperature.resources.find((r) => r.id === 5700)).toMatchObject({ type: 'float' });
    for (const path of ['/api/objects/9999', '/api/objects/abc']) expect((await fetch(httpUrl(hub, path))).status).toBe(404);
  });
});
