/**
 * Continuity across restarts with the file store: 200 simulated clients register
 * and are observed, the hub process dies (SIGKILL, then SIGTERM), a new process on
 * the same data directory carries on without any client registering again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { RegistrationJson } from '../../src/lwm2m/registration/registration.js';
import { freeTcpPort, freeUdpPort, HubProcess } from '../support/hub-process.js';
import { LwM2mSimulator } from '../support/simulator/index.js';

const CLIENTS = 200;

describe.each(['SIGKILL', 'SIGTERM'] as const)('restart after %s with the file store', (signal) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-restart-'));
  const sims: LwM2mSimulator[] = [];
  let hub: HubProcess | undefined;
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await Promise.all(sims.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every registration, observation and retained value; old ids update, notifications reach MQTT', async () => {
    const [coapPort, httpPort, mqttPort] = [await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
    const args = ['--data-dir', dataDir, '--coap-port', String(coapPort), '--http-port', String(httpPort), '--http-host', '127.0.0.1', '--mqtt-port', String(mqttPort), '--mqtt-host', '127.0.0.1', '--auto-observe', '/3303/0/5700'];
    hub = await HubProcess.start(args);
    const values = new Map<string, number>();
    const subscribe = async () => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
      client.on('message', (topic, payload) => values.set(topic.split('/')[1] as string, (JSON.parse(payload.toString()) as { value: number }).value));
      await client.subscribeAsync('lwm2m/+/3303/0/5700');
      return client;
    };
    let subscriber = await subscribe();
    for (let i = 0; i < CLIENTS; i++) {
      const sim = await LwM2mSimulator.start({ endpoint: `restart-${signal}-${i}`, serverPort: coapPort });
      sims.push(sim);
      expect((await sim.register()).code).toBe('2.01');
    }
    // Every auto-observation answered (and persisted: the first value is published after the observation is durable).
    const deadline = Date.now() + 20_000;
    while (values.size < CLIENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(values.size).toBe(CLIENTS);

    await subscriber.endAsync();
    // Retained values are flushed once a second (src/mqtt/retained-store.ts): let one flush pass.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await hub.stop(signal)).toBe(signal === 'SIGTERM' ? 0 : null);
    hub = await HubProcess.start(args);
    expect(hub.log).toContain('state restored');

    const listed = (await (await fetch(`http://127.0.0.1:${httpPort}/api/clients`)).json()) as RegistrationJson[];
    expect(listed.filter((c) => c.endpoint.startsWith(`restart-${signal}-`)).length).toBe(CLIENTS);

    // A subscriber after the restart gets the last known values, retained, before any new notification.
    values.clear();
    subscriber = await subscribe();
    const retainedBy = Date.now() + 10_000;
    while (values.size < CLIENTS && Date.now() < retainedBy) await new Promise((r) => setTimeout(r, 20));
    expect([...values.values()].filter((v) => v === 21.5).length).toBe(CLIENTS);

    // The retained registrations are back too: rebuilt from the registration store, not from the retained log.
    const registrations = new Map<string, string>();
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
    watcher.on('message', (topic, payload) => {
      if (topic.startsWith(`lwm2m/restart-${signal}-`)) registrations.set(topic, payload.toString());
    });
    await watcher.subscribeAsync(`lwm2m/+/registration`);
    const registrationsBy = Date.now() + 10_000;
    while (registrations.size < CLIENTS && Date.now() < registrationsBy) await new Promise((r) => setTimeout(r, 20));
    expect([...registrations.values()].filter((p) => (JSON.parse(p) as RegistrationJson).endpoint.startsWith(`restart-${signal}-`)).length).toBe(CLIENTS);
    await watcher.endAsync();
    values.clear();
    for (const sim of sims) sim.setValue('/3303/0/5700', { type: 'float', value: 30.5 });
    const after = Date.now() + 20_000;
    while ([...values.values()].filter((v) => v === 30.5).length < CLIENTS && Date.now() < after) await new Promise((r) => setTimeout(r, 20));
    expect([...values.values()].filter((v) => v === 30.5).length).toBe(CLIENTS);

    for (const sim of sims.slice(0, 20)) expect(await sim.update()).toBe('2.04');
    await subscriber.endAsync();
  }, 90_000);
});
