/** --mqtt-compat emqx end to end: a simulated client, the EMQX topic layout, real MQTT clients. */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

let hub: Hub;
let client: MqttClient;
let sim: LwM2mSimulator;
const received: { topic: string; body: Record<string, unknown> }[] = [];

async function next(predicate: (m: { topic: string; body: Record<string, unknown> }) => boolean) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = received.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(received)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  hub = await startTestHub({ mqttCompat: 'emqx' });
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqtt?.port}`);
  client.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
  await client.subscribeAsync('lwm2m/emqx-node/up/#');
  sim = await LwM2mSimulator.start({ endpoint: 'emqx-node', serverPort: hub.coap.port, lwm2mVersion: '1.0' });
  await sim.register();
});
afterAll(async () => {
  await sim?.stop();
  await client?.endAsync();
  await hub?.stop();
});

describe('EMQX compatibility mode', () => {
  it('publishes the registration on up/resp as EMQX does', async () => {
    const { body } = await next((m) => m.topic === 'lwm2m/emqx-node/up/resp' && m.body['msgType'] === 'register');
    expect(body['data']).toMatchObject({ ep: 'emqx-node', lt: 300, lwm2m: '1.0', objectList: expect.arrayContaining(['/3/0', '/3303/0']) });
  });

  it('answers a dn read with an up/resp carrying the values', async () => {
    await client.publishAsync('lwm2m/emqx-node/dn', JSON.stringify({ reqID: 7, msgType: 'read', data: { path: '/3303/0/5700' } }));
    const { body } = await next((m) => m.body['reqID'] === 7);
    expect(body).toMatchObject({ reqID: 7, msgType: 'read', data: { reqPath: '/3303/0/5700', code: '2.05', codeMsg: 'content', content: [{ path: '/3303/0/5700', value: 21.5 }] } });
  });

  it('sends notifications of an observation on up/notify', async () => {
    await client.publishAsync('lwm2m/emqx-node/dn', JSON.stringify({ reqID: 8, msgType: 'observe', data: { path: '/3303/0/5700' } }));
    await next((m) => m.body['reqID'] === 8 && m.body['msgType'] === 'observe');
    sim.setValue('/3303/0/5700', { type: 'float', value: 26.5 });
    const { topic, body } = await next((m) => m.body['msgType'] === 'notify');
    expect(topic).toBe('lwm2m/emqx-node/up/notify');
    expect(body['data']).toMatchObject({ reqPath: '/3303/0/5700', code: '2.05', content: [{ path: '/3303/0/5700', value: 26.5 }] });
  });
});
