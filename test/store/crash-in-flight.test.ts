/**
 * kill -9 while registrations are in flight: every registration whose 2.01 the
 * client received is there after the restart. And a damaged store file is
 * reported and skipped, never a failed start.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Method } from '../../src/coap/codes.js';
import { CoapEndpoint } from '../../src/coap/endpoint.js';
import { getStringOptions, OptionNumber } from '../../src/coap/options.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { freeTcpPort, freeUdpPort, HubProcess } from '../support/hub-process.js';

const dirs: string[] = [];
const hubs: HubProcess[] = [];
afterAll(async () => {
  for (const hub of hubs) await hub.stop('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startHub(dataDir: string, coapPort: number, httpPort: number): Promise<HubProcess> {
  const hub = await HubProcess.start(['--data-dir', dataDir, '--coap-port', String(coapPort), '--http-port', String(httpPort), '--http-host', '127.0.0.1', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1']);
  hubs.push(hub);
  return hub;
}

async function listed(httpPort: number): Promise<Set<string>> {
  const clients = (await (await fetch(`http://127.0.0.1:${httpPort}/api/clients`)).json()) as RegistrationJson[];
  return new Set(clients.map((c) => c.registrationId));
}

describe('crash safety of the file store', () => {
  it('keeps every acknowledged registration when killed with SIGKILL mid-flight', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-crash-'));
    dirs.push(dataDir);
    const [coapPort, httpPort] = [await freeUdpPort(), await freeTcpPort()];
    const hub = await startHub(dataDir, coapPort, httpPort);
    const client = await CoapEndpoint.bind({ host: '::1', transmission: { ackTimeoutMs: 1000, ackRandomFactor: 1, maxRetransmit: 0 } });
    const acknowledged: string[] = [];
    const attempts = Array.from({ length: 1000 }, (_, i) =>
      client
        .request({ address: '::1', port: coapPort }, { method: Method.POST, uriPath: ['rd'], uriQuery: [`ep=inflight-${i}`, 'lt=3600'], payload: Buffer.from('</3/0>') }, { timeoutMs: 3000 })
        .then((response) => {
          if (response.code === 0x41) acknowledged.push(getStringOptions(response.options, OptionNumber.LOCATION_PATH)[1] as string);
        })
        .catch(() => undefined),
    );
    // Kill as soon as some have been acknowledged, with others surely still in flight.
    while (acknowledged.length < 100) await new Promise((r) => setTimeout(r, 1));
    await hub.stop('SIGKILL');
    await Promise.all(attempts);
    await client.close();
    expect(acknowledged.length).toBeGreaterThanOrEqual(100);

    await startHub(dataDir, coapPort, httpPort);
    const present = await listed(httpPort);
    const missing = acknowledged.filter((id) => !present.has(id));
    expect(missing).toEqual([]);
  }, 60_000);

  it('starts with the valid records of a damaged log and says what it skipped', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-damaged-'));
    dirs.push(dataDir);
    const [coapPort, httpPort] = [await freeUdpPort(), await freeTcpPort()];
    let hub = await startHub(dataDir, coapPort, httpPort);
    const client = await CoapEndpoint.bind({ host: '::1' });
    for (const ep of ['good-1', 'good-2', 'good-3']) {
      await client.request({ address: '::1', port: coapPort }, { method: Method.POST, uriPath: ['rd'], uriQuery: [`ep=${ep}`], payload: Buffer.from('</3/0>') });
    }
    await client.close();
    expect(await hub.stop('SIGTERM')).toBe(0);

    const log = path.join(dataDir, 'registrations.log');
    const lines = readFileSync(log, 'utf8').split('\n');
    // A bit flipped in the second record, and a torn record at the end.
    lines[1] = (lines[1] as string).replace('good-2', 'g00d-2');
    writeFileSync(log, lines.join('\n'));
    appendFileSync(log, '0badc0de {"op":"put","registr');

    hub = await startHub(dataDir, coapPort, httpPort);
    const clients = (await (await fetch(`http://127.0.0.1:${httpPort}/api/clients`)).json()) as RegistrationJson[];
    expect(clients.map((c) => c.endpoint).sort()).toEqual(['good-1', 'good-3']);
    expect(hub.log).toMatch(/damaged|corrupt/i);
  }, 30_000);
});
