/**
 * `--http-auth` and `--http-token` on a real hub: every route but /healthz
 * answers 401 with its challenges without them, the event stream and the web
 * page included; secrets given on the command line are never echoed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { Hub } from '../../src/hub.js';
import { httpUrl, startTestHub } from '../support/hub.js';
import { SseClient } from '../support/sse.js';

const TOKEN = 'tok-0123456789abcdef0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const GOOD_BASIC = basic('admin', 's3cret:with:colons');

describe('HTTP credentials (Basic and bearer token)', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startTestHub({ httpAuth: { user: 'admin', password: 's3cret:with:colons' }, httpToken: TOKEN });
  });
  afterAll(() => hub?.stop());

  const get = (path: string, authorization?: string) => fetch(httpUrl(hub, path), authorization ? { headers: { authorization } } : {});

  it('serves /healthz without credentials, for probes', async () => {
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('answers 401 with a Basic and a Bearer challenge when a request has no credentials', async () => {
    const response = await get('/api/clients');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="lwm2m-hub", charset="UTF-8", Bearer realm="lwm2m-hub"');
    expect(await response.json()).toEqual({ error: 'credentials required', code: 'unauthorized' });
  });

  it('accepts the right user and password, and the right token', async () => {
    expect((await get('/api/clients', GOOD_BASIC)).status).toBe(200);
    expect((await get('/api/clients', `Bearer ${TOKEN}`)).status).toBe(200);
    // RFC 7235 §2.1: scheme names are case-insensitive.
    expect((await get('/api/clients', GOOD_BASIC.replace('Basic', 'basic'))).status).toBe(200);
    expect((await get('/api/clients', `bearer ${TOKEN}`)).status).toBe(200);
  });

  const wrong: [string, string][] = [
    ['a wrong password', basic('admin', 's3cret')],
    ['a wrong user', basic('root', 's3cret:with:colons')],
    ['the password as user name', basic('s3cret:with:colons', 'admin')],
    ['an empty Basic value', 'Basic '],
    ['Basic without a colon', `Basic ${Buffer.from('admin').toString('base64')}`],
    ['a wrong token', `Bearer ${TOKEN.slice(0, -1)}x`],
    ['a longer token', `Bearer ${TOKEN}0`],
    ['the token as Basic', `Basic ${Buffer.from(TOKEN).toString('base64')}`],
    ['another scheme', `Digest username="admin"`],
  ];
  for (const [what, authorization] of wrong) {
    it(`refuses ${what} with 401`, async () => {
      const response = await get('/api/clients', authorization);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'invalid credentials', code: 'unauthorized' });
    });
  }

  it('names a rejected bearer token in its challenge (RFC 6750 §3.1)', async () => {
    const response = await get('/api/clients', 'Bearer nope');
    expect(response.headers.get('www-authenticate')).toContain('Bearer realm="lwm2m-hub", error="invalid_token"');
  });

  it('covers unknown paths too: nothing can be probed without credentials', async () => {
    expect((await get('/api/no/such/route')).status).toBe(401);
    expect((await get('/api/no/such/route', GOOD_BASIC)).status).toBe(404);
  });

  it('covers the web page and its files', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/assets/app.js')).status).toBe(401);
    expect((await get('/', GOOD_BASIC)).status).not.toBe(401);
  });

  it('covers the security routes: keys cannot be set without credentials', async () => {
    const put = (headers: Record<string, string>) =>
      fetch(httpUrl(hub, '/api/security/auth-node'), {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ identity: 'auth-id', key: '00112233' }),
      });
    expect((await put({})).status).toBe(401);
    expect(await hub.securityStore.get('auth-node')).toBeUndefined();
    expect((await put({ authorization: `Bearer ${TOKEN}` })).status).toBe(201);
  });

  it('covers the event stream; EventSource clients may pass the token as access_token', async () => {
    expect((await get('/api/events')).status).toBe(401);
    const withHeader = await SseClient.open(httpUrl(hub, '/api/events'), { authorization: GOOD_BASIC });
    await withHeader.close();
    const withQuery = await SseClient.open(httpUrl(hub, `/api/events?access_token=${TOKEN}`));
    await withQuery.close();
    expect((await get(`/api/events?access_token=wrong-token-000000`)).status).toBe(401);
    // Only there: elsewhere a token in the URL is not accepted.
    expect((await get(`/api/clients?access_token=${TOKEN}`)).status).toBe(401);
  });
});

describe('HTTP credentials: a token alone', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startTestHub({ httpToken: TOKEN });
  });
  afterAll(() => hub?.stop());

  it('challenges with Bearer only and refuses Basic', async () => {
    const response = await fetch(httpUrl(hub, '/api/clients'), { headers: { authorization: GOOD_BASIC } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="lwm2m-hub"');
    expect((await fetch(httpUrl(hub, '/api/clients'), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('opens the page with /?access_token= and lets the page go on with the cookie it sets', async () => {
    expect((await fetch(httpUrl(hub, '/'))).status).toBe(401);
    expect((await fetch(httpUrl(hub, '/?access_token=wrong-token-000000'))).status).toBe(401);
    const page = await fetch(httpUrl(hub, `/?access_token=${TOKEN}`));
    expect(page.status).not.toBe(401);
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^lwm2m_hub_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const jar = cookie.split(';')[0] as string;
    expect((await fetch(httpUrl(hub, '/api/clients'), { headers: { cookie: jar } })).status).toBe(200);
    expect((await fetch(httpUrl(hub, '/api/clients'), { headers: { cookie: 'lwm2m_hub_token=wrong-token-000000' } })).status).toBe(401);
  });
});

describe('HTTP credentials: none configured', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.stop());

  it('serves every route without credentials, and ignores any sent', async () => {
    expect((await fetch(httpUrl(hub, '/api/clients'))).status).toBe(200);
    expect((await fetch(httpUrl(hub, '/api/clients'), { headers: { authorization: 'Bearer whatever' } })).status).toBe(200);
  });
});

describe('HTTP credential options', () => {
  const fails = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      loadConfig(argv, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`${argv.join(' ')} was accepted`);
  };

  it('reads user:password (the password may hold colons) from a flag or the environment', () => {
    const request = loadConfig([], { LWM2M_HUB_HTTP_AUTH: 'ops:pa:ss', LWM2M_HUB_HTTP_TOKEN: TOKEN });
    expect(request).toMatchObject({ kind: 'run', config: { httpAuth: { user: 'ops', password: 'pa:ss' }, httpToken: TOKEN } });
  });

  it('refuses bad values without echoing them', () => {
    const noPassword = fails(['--http-auth', 'hunter2']);
    expect(noPassword).toMatch(/^invalid --http-auth: must be user:password/);
    expect(noPassword).not.toContain('hunter2');
    const shortToken = fails([], { LWM2M_HUB_HTTP_TOKEN: 'abc123' });
    expect(shortToken).toMatch(/^invalid LWM2M_HUB_HTTP_TOKEN: must be at least 16 characters/);
    expect(shortToken).not.toContain('abc123');
    expect(fails(['--http-token', 'has spaces in it, 0123456789'])).toMatch(/must use only letters, digits/);
  });
});
