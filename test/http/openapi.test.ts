/** The OpenAPI document and the real routes agree: every documented operation is routed, every route documented. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { httpUrl, startTestHub } from '../support/hub.js';

let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.stop());

const SAMPLE: Record<string, string> = { endpoint: 'nobody', path: '3/0/1', object: '3', id: '3' };

describe('OpenAPI document', () => {
  it('routes every documented operation (no "no_route" answer)', async () => {
    const doc = (await (await fetch(httpUrl(hub, '/api/openapi.json'))).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const operations = Object.entries(doc.paths).flatMap(([template, methods]) => Object.keys(methods).map((method) => [method.toUpperCase(), template] as const));
    expect(operations.length).toBeGreaterThan(15);
    for (const [method, template] of operations) {
      if (template === '/api/events') continue; // a stream that never ends; covered by the SSE tests
      const url = template.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE[name] ?? 'x');
      const init: RequestInit = { method };
      if (['PUT', 'PATCH', 'POST'].includes(method)) {
        init.headers = { 'content-type': 'application/json' };
        init.body = '{}';
      }
      const response = await fetch(httpUrl(hub, url), init);
      const body = (await response.json()) as { code?: string };
      expect(body.code, `${method} ${template}`).not.toBe('no_route');
    }
  });

  it('documents the routes the server has', async () => {
    const doc = (await (await fetch(httpUrl(hub, '/api/openapi.json'))).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([template, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${template}`)));
    // Wildcard routes carry several documented operations; each method of each must be documented at least once.
    for (const route of ['GET /api/clients', 'GET /api/clients/{endpoint}', 'GET /api/clients/{endpoint}/{path}', 'PUT /api/clients/{endpoint}/{path}', 'PATCH /api/clients/{endpoint}/{path}', 'POST /api/clients/{endpoint}/{path}', 'DELETE /api/clients/{endpoint}/{path}', 'GET /api/objects', 'GET /api/objects/{id}', 'GET /api/events', 'GET /healthz']) {
      expect(documented.has(route), route).toBe(true);
    }
  });
});
