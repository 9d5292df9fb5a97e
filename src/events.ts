import type { Logger } from 'pino';
import type { Lwm2mRecord } from './codecs/senml/records.js';
import type { Registration } from './lwm2m/registration/registration.js';
import type { Lwm2mNode } from './model/node.js';
import type { Lwm2mPath } from './model/path.js';

/** Everything the LwM2M layer tells the rest of the hub (MQTT, REST, SSE). */
export interface HubEventMap {
  registered: { readonly registration: Registration; readonly replaced?: Registration };
  updated: { readonly registration: Registration; readonly previous: Registration };
  deregistered: { readonly registration: Registration };
  expired: { readonly registration: Registration };
  /** A value from an observation (RFC 7641 notification), the first response included. */
  notification: {
    readonly registration: Registration;
    readonly observationId: string;
    readonly path: Lwm2mPath;
    readonly node: Lwm2mNode;
    readonly contentFormat: number;
    /** Epoch ms at which the hub received it. */
    readonly time: number;
  };
  /** Values a client pushed with the LwM2M 1.1 Send operation (POST /dp). */
  send: { readonly registration: Registration; readonly records: readonly Lwm2mRecord[]; readonly time: number };
  /** A read answered by the device (so that MQTT can publish the latest value). */
  read: { readonly registration: Registration; readonly path: Lwm2mPath; readonly node: Lwm2mNode; readonly time: number };
  observationCancelled: { readonly registration: Registration; readonly observationId: string; readonly path: Lwm2mPath; readonly reason: string };
  /** Queue mode (LwM2M Core §6.5): the client is reachable now / no longer. */
  awake: { readonly registration: Registration };
  sleeping: { readonly registration: Registration };
}

export type HubEventName = keyof HubEventMap;
type Listener<K extends HubEventName> = (event: HubEventMap[K]) => void;

/**
 * A typed, synchronous event bus. A listener that throws is logged and does
 * not stop the others nor the code that emitted.
 */
export class EventBus {
  private readonly listeners = new Map<HubEventName, Set<Listener<never>>>();

  constructor(private readonly logger?: Logger) {}

  /** Returns a function that removes the listener. */
  on<K extends HubEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends HubEventName>(name: K, event: HubEventMap[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as Listener<K>)(event);
      } catch (error) {
        this.logger?.error({ err: error, event: name }, 'event listener failed');
      }
    }
  }
}
