import type { Logger } from 'pino';
import type { Registration } from './lwm2m/registration/registration.js';

/** Everything the LwM2M layer tells the rest of the hub (MQTT, REST, SSE). */
export interface HubEventMap {
  registered: { readonly registration: Registration; readonly replaced?: Registration };
  updated: { readonly registration: Registration; readonly previous: Registration };
  deregistered: { readonly registration: Registration };
  expired: { readonly registration: Registration };
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
