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
    expect(await response.json()).toMatchObject({ status: 'ok' });
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
      expect(await response.json()).toMatchObject({ error: 'not_found' });
    }
  });
});
