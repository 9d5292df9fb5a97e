/**
 * Registration with a CoAP client we did not write: libcoap's coap-client
 * (Debian package libcoap3-bin, installed by .ci/run).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { httpUrl, startTestHub } from '../support/hub.js';

const run = promisify(execFile);
const COAP_CLIENT = ['/usr/bin/coap-client-notls', '/usr/bin/coap-client'].find((p) => existsSync(p));

let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.stop());

/** Runs coap-client at debug level 7 and returns the decoded response lines it prints. */
async function coapClient(args: string[]): Promise<string> {
  const { stdout, stderr } = await run(COAP_CLIENT as string, ['-v', '7', '-B', '5', ...args], { timeout: 10_000 });
  return stdout + stderr;
}

function locationOf(output: string): string {
  const match = /Location-Path:rd, Location-Path:([A-Za-z0-9_-]+)/.exec(output);
  if (!match) throw new Error(`no Location-Path in coap-client output:\n${output}`);
  return `rd/${match[1]}`;
}

async function listed(endpoint: string): Promise<RegistrationJson | undefined> {
  const clients = (await (await fetch(httpUrl(hub, '/api/clients'))).json()) as RegistrationJson[];
  return clients.find((c) => c.endpoint === endpoint);
}

// In CI the package is installed by .ci/run: a missing binary there must fail, not skip.
describe.skipIf(!COAP_CLIENT && !process.env['CI'])('libcoap coap-client', () => {
  for (const [family, host] of [
    [6, '[::1]'],
    [4, '127.0.0.1'],
  ] as const) {
    it(`registers, updates and deregisters over IPv${family}`, async () => {
      const endpoint = `libcoap-v${family}`;
      const base = `coap://${host}:${hub.coap.port}`;
      const registered = await coapClient(['-m', 'post', '-e', '</1/0>,</3/0>', `${base}/rd?ep=${endpoint}&lt=60&lwm2m=1.1&b=U`]);
      expect(registered).toMatch(/c:2\.01/);
      const location = locationOf(registered);
      const client = await listed(endpoint);
      expect(client).toMatchObject({ lifetime: 60, lwm2mVersion: '1.1', address: family === 6 ? '::1' : '127.0.0.1' });
      expect(client?.objectLinks.map((l) => l.path)).toEqual(['/1/0', '/3/0']);

      expect(await coapClient(['-m', 'post', `${base}/${location}?lt=90`])).toMatch(/c:2\.04/);
      expect((await listed(endpoint))?.lifetime).toBe(90);
      expect(await coapClient(['-m', 'delete', `${base}/${location}`])).toMatch(/c:2\.02/);
      expect(await listed(endpoint)).toBeUndefined();
    });
  }

  it('gets 4.00 for a registration without ep and 4.05 for GET /rd', async () => {
    const base = `coap://[::1]:${hub.coap.port}`;
    expect(await coapClient(['-m', 'post', '-e', '</3/0>', `${base}/rd?lt=60`])).toMatch(/c:4\.00/);
    expect(await coapClient(['-m', 'get', `${base}/rd`])).toMatch(/c:4\.05/);
  });
});
