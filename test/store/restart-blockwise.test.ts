/**
 * A block-wise notification (RFC 7959 §3.4) for an observation made before a restart:
 * the new process rebuilds the observation's request from the store to fetch the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort, HubProcess } from '../support/hub-process.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-restart-block-'));
let hub: HubProcess | undefined;
let sim: LwM2mSimulator | undefined;
afterAll(async () => {
  await hub?.stop('SIGKILL');
  await sim?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('restart and block-wise notifications', () => {
  it('completes a two-block notification of an observation made by the previous process', async () => {
    const [coapPort, httpPort, mqttPort] = [await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
    const args = ['--data-dir', dataDir, '--coap-port', String(coapPort), '--http-port', String(httpPort), '--http-host', '127.0.0.1', '--mqtt-port', String(mqttPort), '--mqtt-host', '127.0.0.1'];
    hub = await HubProcess.start(args);
    sim = await LwM2mSimulator.start({ endpoint: 'restart-block', serverPort: coapPort, blockSize: 64 });
    await sim.register();
    const observed = await fetch(`http://127.0.0.1:${httpPort}/api/clients/restart-block/3/0/1/observe`, { method: 'POST' });
    expect(observed.status).toBe(200);
    expect(await hub.stop('SIGTERM')).toBe(0);

    hub = await HubProcess.start(args);
    const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
    const long = 'x'.repeat(100);
    const received = new Promise<string>((resolve) =>
      subscriber.on('message', (_topic, payload) => {
        const value = (JSON.parse(payload.toString()) as { value: string }).value;
        if (value === long) resolve(value);
      }),
    );
    await subscriber.subscribeAsync('lwm2m/restart-block/3/0/1');
    sim.setValue('/3/0/1', { type: 'string', value: long });
    expect(await received).toBe(long);
    await subscriber.endAsync();
  }, 30_000);
});
