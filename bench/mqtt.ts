/**
 * notify-mqtt: N simulated clients, each auto-observed, notify as fast as the hub
 * takes them; an MQTT subscriber on the embedded broker counts what arrives and
 * how long each value took from the simulated device's setValue to the subscriber.
 * Hub, clients and subscriber share one process: the figures are a floor.
 */
import mqtt from 'mqtt';
import { DEFAULT_CONFIG } from '../src/config.js';
import { startHub } from '../src/hub.js';
import { silentLogger } from '../src/log.js';
import { LwM2mSimulator } from '../test/support/simulator/index.js';

export interface MqttBenchResult {
  readonly clients: number;
  readonly seconds: number;
  readonly received: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export async function benchNotifyMqtt(clients = 1000, seconds = 10, progress: (line: string) => void = () => {}): Promise<MqttBenchResult> {
  const hub = await startHub(
    { ...DEFAULT_CONFIG, coapPort: 0, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', logLevel: 'silent', autoObserve: ['/3303/0/5700'] },
    silentLogger(),
  );
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqtt?.port}`);
  await subscriber.subscribeAsync('lwm2m/+/3303/0/5700', { qos: 0 });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  subscriber.on('message', (topic) => {
    received++;
    const endpoint = topic.split('/')[1] as string;
    const t0 = sentAt.get(endpoint);
    if (t0 !== undefined) {
      latencies.push(performance.now() - t0);
      sentAt.delete(endpoint);
    }
  });
  const sims: LwM2mSimulator[] = [];
  try {
    for (let i = 0; i < clients; i++) {
      const sim = await LwM2mSimulator.start({ endpoint: `mq-${i}`, serverPort: hub.coap.port, lwm2mVersion: '1.1' });
      sims.push(sim);
      await sim.register();
      if ((i + 1) % 250 === 0) progress(`  registered ${i + 1}/${clients}`);
    }
    // Wait for every auto-observation's first value.
    while (received < clients) await new Promise((r) => setTimeout(r, 20));
    progress(`  ${clients} observations live`);
    received = 0;
    latencies.length = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let round = 0;
    while (performance.now() < deadline) {
      round++;
      const roundStart = received;
      sims.forEach((sim, i) => {
        sentAt.set(`mq-${i}`, performance.now());
        sim.setValue('/3303/0/5700', { type: 'float', value: round + 0.25 });
      });
      // Closed loop: the next round starts when 95 % of this one arrived (or after 2 s).
      const roundDeadline = performance.now() + 2000;
      while (received - roundStart < clients * 0.95 && performance.now() < roundDeadline) await new Promise((r) => setTimeout(r, 1));
    }
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 200));
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    return { clients, seconds: elapsed, received, perSecond: received / elapsed, p50Ms: at(50), p99Ms: at(99), maxMs: latencies.at(-1) ?? 0 };
  } finally {
    await subscriber.endAsync();
    await Promise.all(sims.map((s) => s.stop()));
    await hub.stop();
  }
}

export function formatMqttResult(r: MqttBenchResult): string {
  return `notify-mqtt ${String(r.clients).padStart(5)} clients  ${Math.round(r.perSecond).toLocaleString('en-US').padStart(8)} notifications/s  (${r.received} in ${r.seconds.toFixed(1)} s)  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  max ${r.maxMs.toFixed(1)} ms`;
}
