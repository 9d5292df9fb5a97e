/**
 * A client on a link-local IPv6 address, as a 6LoWPAN border router on the same
 * link often is: the hub must keep the zone (`%if`) to answer it. The client runs
 * in a network namespace of its own, joined to ours by a veth pair.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { httpUrl, startTestHub } from '../support/hub.js';

const run = promisify(execFile);
const COAP_CLIENT = ['/usr/bin/coap-client-notls', '/usr/bin/coap-client'].find((p) => existsSync(p));
const canMakeNamespaces = process.getuid?.() === 0 && existsSync('/usr/sbin/ip') && COAP_CLIENT !== undefined;

const id = process.pid % 100_000;
const NS = `lwm2mhub-${id}`;
const HOST_IF = `lh${id}h`;
const PEER_IF = `lh${id}p`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

let hub: Hub;
beforeAll(async () => {
  if (!canMakeNamespaces) return;
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF);
  ip('link', 'set', PEER_IF, 'netns', NS);
  ip('-6', 'addr', 'add', 'fe80::1:1/64', 'dev', HOST_IF, 'nodad');
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', '-6', 'addr', 'add', 'fe80::1:2/64', 'dev', PEER_IF, 'nodad');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', PEER_IF, 'up');
  hub = await startTestHub();
});
afterAll(async () => {
  if (!canMakeNamespaces) return;
  await hub?.stop();
  // Deleting the namespace deletes the veth pair with it.
  ip('netns', 'del', NS);
});

// In CI (root, iproute2, libcoap installed by .ci/run) this must run, not skip.
describe.skipIf(!canMakeNamespaces && !process.env['CI'])('link-local IPv6 client', () => {
  it('registers from fe80::…%if, is stored with its zone, and gets its answer back', async () => {
    const uri = `coap://[fe80::1:1%${PEER_IF}]:${hub.coap.port}/rd?ep=link-local-node&lt=60`;
    const { stdout, stderr } = await run('ip', ['netns', 'exec', NS, COAP_CLIENT as string, '-v', '7', '-B', '5', '-m', 'post', '-e', '</3/0>', uri]);
    expect(stdout + stderr).toMatch(/c:2\.01/);
    const client = (await (await fetch(httpUrl(hub, '/api/clients/link-local-node'))).json()) as RegistrationJson;
    expect(client.address).toBe(`fe80::1:2%${HOST_IF}`);
  });
});
