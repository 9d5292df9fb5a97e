/**
 * What the page knows: registered clients, the last value of every resource it has seen,
 * short histories of numeric values for the plots, observations, and the events log. Fed by
 * REST snapshots and by `/api/events`; views subscribe to changes.
 */
import type { JsonScalar, NodeJson, ObservationJson, PresenceJson, RegistrationJson, ResourceJson, ResourceType } from './api.js';

export interface ClientState extends RegistrationJson {
  /** Queue mode (LwM2M Core §6.5): undefined until the hub said. */
  awake?: boolean;
  queued?: number;
}

export type ValueSource = 'read' | 'notify' | 'send' | 'write';

export interface LastValue {
  readonly value: JsonScalar | Record<string, JsonScalar>;
  readonly type: ResourceType;
  /** Epoch ms. */
  readonly time: number;
  readonly source: ValueSource;
}

export interface Point {
  readonly t: number;
  readonly v: number;
}

export interface LogEntry {
  readonly id: number;
  readonly time: number;
  readonly event: string;
  readonly endpoint: string;
  readonly text: string;
}

export type Change =
  | { readonly kind: 'clients' }
  | { readonly kind: 'client'; readonly endpoint: string }
  | { readonly kind: 'value'; readonly endpoint: string; readonly path: string }
  | { readonly kind: 'observations'; readonly endpoint: string }
  | { readonly kind: 'log' }
  | { readonly kind: 'connection' };

export type Connection = 'connecting' | 'live' | 'reconnecting';

/** The plots show the last minutes of values. */
export const PLOT_WINDOW_MS = 5 * 60_000;
const MAX_POINTS = 2000;
export const MAX_LOG = 300;
/** Registration ids seen deregistered or expired, so that a late snapshot does not bring them back. */
const MAX_TOMBSTONES = 5000;

const NUMERIC: ReadonlySet<string> = new Set(['integer', 'unsignedInteger', 'float']);

export const valueKey = (endpoint: string, path: string) => `${endpoint}\n${path}`;

/** Every resource (or resource instance) inside a node of the REST/SSE JSON. */
export function resourcesOf(node: NodeJson): ResourceJson[] {
  if ('instances' in node) return node.instances.flatMap((instance) => instance.resources);
  if ('resources' in node) return node.resources;
  return [node];
}

/** Whether registration `a` is at least as recent as `b` (events may arrive before or after a snapshot). */
function isNewer(a: RegistrationJson, b: RegistrationJson): boolean {
  if (a.registrationId !== b.registrationId) return Date.parse(a.registeredAt) >= Date.parse(b.registeredAt);
  return Date.parse(a.lastUpdate) >= Date.parse(b.lastUpdate);
}

export class HubState {
  readonly clients = new Map<string, ClientState>();
  readonly values = new Map<string, LastValue>();
  readonly series = new Map<string, Point[]>();
  /** endpoint → path → observation id. */
  readonly observations = new Map<string, Map<string, string>>();
  /** Newest first. */
  readonly log: LogEntry[] = [];
  connection: Connection = 'connecting';

