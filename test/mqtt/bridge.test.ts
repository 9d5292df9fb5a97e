/**
 * The MQTT bridge with real MQTT clients and simulated LwM2M clients over UDP,
 * in both modes: the embedded Aedes broker, and an external Mosquitto (--mqtt-url).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';
import { Mosquitto, MOSQUITTO } from '../support/mosquitto.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

const run = promisify(execFile);

class Subscriber {
  readonly messages: { topic: string; payload: string; retain: boolean }[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  }
  static async connect(url: string, filter: string, protocolVersion: 4 | 5 = 4): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, { protocolVersion });
    const subscriber = new Subscriber(client);
    await client.subscribeAsync(filter, { qos: 0 });
    return subscriber;
  }
  async waitFor(predicate: (m: { topic: string; payload: string; retain: boolean }) => boolean, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching MQTT message; got ${JSON.stringify(this.messages.map((m) => m.topic))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  close() {
    return this.client.endAsync();
  }
}

const modes = [
  { name: 'embedded broker', external: false },
  // In CI mosquitto is installed by .ci/run: a missing binary there must fail, not skip.
  ...(MOSQUITTO || process.env['CI'] ? [{ name: 'external Mosquitto (--mqtt-url)', external: true }] : []),
];

describe.each(modes)('MQTT bridge with $name', ({ external }) => {
  let hub: Hub;
  let broker: Mosquitto | undefined;
  let url: string;
  const sims: LwM2mSimulator[] = [];
  const ep = (name: string) => `${name}-${external ? 'ext' : 'emb'}`;

  beforeAll(async () => {
    if (external) broker = await Mosquitto.start();
    hub = await startTestHub({ autoObserve: ['/3303/0/5700'], mqttNames: true, ...(broker ? { mqttUrl: broker.url } : {}) });
    url = broker ? broker.url : `mqtt://127.0.0.1:${hub.mqtt?.port}`;
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    await hub?.stop();
    await broker?.stop();
  });

  async function simulator(name: string): Promise<LwM2mSimulator> {
    const sim = await LwM2mSimulator.start({ endpoint: ep(name), serverPort: hub.coap.port });
    sims.push(sim);
    return sim;
  }

  it('publishes the registration retained and clears it on deregistration', async () => {
    const sim = await simulator('reg');
    await sim.register();
    const late = await Subscriber.connect(url, `lwm2m/${ep('reg')}/registration`);
    const retained = await late.waitFor((m) => m.payload !== '');
    expect(retained.retain).toBe(true);
    expect(JSON.parse(retained.payload)).toMatchObject({ endpoint: ep('reg'), lwm2mVersion: '1.1' });
    if (MOSQUITTO) {
      // mosquitto_sub (Debian mosquitto-clients) sees the same retained message.
      const { stdout } = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', url.split(':').at(-1) as string, '-t', `lwm2m/${ep('reg')}/registration`, '-C', '1', '-W', '5']);
      expect(JSON.parse(stdout)).toMatchObject({ endpoint: ep('reg') });
    }
    const events = await Subscriber.connect(url, `lwm2m/${ep('reg')}/events`);
    await sim.deregister();
    await late.waitFor((m) => m.payload === '');
    expect(JSON.parse((await events.waitFor((m) => m.payload.includes('deregistered'))).payload)).toMatchObject({ event: 'deregistered' });
    await Promise.all([late.close(), events.close()]);
  });

  it('gives a subscriber of both topics the registration and the event, live, on register and on deregister', async () => {
    // The registration is retained and the event is not: Aedes stores a retained message before it
    // delivers it, and used to drop it as a duplicate once the event published after it had passed it.
    const both = await Subscriber.connect(url, `lwm2m/${ep('both')}/#`);
    const sim = await simulator('both');
    await sim.register();
    const registration = await both.waitFor((m) => m.topic.endsWith('/registration') && m.payload !== '');
    expect(JSON.parse(registration.payload)).toMatchObject({ endpoint: ep('both') });
    await both.waitFor((m) => m.topic.endsWith('/events') && m.payload.includes('"registered"'));
    await sim.deregister();
    await both.waitFor((m) => m.topic.endsWith('/registration') && m.payload === '');
    await both.waitFor((m) => m.topic.endsWith('/events') && m.payload.includes('"deregistered"'));
    await both.close();
  });

  it('delivers an auto-observed temperature with the documented JSON, by id and by name', async () => {
    const subscriber = await Subscriber.connect(url, `lwm2m/${ep('temp')}/#`);
    const sim = await simulator('temp');
    await sim.register();
    const first = await subscriber.waitFor((m) => m.topic === `lwm2m/${ep('temp')}/3303/0/5700`);
    expect(JSON.parse(first.payload)).toMatchObject({ value: 21.5, type: 'float', source: 'notify' });
    sim.setValue('/3303/0/5700', { type: 'float', value: 23.5 });
    const next = await subscriber.waitFor((m) => m.topic === `lwm2m/${ep('temp')}/3303/0/5700` && m.payload.includes('23.5'));
    const value = JSON.parse(next.payload) as { value: number; time: string };
    expect(value.value).toBe(23.5);
    expect(Date.parse(value.time)).not.toBeNaN();
    await subscriber.waitFor((m) => m.topic === `lwm2m/${ep('temp')}/temperature/0/sensor-value` && m.payload.includes('23.5'));
    await subscriber.close();
  });

  it('runs read, write and execute commands from MQTT and replies', async () => {
    const sim = await simulator('cmd');
    await sim.register();
    const replies = await Subscriber.connect(url, `lwm2m/${ep('cmd')}/cmd/reply`);
    const publisher = await mqtt.connectAsync(url);
    const command = async (body: unknown) => {
      const before = replies.messages.length;
      await publisher.publishAsync(`lwm2m/${ep('cmd')}/cmd`, typeof body === 'string' ? body : JSON.stringify(body));
      await replies.waitFor((m) => replies.messages.indexOf(m) >= before);
      return JSON.parse(replies.messages[before]?.payload ?? '{}') as Record<string, unknown>;
    };
    expect(await command({ id: '1', op: 'read', path: '/3/0/9' })).toMatchObject({ id: '1', ok: true, code: '2.05', content: { value: 95 } });
    expect(await command({ id: '2', op: 'write', path: '/3/0/14', value: '+02:00' })).toMatchObject({ id: '2', ok: true, code: '2.04' });
    expect(sim.getValue('/3/0/14')).toEqual({ type: 'string', value: '+02:00' });
    expect(await command({ id: '3', op: 'execute', path: '/3/0/4' })).toMatchObject({ id: '3', ok: true, code: '2.04' });
    expect(sim.executed).toEqual([{ path: '/3/0/4', args: '' }]);

    // Bad input gets an answer, never silence.
    expect(await command('{not json')).toMatchObject({ ok: false, error: 'the command is not JSON' });
    expect(await command({ id: '4', op: 'explode', path: '/3/0/9' })).toMatchObject({ id: '4', ok: false, code: 'bad_request' });
    expect(await command({ id: '5', op: 'read', path: '/3/zero' })).toMatchObject({ id: '5', ok: false, code: 'bad_request' });
    expect(await command({ id: '6', op: 'read', path: '/3/0/12345' })).toMatchObject({ id: '6', ok: false, code: '4.04' });
    expect(await command({ id: '7', op: 'write', path: '/3/0/14', value: 12 })).toMatchObject({ id: '7', ok: false, code: 'bad_request' });
    const stranger = await Subscriber.connect(url, 'lwm2m/nobody/cmd/reply');
    await publisher.publishAsync('lwm2m/nobody/cmd', JSON.stringify({ id: '8', op: 'read', path: '/3/0/9' }));
    expect(JSON.parse((await stranger.waitFor(() => true)).payload)).toMatchObject({ id: '8', ok: false, code: 'not_registered' });
    await Promise.all([replies.close(), publisher.endAsync(), stranger.close()]);
  });

  it.skipIf(!external)('answers an MQTT 5 request on its Response Topic with its Correlation Data', async () => {
    const sim = await simulator('v5');
    await sim.register();
    const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
    await client.subscribeAsync('replies/for-me', { qos: 0 });
    const reply = new Promise<{ payload: string; correlation?: string }>((resolve) =>
      client.on('message', (_topic, payload, packet) => resolve({ payload: payload.toString(), correlation: packet.properties?.correlationData?.toString() })),
    );
    await client.publishAsync(`lwm2m/${ep('v5')}/cmd`, JSON.stringify({ op: 'read', path: '/3303/0/5700' }), {
      properties: { responseTopic: 'replies/for-me', correlationData: Buffer.from('req-77') },
    });
    const { payload, correlation } = await reply;
    expect(correlation).toBe('req-77');
    expect(JSON.parse(payload)).toMatchObject({ ok: true, code: '2.05', content: { value: 21.5 } });
    await client.endAsync();
  });
});
