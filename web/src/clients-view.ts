/** Registered clients as a table that follows `/api/events`: no reload needed. */
import { coalesce, h, replaceChildren } from './dom.js';
import { formatAddress, formatDuration, formatTime } from './format.js';
import type { Change, ClientState, HubState } from './state.js';
import type { View } from './ui.js';

/** Rows drawn at most; the filter narrows a large fleet. */
const MAX_ROWS = 500;

export function clientsView(state: HubState, initialFilter = ''): View {
  const heading = h('h1', { tabindex: '-1' }, 'Clients');
  const filter = h('input', {
    id: 'client-filter',
    type: 'search',
    autocomplete: 'off',
    placeholder: 'endpoint name',
    value: initialFilter,
  });
  const count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted' });
  const table = h(
    'table',
    { class: 'clients' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Endpoint', 'Address', 'LwM2M', 'Binding', 'Queue mode', 'Lifetime', 'Expires in', 'Registered', 'Last update'].map((title) =>
          h('th', { scope: 'col' }, title),
        ),
      ),
    ),
    tbody,
  );
  const element = h(
    'section',
    { class: 'clients-view' },
    heading,
    h('div', { class: 'toolbar' }, h('label', { for: filter.id }, 'Filter by endpoint'), filter, count),
    h('div', { class: 'table-scroll' }, table),
    empty,
  );
  const expiries: { cell: HTMLElement; client: ClientState }[] = [];

  const render = coalesce(() => {
    const text = filter.value.trim().toLowerCase();
    const all = [...state.clients.values()];
    const shown = all.filter((c) => c.endpoint.toLowerCase().includes(text)).sort((a, b) => a.endpoint.localeCompare(b.endpoint));
    const noun = all.length === 1 ? 'client' : 'clients';
    count.textContent = text === '' ? `${all.length} ${noun}` : `${shown.length} of ${all.length} ${noun}`;
    if (shown.length > MAX_ROWS) count.textContent += ` (first ${MAX_ROWS} shown: filter to narrow)`;
    empty.textContent =
      all.length === 0
        ? 'No client is registered. Clients appear here as soon as they register.'
        : shown.length === 0
          ? 'No endpoint matches the filter.'
          : '';
    empty.hidden = empty.textContent === '';
    expiries.length = 0;
    replaceChildren(tbody, shown.slice(0, MAX_ROWS).map(row));
    tick();
  });

  function row(client: ClientState): HTMLTableRowElement {
    const address = formatAddress(client.address, client.port);
    const expiry = h('td', { 'data-label': 'Expires in', class: 'expiry' });
    expiries.push({ cell: expiry, client });
    const queue = client.queueMode
      ? h(
          'span',
          { class: `badge ${client.awake === undefined ? '' : client.awake ? 'awake' : 'sleeping'}` },
          client.awake === undefined ? 'queue mode' : client.awake ? 'awake' : 'sleeping',
          client.queued ? ` · ${client.queued} waiting` : '',
        )
      : h('span', { class: 'muted' }, 'no');
    return h(
      'tr',
      { 'data-endpoint': client.endpoint },
      h(
        'th',
        { scope: 'row', 'data-label': 'Endpoint' },
        h('a', { href: `#/clients/${encodeURIComponent(client.endpoint)}` }, client.endpoint),
      ),
      h('td', { 'data-label': 'Address' }, h('code', {}, address.text), ' ', h('span', { class: 'tag' }, address.family)),
      h('td', { 'data-label': 'LwM2M' }, client.lwm2mVersion),
      h('td', { 'data-label': 'Binding' }, client.binding),
      h('td', { 'data-label': 'Queue mode' }, queue),
      h('td', { 'data-label': 'Lifetime' }, formatDuration(client.lifetime)),
      expiry,
      h(
        'td',
        { 'data-label': 'Registered' },
        h('time', { datetime: client.registeredAt, title: client.registeredAt }, formatTime(client.registeredAt)),
      ),
      h(
        'td',
        { 'data-label': 'Last update' },
        h('time', { datetime: client.lastUpdate, title: client.lastUpdate }, formatTime(client.lastUpdate)),
      ),
    );
  }

  function tick(): void {
    const now = Date.now();
    for (const { cell, client } of expiries) {
      const left = (Date.parse(client.expiresAt) - now) / 1000;
      cell.textContent = left > 0 ? formatDuration(left) : 'due';
    }
  }

  filter.addEventListener('input', () => {
    // The filter lives in the address, so that back and reload keep it.
    history.replaceState(null, '', filter.value ? `#/?filter=${encodeURIComponent(filter.value)}` : '#/');
    render();
  });
  const unsubscribe = state.subscribe((change: Change) => {
    if (change.kind === 'clients') render();
  });
  render();
  return { element, heading, tick, destroy: unsubscribe };
}
