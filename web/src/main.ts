/**
 * The page: a header, one view at a time chosen by the address's hash (`#/`, `#/clients/{ep}`,
 * `#/events`), and one `/api/events` stream that keeps everything live.
 */
import { api, type NodeJson, type RegistrationJson, type ResourceType } from './api.js';
import { clientView } from './client-view.js';
import { clientsView } from './clients-view.js';
import { h, replaceChildren } from './dom.js';
import { eventsView } from './events-view.js';
import { formatAddress, formatDuration, formatValue } from './format.js';
import { HubState, resourcesOf } from './state.js';
import type { View } from './ui.js';

const state = new HubState();

// ---- the events stream -------------------------------------------------------------------------

interface EventJson {
  event: string;
  endpoint: string;
  time: string;
  registration?: RegistrationJson;
  path?: string;
  content?: NodeJson;
  observationId?: string;
  reason?: string;
  values?: { path: string; type: ResourceType; value: string | number | boolean | null; time?: number }[];
}

const EVENT_NAMES = [
  'registered',
  'updated',
  'deregistered',
  'expired',
  'notification',
  'send',
  'read',
  'observationCancelled',
  'awake',
  'sleeping',
] as const;

function summarise(values: { path: string; text: string }[]): string {
  const shown = values.slice(0, 3).map((v) => `${v.path} = ${v.text}`);
  return shown.join(', ') + (values.length > 3 ? ` and ${values.length - 3} more` : '');
}

function handleEvent(e: EventJson): void {
  const time = Date.parse(e.time) || Date.now();
  const registration = e.registration;
  switch (e.event) {
    case 'registered':
    case 'updated': {
      if (!registration) return;
      state.upsert(registration);
      const address = formatAddress(registration.address, registration.port).text;
      const text =
        e.event === 'registered'
          ? `from ${address} · LwM2M ${registration.lwm2mVersion} · binding ${registration.binding}${registration.queueMode ? ' (queue mode)' : ''} · lifetime ${formatDuration(registration.lifetime)}`
          : `from ${address} · lifetime ${formatDuration(registration.lifetime)}`;
      state.addLog(time, e.event, e.endpoint, text);
      return;
    }
    case 'deregistered':
    case 'expired':
      if (registration) state.remove(registration);
      state.addLog(time, e.event, e.endpoint, e.event === 'expired' ? 'its lifetime passed without an update' : 'the client left');
      return;
    case 'awake':
    case 'sleeping':
      if (registration) state.setAwake(registration, e.event === 'awake');
      state.addLog(time, e.event, e.endpoint, e.event === 'awake' ? 'listening (queue mode)' : 'not listening: requests wait in its queue');
      return;
    case 'notification':
    case 'read': {
      if (!e.content) return;
      state.recordNode(e.endpoint, e.content, time, e.event === 'read' ? 'read' : 'notify');
      const values = resourcesOf(e.content).map((r) => ({ path: r.path, text: formatValue(r.values ?? r.value, r.type) }));
      state.addLog(time, e.event, e.endpoint, summarise(values));
      return;
    }
    case 'send': {
      for (const v of e.values ?? [])
        state.recordValue(e.endpoint, v.path, v.value, v.type, v.time !== undefined ? v.time * 1000 : time, 'send');
      state.addLog(
        time,
        e.event,
        e.endpoint,
        summarise((e.values ?? []).map((v) => ({ path: v.path, text: formatValue(v.value, v.type) }))),
      );
      return;
    }
    case 'observationCancelled':
      if (e.observationId) state.forgetObservation(e.endpoint, e.observationId);
      state.addLog(time, 'cancelled', e.endpoint, `observation of ${e.path ?? '?'} ended: ${e.reason ?? ''}`);
      return;
  }
}

async function loadSnapshot(): Promise<void> {
  const requestedAt = performance.now();
  const clients = await api.clients();
  if (clients.ok) state.applySnapshot(clients.body, requestedAt);
  const presence = await api.presence();
  if (presence.ok) state.applyPresence(presence.body);
}

let lastEventId = '0';

function connect(): void {
  // lastEventId=0: the hub replays the events it still holds (--event-buffer, kept while a stream
  // is open and a minute after), so a reload starts with the log and the last values filled; on a
  // reconnect the browser sends Last-Event-ID.
  const source = new EventSource(`/api/events?lastEventId=${encodeURIComponent(lastEventId)}`);
  for (const name of EVENT_NAMES) {
    source.addEventListener(name, (message) => {
      const event = message as MessageEvent<string>;
      if (event.lastEventId) lastEventId = event.lastEventId;
      try {
        handleEvent(JSON.parse(event.data) as EventJson);
      } catch (error) {
        console.warn('unreadable event', name, error);
      }
    });
  }
  source.addEventListener('open', () => {
    const reconnected = state.connection === 'reconnecting';
    state.setConnection('live');
    // After a break (the hub restarted, the network dropped), the list may have changed unseen.
    if (reconnected) void loadSnapshot();
  });
  source.addEventListener('error', () => {
    state.setConnection('reconnecting');
    // The browser retries by itself unless the answer was not an event stream at all.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setTimeout(connect, 3000);
    }
  });
}

// ---- layout and routing ------------------------------------------------------------------------

const main = h('main', { id: 'main' });
const connection = h('span', { class: 'connection', role: 'status', 'aria-live': 'polite' });
const clientCount = h('span', { class: 'nav-count' });
const navClients = h('a', { href: '#/' }, 'Clients ', clientCount);
const navEvents = h('a', { href: '#/events' }, 'Events');
const header = h(
  'header',
  { class: 'top' },
  h('span', { class: 'brand' }, 'lwm2m-hub'),
  h('nav', { 'aria-label': 'Views' }, navClients, navEvents),
  connection,
);

let view: View | undefined;

function route(): void {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [pathPart = '/', queryPart = ''] = hash.split('?');
  if (view?.navigate?.(pathPart)) return;
  view?.destroy();
  const client = /^\/clients\/([^/]+)(?:\/(\d+))?$/.exec(pathPart);
  if (client) view = clientView(state, decodeURIComponent(client[1] as string), client[2] === undefined ? undefined : Number(client[2]));
  else if (pathPart === '/events') view = eventsView(state);
  else view = clientsView(state, new URLSearchParams(queryPart).get('filter') ?? '');
  for (const [link, active] of [
    [navClients, !client && pathPart !== '/events'],
    [navEvents, pathPart === '/events'],
  ] as const) {
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  replaceChildren(main, view.element);
  document.title = `${view.heading.textContent ?? ''} · lwm2m-hub`;
  view.heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function showConnection(): void {
  const words = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' } as const;
  connection.textContent = words[state.connection];
  connection.dataset['state'] = state.connection;
}

state.subscribe((change) => {
  if (change.kind === 'connection') showConnection();
  if (change.kind === 'clients') clientCount.textContent = `(${state.clients.size})`;
});

document.body.append(header, main);
showConnection();
window.addEventListener('hashchange', route);
route();
void loadSnapshot().then(connect);
setInterval(() => view?.tick(), 1000);
