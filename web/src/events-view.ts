/** The events log: registrations, updates, deregistrations, expiries, values; newest first, bounded. */
import { coalesce, h, replaceChildren } from './dom.js';
import { formatTime } from './format.js';
import { MAX_LOG, type Change, type HubState } from './state.js';
import type { View } from './ui.js';

export interface EventList {
  readonly element: HTMLElement;
  refresh(): void;
}

/** The log as a list; `endpoint` narrows it to one client. */
export function eventList(state: HubState, options: { endpoint?: string; limit?: number; filter?: () => string }): EventList {
  const list = h('ol', { class: 'events', 'aria-label': 'Events, newest first' });
  const empty = h('p', { class: 'muted' }, 'No events yet.');
  const element = h('div', {}, list, empty);
  const refresh = coalesce(() => {
    const text = options.filter?.().trim().toLowerCase() ?? '';
    const entries = state.log
      .filter(
        (e) =>
          (options.endpoint === undefined || e.endpoint === options.endpoint) &&
          (text === '' || e.endpoint.toLowerCase().includes(text) || e.event.includes(text)),
      )
      .slice(0, options.limit ?? MAX_LOG);
    empty.hidden = entries.length > 0;
    replaceChildren(
      list,
      entries.map((entry) =>
        h(
          'li',
          { class: `event event-${entry.event}` },
          h('time', { datetime: new Date(entry.time).toISOString(), title: new Date(entry.time).toISOString() }, formatTime(entry.time)),
          h('span', { class: 'event-name' }, entry.event),
          options.endpoint === undefined
            ? h('a', { class: 'event-endpoint', href: `#/clients/${encodeURIComponent(entry.endpoint)}` }, entry.endpoint)
            : null,
          h('span', { class: 'event-text' }, entry.text),
        ),
      ),
    );
  });
  refresh();
  return { element, refresh };
}

export function eventsView(state: HubState): View {
  const heading = h('h1', { tabindex: '-1' }, 'Events');
  const filter = h('input', { id: 'event-filter', type: 'search', autocomplete: 'off', placeholder: 'endpoint or event' });
  const list = eventList(state, { filter: () => filter.value });
  filter.addEventListener('input', () => list.refresh());
  const element = h(
    'section',
    { class: 'events-view' },
    heading,
    h('p', { class: 'muted' }, `The last ${MAX_LOG} events the hub reported, newest first.`),
    h('div', { class: 'toolbar' }, h('label', { for: filter.id }, 'Filter'), filter),
    list.element,
  );
  const unsubscribe = state.subscribe((change: Change) => {
    if (change.kind === 'log') list.refresh();
  });
  return { element, heading, tick() {}, destroy: unsubscribe };
}
