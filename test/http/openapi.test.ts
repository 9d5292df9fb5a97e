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

  it('documents every route the server has', async () => {
    const doc = (await (await fetch(httpUrl(hub, '/api/openapi.json'))).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([template, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${template}`));
    // Fastify writes `:name` where OpenAPI writes `{name}`; its `*` route serves every documented path below it.
    const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    const toPattern = (route: string) =>
      new RegExp(
        '^' +
          route
            .split(/(:\w+|\*)/)
            .map((part) => (part === '*' ? '.+' : part.startsWith(':') ? escape(`{${part.slice(1)}}`) : escape(part)))
            .join('') +
          '$',
      );
    expect(hub.httpRoutes.length).toBeGreaterThan(5);
    for (const route of hub.httpRoutes) {
      const pattern = toPattern(route);
      expect(documented.some((operation) => pattern.test(operation)), route).toBe(true);
    }
  });
});
