import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';

let hub: Hub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.stop());

describe('embedded MQTT broker', () => {
  it('carries a message from a publisher to a subscriber', async () => {
    const url = `mqtt://127.0.0.1:${hub.mqtt?.port}`;
    const subscriber = await mqtt.connectAsync(url);
    const publisher = await mqtt.connectAsync(url);
    await subscriber.subscribeAsync('lwm2m/test/#', { qos: 1 });
    const received = new Promise<[string, string]>((resolve) => subscriber.on('message', (topic, payload) => resolve([topic, payload.toString()])));
    await publisher.publishAsync('lwm2m/test/hello', 'world', { qos: 1 });
    expect(await received).toEqual(['lwm2m/test/hello', 'world']);
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  });
});
