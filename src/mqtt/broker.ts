/**
 * The embedded MQTT broker (Aedes on a TCP listener). The topic mapping of
 * registrations and values is the MQTT bridge's business, not the broker's.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  address(): { address: string; port: number };
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: { host: string; port: number; logger: Logger }): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  aedes.on('clientError', (client, error) => options.logger.debug({ err: error, client: client.id }, 'MQTT client error'));
  aedes.on('connectionError', (_client, error) => options.logger.debug({ err: error }, 'MQTT connection error'));
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    aedes,
    address() {
      const info = server.address() as AddressInfo;
      return { address: info.address, port: info.port };
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Connected clients would keep the listener open; Aedes closed them above.
      });
    },
  };
}
