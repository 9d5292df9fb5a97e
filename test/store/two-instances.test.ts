/**
 * Two hub instances sharing one Redis store, each on its own UDP port, both
 * publishing to one external Mosquitto. A client registered on A is seen and read
 * through B; a notification that reaches A is published to MQTT once.
 *
 * The trade-off this shows: B reaches the client by sending from B's own socket.
 * Like Wakaama and Contiki clients, the simulator only listens to the address and
 * port it registered to, so with each instance on its own port B's read times out:
 * that is the failure mode, shown here on purpose. In production the instances
 * share one address (a UDP load-balancer address, as a Kubernetes Service gives),
 * and B's request leaves from the address the client knows.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { httpUrl, startTestHub } from '../support/hub.js';
import { Mosquitto, MOSQUITTO } from '../support/mosquitto.js';
import { REDIS_SERVER, RedisServer } from '../support/redis-server.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

const available = (REDIS_SERVER !== undefined && MOSQUITTO !== undefined) || process.env['CI'] !== undefined;

describe.skipIf(!available)('two instances on one Redis store', () => {
  let redis: RedisServer;
  let broker: Mosquitto;
  let a: Hub;
  let b: Hub;
  let sim: LwM2mSimulator;

  beforeAll(async () => {
    redis = await RedisServer.start();
    broker = await Mosquitto.start();
    const shared = { store: 'redis' as const, redisUrl: redis.url, mqttUrl: broker.url, expiryGrace: 0.2 };
    a = await startTestHub(shared);
    b = await startTestHub(shared);
    sim = await LwM2mSimulator.start({ endpoint: 'shared-node', serverPort: a.coap.port });
    expect((await sim.register()).code).toBe('2.01');
  });
  afterAll(async () => {
    await sim?.stop();
    await a?.stop();
    await b?.stop();
    await broker?.stop();
    await redis?.stop();
  });

  it('lists on B a client registered on A; A reads it, B times out from its other port', async () => {
    const listed = (await (await fetch(httpUrl(b, '/api/clients/shared-node'))).json()) as RegistrationJson;
    expect(listed).toMatchObject({ endpoint: 'shared-node', port: sim.port });
    const viaA = await fetch(httpUrl(a, '/api/clients/shared-node/3303/0/5700'));
    expect(((await viaA.json()) as { content: { value: number } }).content.value).toBe(21.5);
    const viaB = await fetch(httpUrl(b, '/api/clients/shared-node/3303/0/5700?timeout=1'));
    expect(viaB.status).toBe(504);
    expect(await viaB.json()).toMatchObject({ code: 'timeout' });
  });

  it('publishes a notification that reaches A to MQTT once', async () => {
    const subscriber = await mqtt.connectAsync(broker.url);
    const seen: number[] = [];
    subscriber.on('message', (_topic, payload) => seen.push((JSON.parse(payload.toString()) as { value: number }).value));
    await subscriber.subscribeAsync('lwm2m/shared-node/3303/0/5700');
    expect((await fetch(httpUrl(a, '/api/clients/shared-node/3303/0/5700/observe'), { method: 'POST' })).status).toBe(200);
    sim.setValue('/3303/0/5700', { type: 'float', value: 33.25 });
    const deadline = Date.now() + 5000;
    while (!seen.includes(33.25) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((v) => v === 33.25)).toEqual([33.25]);
    await subscriber.endAsync();
  });

  it('expires a registration once, whichever instance claims it', async () => {
    const expiredOn: string[] = [];
    a.events.on('expired', (e) => e.registration.endpoint === 'short-shared' && expiredOn.push('A'));
    b.events.on('expired', (e) => e.registration.endpoint === 'short-shared' && expiredOn.push('B'));
    const short = await LwM2mSimulator.start({ endpoint: 'short-shared', serverPort: b.coap.port, lifetime: 1 });
    await short.register();
    const deadline = Date.now() + 5000;
    while (expiredOn.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1200));
    expect(expiredOn).toHaveLength(1);
    expect((await fetch(httpUrl(a, '/api/clients/short-shared'))).status).toBe(404);
    await short.stop();
  });
});
