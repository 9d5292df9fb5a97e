/** --mqtt-url: the bridge keeps messages while the external broker is away and delivers them when it is back. */
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';
import { Mosquitto, MOSQUITTO } from '../support/mosquitto.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.skipIf(!MOSQUITTO && !process.env['CI'])('external broker outage', () => {
  it('buffers while Mosquitto is down and publishes on reconnection', async () => {
    let broker = await Mosquitto.start();
    const port = broker.port;
    const hub: Hub = await startTestHub({ mqttUrl: broker.url });
    cleanups.push(() => hub.stop());
    const sim = await LwM2mSimulator.start({ endpoint: 'outage-node', serverPort: hub.coap.port });
    cleanups.push(() => sim.stop());

    await broker.stop();
    // Registered while the broker is away: the retained registration waits in the bridge's buffer.
    await sim.register();
    expect(hub.mqttTransport.stats().connected).toBe(false);

    broker = await Mosquitto.start(port);
    cleanups.push(() => broker.stop());
    const subscriber = await mqtt.connectAsync(broker.url);
    cleanups.push(() => subscriber.endAsync());
    const retained = new Promise<string>((resolve) => subscriber.on('message', (_topic, payload) => payload.length > 0 && resolve(payload.toString())));
    await subscriber.subscribeAsync('lwm2m/outage-node/registration');
    expect(JSON.parse(await retained)).toMatchObject({ endpoint: 'outage-node' });
  }, 20_000);
});