  readonly #removed = new Set<string>();
  /** When an event last changed a client, to keep it over an older snapshot. */
  readonly #touched = new Map<string, number>();
  readonly #listeners = new Set<(change: Change) => void>();
  #logId = 0;

  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: Change): void {
    for (const listener of this.#listeners) listener(change);
  }

  setConnection(connection: Connection): void {
    this.connection = connection;
    this.#emit({ kind: 'connection' });
  }

  // ---- registrations -------------------------------------------------------------------------

  upsert(registration: RegistrationJson, fromEvent = true): void {
    if (this.#removed.has(registration.registrationId)) return;
    const current = this.clients.get(registration.endpoint);
    if (current && !isNewer(registration, current)) return;
    const keep = current && current.registrationId === registration.registrationId ? { awake: current.awake, queued: current.queued } : {};
    this.clients.set(registration.endpoint, { ...registration, ...keep });
    if (fromEvent) this.#touched.set(registration.endpoint, performance.now());
    this.#emit({ kind: 'client', endpoint: registration.endpoint });
    this.#emit({ kind: 'clients' });
  }

  remove(registration: RegistrationJson): void {
    this.#removed.add(registration.registrationId);
    if (this.#removed.size > MAX_TOMBSTONES) this.#removed.delete(this.#removed.values().next().value as string);
    const current = this.clients.get(registration.endpoint);
    this.#touched.set(registration.endpoint, performance.now());
    if (!current || current.registrationId !== registration.registrationId) return;
    this.clients.delete(registration.endpoint);
    this.observations.delete(registration.endpoint);
    this.#emit({ kind: 'client', endpoint: registration.endpoint });
    this.#emit({ kind: 'observations', endpoint: registration.endpoint });
    this.#emit({ kind: 'clients' });
  }

  /** `/api/clients` as fetched from `requestedAt` (performance.now()): clients an event touched since then stay as the event left them. */
  applySnapshot(registrations: readonly RegistrationJson[], requestedAt: number): void {
    const listed = new Set(registrations.map((r) => r.endpoint));
    for (const [endpoint] of this.clients) {
      if (!listed.has(endpoint) && (this.#touched.get(endpoint) ?? -Infinity) < requestedAt) this.clients.delete(endpoint);
    }
    for (const registration of registrations) this.upsert(registration, false);
    this.#emit({ kind: 'clients' });
  }

  applyPresence(presence: readonly PresenceJson[]): void {
    for (const { endpoint, awake, queued } of presence) {
      const client = this.clients.get(endpoint);
      if (!client) continue;
      client.awake = awake;
      client.queued = queued;
      this.#emit({ kind: 'client', endpoint });
    }
    this.#emit({ kind: 'clients' });
  }

  setAwake(registration: RegistrationJson, awake: boolean): void {
    const client = this.clients.get(registration.endpoint);
    if (!client || client.registrationId !== registration.registrationId) return;
    client.awake = awake;
    if (awake) client.queued = 0;
    this.#emit({ kind: 'client', endpoint: registration.endpoint });
    this.#emit({ kind: 'clients' });
  }

  // ---- values --------------------------------------------------------------------------------

  recordValue(endpoint: string, path: string, value: LastValue['value'], type: ResourceType, time: number, source: ValueSource): void {
    const key = valueKey(endpoint, path);
    this.values.set(key, { value, type, time, source });
    const numeric = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC.has(type) ? Number(value) : NaN;
    if (NUMERIC.has(type) && Number.isFinite(numeric)) {
      let points = this.series.get(key);
      if (!points) this.series.set(key, (points = []));
      // In time order: a read answer is timed by this browser's clock, events by the hub's.
      let at = points.length;
      while (at > 0 && (points[at - 1] as Point).t > time) at--;
      points.splice(at, 0, { t: time, v: numeric });
      const horizon = Date.now() - 2 * PLOT_WINDOW_MS;
      while (points.length > MAX_POINTS || ((points[0]?.t ?? Infinity) < horizon && points.length > 2)) points.shift();
    }
    this.#emit({ kind: 'value', endpoint, path });
  }

  recordNode(endpoint: string, node: NodeJson, time: number, source: ValueSource): number {
    const resources = resourcesOf(node);
    for (const resource of resources) {
      const value = resource.values ?? resource.value ?? null;
      this.recordValue(endpoint, resource.path, value, resource.type, time, source);
    }
    return resources.length;
  }

  // ---- observations --------------------------------------------------------------------------

  setObservations(endpoint: string, observations: readonly ObservationJson[]): void {
    this.observations.set(endpoint, new Map(observations.filter((o) => !o.paths).map((o) => [o.path, o.id])));
    this.#emit({ kind: 'observations', endpoint });
  }

  setObserved(endpoint: string, path: string, id: string | undefined): void {
    let paths = this.observations.get(endpoint);
    if (!paths) this.observations.set(endpoint, (paths = new Map()));
    if (id === undefined) paths.delete(path);
    else paths.set(path, id);
    this.#emit({ kind: 'observations', endpoint });
  }

  forgetObservation(endpoint: string, observationId: string): void {
    const paths = this.observations.get(endpoint);
    if (!paths) return;
    for (const [path, id] of paths) if (id === observationId) paths.delete(path);
    this.#emit({ kind: 'observations', endpoint });
  }

  /** Whether `path` or an object or instance above it is observed. */
  isObserved(endpoint: string, path: string): boolean {
    const paths = this.observations.get(endpoint);
    if (!paths) return false;
    for (const observed of paths.keys()) if (path === observed || path.startsWith(observed + '/')) return true;
    return false;
  }

  // ---- events log ----------------------------------------------------------------------------

  addLog(time: number, event: string, endpoint: string, text: string): void {
    this.log.unshift({ id: ++this.#logId, time, event, endpoint, text });
    if (this.log.length > MAX_LOG) this.log.length = MAX_LOG;
    this.#emit({ kind: 'log' });
  }
}
