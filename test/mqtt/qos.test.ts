/**
 * --mqtt-qos: the QoS the hub publishes with, seen by real MQTT clients. A subscriber gets the
 * lower of the publication's QoS and its own (MQTT 3.1.1 §3.8.4), so without --mqtt-qos 1 a
 * QoS 1 subscription still receives QoS 0, and a persistent session keeps nothing for later.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { HubConfig } from '../../src/config.js';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';
import { Mosquitto, MOSQUITTO } from '../support/mosquitto.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

interface Received {
  readonly payload: string;
  readonly qos: number;
}

class Subscriber {
  readonly received: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (_topic, payload, packet) => this.received.push({ payload: payload.toString(), qos: packet.qos }));
  }
  /** Listens before it connects: what a persistent session gets comes right behind the CONNACK. */
  static async connect(url: string, filter: string | undefined, qos: 0 | 1, options: IClientOptions = {}): Promise<Subscriber> {
    const client = mqtt.connect(url, { reconnectPeriod: 0, ...options });
    const subscriber = new Subscriber(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    if (filter !== undefined) await client.subscribeAsync(filter, { qos });
    return subscriber;
  }
  async valueOf(value: number, timeoutMs = 5000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((m) => (JSON.parse(m.payload) as { value: unknown }).value === value);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no value ${value}; got ${JSON.stringify(this.received)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  close(): Promise<void> {
    return this.client.endAsync();
  }
}

const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of started.splice(0).reverse()) await thing.stop();
});

async function hubWith(overrides: Partial<HubConfig>): Promise<Hub> {
  const hub = await startTestHub({ autoObserve: ['/3303/0/5700'], ...overrides });
  started.push(hub);
  return hub;
}

async function sensor(hub: Hub, endpoint: string): Promise<LwM2mSimulator> {
  const sim = await LwM2mSimulator.start({ endpoint, serverPort: hub.coap.port });
  started.push(sim);
  await sim.register();
  return sim;
}

const topic = (endpoint: string) => `lwm2m/${endpoint}/3303/0/5700`;

describe('--mqtt-qos with the embedded broker', () => {
  it('publishes at QoS 0 by default: a QoS 1 subscription receives QoS 0', async () => {
    const hub = await hubWith({});
    const subscriber = await Subscriber.connect(`mqtt://127.0.0.1:${hub.mqtt?.port}`, topic('qos-default'), 1);
    await sensor(hub, 'qos-default');
    expect((await subscriber.valueOf(21.5)).qos).toBe(0);
    await subscriber.close();
  });

  it('publishes at QoS 1 with --mqtt-qos 1, and a QoS 0 subscription still gets QoS 0', async () => {
    const hub = await hubWith({ mqttQos: 1 });
    const url = `mqtt://127.0.0.1:${hub.mqtt?.port}`;
    const [atLeastOnce, atMostOnce] = await Promise.all([
      Subscriber.connect(url, topic('qos-one'), 1),
      Subscriber.connect(url, topic('qos-one'), 0),
    ]);
    const sim = await sensor(hub, 'qos-one');
    expect((await atLeastOnce.valueOf(21.5)).qos).toBe(1);
    expect((await atMostOnce.valueOf(21.5)).qos).toBe(0);
    sim.setValue('/3303/0/5700', { type: 'float', value: 22.5 });
    expect((await atLeastOnce.valueOf(22.5)).qos).toBe(1);
    await Promise.all([atLeastOnce.close(), atMostOnce.close()]);
  });

  it('with --mqtt-qos 1, a persistent session gets on reconnection the values notified while it was away', async () => {
    const hub = await hubWith({ mqttQos: 1 });
    const url = `mqtt://127.0.0.1:${hub.mqtt?.port}`;
    const session = { clientId: 'qos-away', clean: false } as const;
    const first = await Subscriber.connect(url, topic('qos-away'), 1, session);
    const sim = await sensor(hub, 'qos-away');
    await first.valueOf(21.5);
    await first.close();
    sim.setValue('/3303/0/5700', { type: 'float', value: 30.5 });
    sim.setValue('/3303/0/5700', { type: 'float', value: 31.5 });
    // The hub has them once they are on the broker's retained topic; the session was offline then.
    const check = await Subscriber.connect(url, topic('qos-away'), 0);
    await check.valueOf(31.5);
    await check.close();
    // No new SUBSCRIBE: the session has its subscription, and a SUBSCRIBE would resend the retained value.
    const again = await Subscriber.connect(url, undefined, 1, session);
    expect((await again.valueOf(30.5)).qos).toBe(1);
    expect((await again.valueOf(31.5)).qos).toBe(1);
    await again.close();
  });
});

// In CI mosquitto is installed by .ci/run: a missing binary there must fail, not skip.
describe.runIf(MOSQUITTO || process.env['CI'])('--mqtt-qos with an external broker (Mosquitto)', () => {
  it('publishes at QoS 1 with --mqtt-qos 1', async () => {
    const broker = await Mosquitto.start();
    started.push(broker);
    const hub = await hubWith({ mqttUrl: broker.url, mqttQos: 1 });
    const subscriber = await Subscriber.connect(broker.url, topic('qos-external'), 1);
    await sensor(hub, 'qos-external');
    expect((await subscriber.valueOf(21.5)).qos).toBe(1);
    await subscriber.close();
  });
});
