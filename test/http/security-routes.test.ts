/** `/api/security`: PSK entries over REST, on a real hub; keys go in and never come back out. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { httpUrl, startTestHub } from '../support/hub.js';

let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.stop());

const KEY = '000102030405060708090a0b0c0d0e0f';

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: unknown }> {
  const response = await fetch(httpUrl(hub, path), {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }
      : {}),
  });
  const text = await response.text();
  return { status: response.status, text, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('REST security entries', () => {
  it('creates, replaces, shows, lists and deletes an entry', async () => {
    const created = await call('PUT', '/api/security/rest-node1', { identity: 'rest-id-1', key: KEY });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ endpoint: 'rest-node1', identity: 'rest-id-1', key: { bytes: 16, sha256: 'be45cb26' } });
    expect((await hub.securityStore.findByIdentity('rest-id-1'))?.key).toEqual(Buffer.from(KEY, 'hex'));

    const replaced = await call('PUT', '/api/security/rest-node1', { identity: 'rest-id-1', key: 'AABBCCDD' });
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({
      key: { bytes: 4, sha256: createHash('sha256').update(Buffer.from('aabbccdd', 'hex')).digest('hex').slice(0, 8) },
    });

    await call('PUT', '/api/security/rest-node0', { identity: 'rest-id-0', key: KEY });
    const list = await call('GET', '/api/security');
    expect(list.status).toBe(200);
    const endpoints = (list.json as { endpoint: string }[]).map((e) => e.endpoint).filter((e) => e.startsWith('rest-'));
    expect(endpoints).toEqual(['rest-node0', 'rest-node1']);

    expect(await call('GET', '/api/security/rest-node1')).toMatchObject({
      status: 200,
      json: { endpoint: 'rest-node1', identity: 'rest-id-1' },
    });
    expect(await call('DELETE', '/api/security/rest-node1')).toMatchObject({ status: 204, text: '' });
    expect(await call('GET', '/api/security/rest-node1')).toMatchObject({ status: 404, json: { code: 'not_found' } });
    expect(await call('DELETE', '/api/security/rest-node1')).toMatchObject({ status: 404, json: { code: 'not_found' } });
    expect(await hub.securityStore.findByIdentity('rest-id-1')).toBeUndefined();
  });

  it('never sends a key back, in any form a client could use', async () => {
    const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    await call('PUT', '/api/security/secret-node', { identity: 'secret-id', key: secret });
    for (const path of ['/api/security', '/api/security/secret-node']) {
      const { text } = await call('GET', path);
      expect(text.toLowerCase()).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret, 'hex').toString('base64'));
    }
  });

  it('answers 409 when the identity is bound to another endpoint', async () => {
    await call('PUT', '/api/security/owner', { identity: 'taken-id', key: KEY });
    const conflict = await call('PUT', '/api/security/thief', { identity: 'taken-id', key: KEY });
    expect(conflict).toMatchObject({
      status: 409,
      json: { code: 'identity_in_use', error: 'identity "taken-id" is bound to endpoint "owner"' },
    });
    expect(await call('GET', '/api/security/thief')).toMatchObject({ status: 404 });
  });

  const bad: [string, unknown, RegExp][] = [
    ['no body', undefined, /JSON body \{"identity": "…", "key": "<hex>"\} is required/],
    ['not JSON', '{"identity": ', /JSON/i],
    ['an array', [], /must be an object \{"identity"/],
    ['no key', { identity: 'x' }, /^key: is missing$/],
    ['no identity', { key: KEY }, /^identity: is missing$/],
    ['an empty identity', { identity: '', key: KEY }, /^identity: must not be empty$/],
    ['an identity over 128 bytes', { identity: 'é'.repeat(65), key: KEY }, /^identity: must be at most 128 bytes in UTF-8/],
    ['a numeric key', { identity: 'x', key: 1234 }, /^key: must be a string of hex digits$/],
    ['a key that is not hex', { identity: 'x', key: 'secret' }, /^key: must be hex digits only/],
    ['an odd number of hex digits', { identity: 'x', key: 'abc' }, /^key: must have an even number of hex digits/],
    ['a key over 64 bytes', { identity: 'x', key: 'ab'.repeat(65) }, /^key: must be at most 64 bytes/],
    ['an unknown member', { identity: 'x', key: KEY, psk: KEY }, /^unknown member "psk"$/],
  ];
  for (const [what, body, message] of bad) {
    it(`refuses with 400 and a clear message a PUT with ${what}`, async () => {
      const response = await call('PUT', '/api/security/bad-node', body);
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ code: 'bad_request', error: expect.stringMatching(message) });
      expect(await hub.securityStore.get('bad-node')).toBeUndefined();
    });
  }

  it('refuses an endpoint name longer than a registration may have', async () => {
    const response = await call('PUT', `/api/security/${'n'.repeat(256)}`, { identity: 'long', key: KEY });
    expect(response).toMatchObject({ status: 400, json: { error: 'endpoint must be at most 255 characters' } });
  });

  it('takes endpoint names with reserved characters, percent-encoded', async () => {
    const endpoint = 'urn:imei:490154203237518/ü';
    const path = `/api/security/${encodeURIComponent(endpoint)}`;
    expect((await call('PUT', path, { identity: 'imei-id', key: KEY })).status).toBe(201);
    expect(await call('GET', path)).toMatchObject({ status: 200, json: { endpoint } });
    expect((await hub.securityStore.get(endpoint))?.identity).toBe('imei-id');
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await call('GET', '/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/security/{endpoint}'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.paths['/api/security'] ?? {})).toEqual(['get']);
  });
});
