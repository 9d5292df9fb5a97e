/**
 * Queue mode (LwM2M Core §6.5, Transport §6.6): a client registered with `b=UQ`
 * (1.0) or `Q` (1.1+) listens only for a while after it spoke. Requests made
 * while it sleeps wait in a bounded queue, oldest first, and leave when it next
 * registers, updates or sends.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../../events.js';
import { Lwm2mRequestError } from '../errors.js';
import type { Registration } from '../registration/registration.js';

export interface PresenceServiceOptions {
  readonly events: EventBus;
  readonly logger: Logger;
  /** How long a queue-mode client stays reachable after a message from it (default MAX_TRANSMIT_WAIT, 93 s). */
  readonly awakeWindowMs: number;
  /** Requests kept per sleeping client; when full, the oldest is rejected. */
  readonly queueSize: number;
  readonly now?: () => number;
}

interface Waiting {
  readonly run: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface ClientPresence {
  registration: Registration;
  awakeUntil: number;
  /** Whether we last announced it awake: `awake`/`sleeping` events fire on changes only. */
  announcedAwake: boolean;
  sleepTimer: NodeJS.Timeout | undefined;
  readonly queue: Waiting[];
  flushing: boolean;
}

export class PresenceService {
  private readonly clients = new Map<string, ClientPresence>();
  private readonly now: () => number;

  constructor(private readonly options: PresenceServiceOptions) {
    this.now = options.now ?? Date.now;
    const { events } = options;
    events.on('registered', ({ registration, replaced }) => {
      if (replaced) this.forget(replaced, 'the client registered again');
      this.markAwake(registration);
    });
    events.on('updated', ({ registration }) => this.markAwake(registration));
    events.on('send', ({ registration }) => this.markAwake(registration));
    events.on('notification', ({ registration }) => this.markAwake(registration));
    events.on('deregistered', ({ registration }) => this.forget(registration, 'the client deregistered'));
    events.on('expired', ({ registration }) => this.forget(registration, 'the registration expired'));
  }

  isAwake(registration: Registration): boolean {
    if (!registration.queueMode) return true;
    const presence = this.clients.get(registration.endpoint);
    return presence !== undefined && presence.registration.id === registration.id && this.now() < presence.awakeUntil;
  }

  queueLength(endpoint: string): number {
    return this.clients.get(endpoint)?.queue.length ?? 0;
  }

  /** Any message from the client proves it listens: open the window and send what waited. */
  markAwake(registration: Registration): void {
    if (!registration.queueMode) return;
    const presence = this.presenceOf(registration);
    presence.awakeUntil = this.now() + this.options.awakeWindowMs;
    clearTimeout(presence.sleepTimer);
    presence.sleepTimer = setTimeout(() => this.markSleeping(presence.registration), this.options.awakeWindowMs).unref();
    if (!presence.announcedAwake) {
      presence.announcedAwake = true;
      this.options.events.emit('awake', { registration: presence.registration });
    }
    void this.flush(presence);
  }

  /** The window closed, or a request went unanswered: the client is asleep until it speaks again. */
  markSleeping(registration: Registration): void {
    if (!registration.queueMode) return;
    const presence = this.presenceOf(registration);
    clearTimeout(presence.sleepTimer);
    presence.sleepTimer = undefined;
    presence.awakeUntil = 0;
    if (presence.announcedAwake) {
      presence.announcedAwake = false;
      this.options.events.emit('sleeping', { registration: presence.registration });
    }
  }

  /** Runs the request now if the client listens, else when it next wakes. */
  schedule<T>(registration: Registration, run: () => Promise<T>): Promise<T> {
    if (!registration.queueMode) return run();
    const presence = this.presenceOf(registration);
    return new Promise<T>((resolve, reject) => {
      presence.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (presence.queue.length > this.options.queueSize) {
        const dropped = presence.queue.shift() as Waiting;
        dropped.reject(
          new Lwm2mRequestError('sleeping', registration.endpoint, `client is sleeping and its queue of ${this.options.queueSize} requests is full; the oldest was dropped`),
        );
      }
      if (this.isAwake(presence.registration)) void this.flush(presence);
    });
  }

  stop(): void {
    for (const presence of this.clients.values()) {
      clearTimeout(presence.sleepTimer);
      for (const waiting of presence.queue.splice(0)) waiting.reject(new Lwm2mRequestError('stopped', presence.registration.endpoint, 'server stopping'));
    }
    this.clients.clear();
  }

  /** One request at a time, in order, while the client stays awake. */
  private async flush(presence: ClientPresence): Promise<void> {
    if (presence.flushing) return;
    presence.flushing = true;
    try {
      while (presence.queue.length > 0 && this.isAwake(presence.registration)) {
        const next = presence.queue.shift() as Waiting;
        await next.run().then(next.resolve, next.reject);
      }
    } finally {
      presence.flushing = false;
    }
  }

  private presenceOf(registration: Registration): ClientPresence {
    let presence = this.clients.get(registration.endpoint);
    if (!presence || presence.registration.id !== registration.id) {
      presence = { registration, awakeUntil: 0, announcedAwake: false, sleepTimer: undefined, queue: presence?.queue ?? [], flushing: false };
      this.clients.set(registration.endpoint, presence);
    } else {
      presence.registration = registration;
    }
    return presence;
  }

  private forget(registration: Registration, reason: string): void {
    const presence = this.clients.get(registration.endpoint);
    if (!presence || presence.registration.id !== registration.id) return;
    clearTimeout(presence.sleepTimer);
    this.clients.delete(registration.endpoint);
    for (const waiting of presence.queue.splice(0)) waiting.reject(new Lwm2mRequestError('not_registered', registration.endpoint, `request dropped: ${reason}`));
  }
}
