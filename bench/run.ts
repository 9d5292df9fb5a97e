/**
 * `npm run bench [-- scenario …]`: prints one line of figures per scenario.
 * Scenarios: register, codecs, rest-read, notify-sse, store, notify-mqtt (default: all).
 */
import os from 'node:os';
import { benchTlv, formatResult } from './codecs.js';
import { benchNotifySse, benchRestRead, formatDeviceResult } from './device.js';
import { benchEcho, benchRegister, formatLoadResult } from './load.js';
import { benchNotifyMqtt, formatMqttResult } from './mqtt.js';
import { benchSenmlCbor } from './senml.js';
import { benchStores, formatStoreResult } from './store.js';

const scenarios: Record<string, () => Promise<string[]>> = {
  register: async () => {
    const ceiling = await benchEcho();
    const register = await benchRegister();
    // A register+deregister pair is two request/response exchanges.
    return [formatLoadResult(ceiling), formatLoadResult(register, ceiling, 2)];
  },
  codecs: async () => [...benchTlv(), ...benchSenmlCbor()].map(formatResult),
  'rest-read': async () => [formatDeviceResult(await benchRestRead())],
  'notify-sse': async () => [formatDeviceResult(await benchNotifySse())],
  store: async () => (await benchStores()).map(formatStoreResult),
  'notify-mqtt': async () => [formatMqttResult(await benchNotifyMqtt(1000, 10, (line) => console.log(line)))],
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(scenarios);
console.log(`# lwm2m-hub bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
for (const name of names) {
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`## ${name}`);
  for (const line of await scenario()) console.log(line);
}
