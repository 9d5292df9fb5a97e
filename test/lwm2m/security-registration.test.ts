/**
 * The registration check on real sockets: plain CoAP with our test client, and
 * DTLS with libcoap's coap-client-openssl and coap-client-gnutls (-u identity
 * -k key; libcoap takes the key as text, so the store holds that text's bytes).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatCode, Method } from '../../src/coap/codes.js';
import type { Hub } from '../../src/hub.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { TestClient } from '../support/coap-client.js';
import { httpUrl, startTestHub } from '../support/hub.js';

const run = promisify(execFile);
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function client(hub: Hub, family: 4 | 6 = 6): Promise<TestClient> {
  const c = await TestClient.connect(hub.coap.port, family);
  clients.push(c);
  return c;
}

async function listed(hub: Hub, endpoint: string): Promise<RegistrationJson | undefined> {
  const response = await fetch(httpUrl(hub, `/api/clients/${encodeURIComponent(endpoint)}`));
  return response.status === 200 ? ((await response.json()) as RegistrationJson) : undefined;
}

async function putEntry(hub: Hub, endpoint: string, identity: string, keyText: string): Promise<void> {
  const response = await fetch(httpUrl(hub, `/api/security/${encodeURIComponent(endpoint)}`), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity, key: Buffer.from(keyText, 'utf8').toString('hex') }),
  });
  expect(response.status).toBeLessThan(300);
}

describe('registration check over plain CoAP', () => {
  describe('with --allow-unsecured (the default)', () => {
    let hub: Hub;
    beforeAll(async () => {
      hub = await startTestHub();
      await putEntry(hub, 'secured-node', 'secured-id', 'secured-key');
    });
    afterAll(() => hub?.stop());

    it('registers a client without a security entry', async () => {
      const { response } = await (await client(hub)).register(['ep=open-node', 'lt=60']);
      expect(formatCode(response.code)).toBe('2.01');
      expect(await listed(hub, 'open-node')).toBeDefined();
      expect((await listed(hub, 'open-node'))?.secure).toBeUndefined();
    });

    it('refuses with 4.03 a client whose endpoint has a security entry', async () => {
      const { response } = await (await client(hub, 4)).register(['ep=secured-node', 'lt=60']);
      expect(formatCode(response.code)).toBe('4.03');
      expect(response.payload.toString()).toBe('unsecured registration refused: use DTLS (coaps)');
      expect(await listed(hub, 'secured-node')).toBeUndefined();
    });

    it('refuses the next update once an entry is set for a client registered without one', async () => {
      const c = await client(hub);
      const { location } = await c.register(['ep=later-secured', 'lt=60']);
      expect(formatCode((await c.request(Method.POST, location)).code)).toBe('2.04');
      await putEntry(hub, 'later-secured', 'later-id', 'later-key');
      expect(formatCode((await c.request(Method.POST, location, ['lt=30'])).code)).toBe('4.03');
      expect((await listed(hub, 'later-secured'))?.lifetime).toBe(60);
    });
  });

  describe('with --allow-unsecured=false', () => {
    let hub: Hub;
    beforeAll(async () => {
      hub = await startTestHub({ allowUnsecured: false });
    });
    afterAll(() => hub?.stop());

    it('refuses with 4.03 a client without a security entry, and registers nothing', async () => {
      for (const family of [4, 6] as const) {
        const { response } = await (await client(hub, family)).register([`ep=plain-v${family}`, 'lt=60']);
        expect(formatCode(response.code)).toBe('4.03');
      }
      expect(await (await fetch(httpUrl(hub, '/api/clients'))).json()).toEqual([]);
    });
  });
});

const OPENSSL = '/usr/bin/coap-client-openssl';
const GNUTLS = '/usr/bin/coap-client-gnutls';
const NOTLS = '/usr/bin/coap-client-notls';
const libcoap = existsSync(OPENSSL) && existsSync(GNUTLS) && existsSync(NOTLS);

/** Runs a libcoap client (debug level 7: it prints the response code as `c:2.01`); never throws. */
async function coapClient(binary: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(binary, ['-v', '7', '-B', '5', ...args], { timeout: 15_000 });
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}${failed.message}`;
  }
}

function locationOf(output: string): string {
  const match = /Location-Path:rd, Location-Path:([A-Za-z0-9_-]+)/.exec(output);
  if (!match) throw new Error(`no Location-Path in coap-client output:\n${output}`);
  return `rd/${match[1]}`;
}

// In CI libcoap3-bin is installed by .ci/run: a missing binary there must fail, not skip.
describe.skipIf(!libcoap && !process.env['CI'])('registration check over DTLS with libcoap', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startTestHub({ allowUnsecured: false });
    await putEntry(hub, 'dtls-openssl', 'openssl-id', 'openssl-key-0123');
    await putEntry(hub, 'dtls-gnutls', 'gnutls-id', 'gnutls-key-4567');
    await putEntry(hub, 'dtls-other', 'other-id', 'other-key-89ab');
  });
  afterAll(() => hub?.stop());

  const coaps = (host: string) => `coaps://${host}:${hub.coaps!.port}`;
  /** A Register (POST /rd?query) by a libcoap client over DTLS with this identity and key; its output. */
  const registerOverDtls = (binary: string, identity: string, key: string, host: string, query: string, links = '</3/0>') =>
    coapClient(binary, ['-u', identity, '-k', key, '-m', 'post', '-e', links, `${coaps(host)}/rd?${query}`]);

  for (const [name, binary, endpoint, identity, key] of [
    ['coap-client-openssl', OPENSSL, 'dtls-openssl', 'openssl-id', 'openssl-key-0123'],
    ['coap-client-gnutls', GNUTLS, 'dtls-gnutls', 'gnutls-id', 'gnutls-key-4567'],
  ] as const) {
    for (const host of ['[::1]', '127.0.0.1']) {
      it(`${name} registers over coaps://${host} with the identity bound to its endpoint`, async () => {
        expect(hub.coaps).toBeDefined();
        const output = await registerOverDtls(binary, identity, key, host, `ep=${endpoint}&lt=60&b=U`, '</1/0>,</3/0>');
        expect(output).toMatch(/c:2\.01/);
        const registration = await listed(hub, endpoint);
        expect(registration).toMatchObject({ address: host === '[::1]' ? '::1' : '127.0.0.1', secure: true });
        // Update and de-register through a new session of the same identity.
        const location = locationOf(output);
        expect(await coapClient(binary, ['-u', identity, '-k', key, '-m', 'post', `${coaps(host)}/${location}?lt=90`])).toMatch(/c:2\.04/);
        expect((await listed(hub, endpoint))?.lifetime).toBe(90);
        expect(await coapClient(binary, ['-u', identity, '-k', key, '-m', 'delete', `${coaps(host)}/${location}`])).toMatch(/c:2\.02/);
        expect(await listed(hub, endpoint)).toBeUndefined();
      });
    }
  }

  it('refuses with 4.03 a client whose identity is bound to another endpoint', async () => {
    const output = await registerOverDtls(OPENSSL, 'other-id', 'other-key-89ab', '[::1]', `ep=dtls-openssl&lt=60`);
    expect(output).toMatch(/c:4\.03/);
    expect(await listed(hub, 'dtls-openssl')).toBeUndefined();
  });

  it('fails the handshake with a wrong key and registers nothing', async () => {
    const output = await registerOverDtls(GNUTLS, 'gnutls-id', 'wrong-key', '127.0.0.1', `ep=dtls-gnutls&lt=60`);
    // Its Finished cannot be decrypted with our key: the server ends the handshake with an alert.
    expect(output).toMatch(/DTLS: Alert/);
    expect(output).not.toMatch(/c:2\.01/);
    expect(await listed(hub, 'dtls-gnutls')).toBeUndefined();
  });

  it('fails the handshake with an identity the store does not know, and registers nothing', async () => {
    const output = await registerOverDtls(OPENSSL, 'stranger-id', 'openssl-key-0123', '[::1]', `ep=dtls-openssl&lt=60`);
    expect(output).not.toMatch(/c:2\.01/);
    expect(await listed(hub, 'dtls-openssl')).toBeUndefined();
  });

  it('refuses with 4.03 a plain-UDP update and de-register of a DTLS registration', async () => {
    const output = await registerOverDtls(OPENSSL, 'other-id', 'other-key-89ab', '[::1]', `ep=dtls-other&lt=60`);
    const location = locationOf(output);
    const plain = `coap://[::1]:${hub.coap.port}/${location}`;
    expect(await coapClient(NOTLS, ['-m', 'post', `${plain}?lt=5`])).toMatch(/c:4\.03/);
    expect(await coapClient(NOTLS, ['-m', 'delete', plain])).toMatch(/c:4\.03/);
    expect(await listed(hub, 'dtls-other')).toMatchObject({ lifetime: 60 });
  });
});
