/**
 * The page's files and its REST routes over real HTTP: content types, cache headers, gzip,
 * no way out of dist/web, the MQTT topics of each layout, and queue-mode presence.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebPage, webPageDir } from '../../src/http/static.js';
import type { Hub } from '../../src/hub.js';
import { httpUrl, startTestHub } from '../support/hub.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

let hub: Hub;
const sims: LwM2mSimulator[] = [];

beforeAll(async () => {
  // The page under test is the one in the sources, built now (esbuild: well under a second).
  await run(process.execPath, [path.join(ROOT, 'scripts', 'build-web.mjs'), '--quiet'], { cwd: ROOT });
  hub = await startTestHub({ queueAwakeTime: 60 });
}, 30_000);

afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.stop()));
  await hub?.stop();
});

async function registered(
  options: Partial<Parameters<typeof LwM2mSimulator.start>[0]> & { endpoint: string },
  into: Hub = hub,
): Promise<LwM2mSimulator> {
  const sim = await LwM2mSimulator.start({ serverPort: into.coap.port, ...options });
  sims.push(sim);
  expect((await sim.register()).code).toBe('2.01');
  return sim;
}

describe('the web page files', () => {
  it('serves index.html at / with its security policy, revalidated on every load', async () => {
    const response = await fetch(httpUrl(hub, '/'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).toMatch(/<script type="module" src="\/assets\/main-[A-Z0-9]+\.js"><\/script>/);
    // Every script, style and icon from this server (or inline data): nothing to fetch elsewhere.
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^(\/|data:)/);

    const again = await fetch(httpUrl(hub, '/'), { headers: { 'if-none-match': response.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
  });

  it('serves the hashed assets with their types, cached for a year, gzipped for browsers that accept it', async () => {
    const html = await (await fetch(httpUrl(hub, '/'))).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1] as string;
    const js = await fetch(httpUrl(hub, script), { headers: { 'accept-encoding': 'identity' } });
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBeNull();
    const plain = Buffer.from(await js.arrayBuffer());
    expect(plain.equals(await readFile(path.join(webPageDir(), script.slice(1))))).toBe(true);

    // node:http keeps the encoding as sent (fetch would decode it): the bytes are gzip of the file.
    const { request } = await import('node:http');
    const gzipped = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(httpUrl(hub, script), { headers: { 'accept-encoding': 'gzip, deflate, br' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(gzipped.encoding).toBe('gzip');
    expect(gunzipSync(gzipped.body).equals(plain)).toBe(true);

    const css = await fetch(httpUrl(hub, style));
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('serves nothing outside its folder and answers unknown files with a JSON 404', async () => {
    for (const url of [
      '/assets/..%2F..%2Fpackage.json',
      '/assets/.hidden.js',
      '/assets/missing-AAAA.js',
      '/assets/index.html.gz',
      '/package.json',
    ]) {
      const response = await fetch(httpUrl(hub, url));
      expect(response.status, url).toBe(404);
      expect(response.headers.get('content-type'), url).toMatch(/application\/json/);
    }
  });

  it('says how to build the page when it is not built', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'web-'));
    const app = Fastify();
    registerWebPage(app, { dir: empty });
    try {
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'no_page', error: expect.stringContaining('npm run build') });
    } finally {
      await app.close();
      await rm(empty, { recursive: true });
    }
  });

  it('keeps the page out of the REST route table (and so out of the OpenAPI document)', () => {
    expect(hub.httpRoutes).not.toContain('GET /');
    expect(hub.httpRoutes).not.toContain('GET /assets/:file');
    expect(hub.httpRoutes).toContain('GET /api/clients/:endpoint/topics');
    expect(hub.httpRoutes).toContain('GET /api/presence');
  });
});

describe('GET /api/clients/{endpoint}/topics', () => {
  it('gives the topic of every resource of the registered instances, a filter for multiple resources, none for executables', async () => {
    await registered({ endpoint: 'topics-node' });
    const body = (await (await fetch(httpUrl(hub, '/api/clients/topics-node/topics'))).json()) as {
      topics: { path: string; topics: string[]; retained: boolean }[];
    };
    const byPath = new Map(body.topics.map((t) => [t.path, t]));
    expect(byPath.get('/3303/0/5700')).toEqual({ path: '/3303/0/5700', topics: ['lwm2m/topics-node/3303/0/5700'], retained: true });
    expect(byPath.get('/3/0/6')?.topics).toEqual(['lwm2m/topics-node/3/0/6/+']);
    expect(byPath.has('/3/0/4')).toBe(false); // Reboot: executable
  });

  it('answers the paths asked for, and refuses a path that is not a resource', async () => {
    const asked = await fetch(httpUrl(hub, '/api/clients/topics-node/topics?path=/3/0/7/1&path=/9999/0/1'));
    expect(((await asked.json()) as { topics: unknown[] }).topics).toEqual([
      { path: '/3/0/7/1', topics: ['lwm2m/topics-node/3/0/7/1'], retained: true },
      { path: '/9999/0/1', topics: ['lwm2m/topics-node/9999/0/1'], retained: true },
    ]);
    const bad = await fetch(httpUrl(hub, '/api/clients/topics-node/topics?path=/3/0'));
    expect(bad.status).toBe(400);
    const unknown = await fetch(httpUrl(hub, '/api/clients/nobody/topics'));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('not_registered');
  });

  it('follows the layout the hub runs: names with --mqtt-names, the notify topic with --mqtt-compat emqx', async () => {
    for (const [overrides, expected] of [
      [{ mqttNames: true, mqttPrefix: 'site' }, ['site/layout-node/3303/0/5700', 'site/layout-node/temperature/0/sensor-value']],
      [{ mqttCompat: 'emqx' as const }, ['lwm2m/layout-node/up/notify']],
    ] as const) {
      const other = await startTestHub(overrides);
      try {
        const sim = await registered({ endpoint: 'layout-node' }, other);
        const body = (await (await fetch(httpUrl(other, '/api/clients/layout-node/topics?path=/3303/0/5700'))).json()) as {
          topics: { topics: string[] }[];
        };
        expect(body.topics[0]?.topics).toEqual(expected);
        await sim.deregister();
      } finally {
        await other.stop();
      }
    }
  });
});

describe('GET /api/presence', () => {
  it('lists queue-mode clients, awake after they spoke', async () => {
    await registered({ endpoint: 'presence-queue', queueMode: true });
    await registered({ endpoint: 'presence-always' });
    const presence = (await (await fetch(httpUrl(hub, '/api/presence'))).json()) as { endpoint: string; awake: boolean; queued: number }[];
    expect(presence.find((p) => p.endpoint === 'presence-queue')).toEqual({ endpoint: 'presence-queue', awake: true, queued: 0 });
    expect(presence.some((p) => p.endpoint === 'presence-always')).toBe(false);
  });
});
