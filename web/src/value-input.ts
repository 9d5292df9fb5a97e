/** Inputs that fit a resource's type, each checked by validate.ts before anything is sent. */
import type { JsonScalar, ResourceType } from './api.js';
import { h } from './dom.js';
import { TYPE_NAMES } from './format.js';
import { parseValue, type OpaqueEncoding, type Parsed } from './validate.js';

export interface ValueField {
  readonly element: HTMLElement;
  /** The JSON value, and the type to write it as (chosen by the person when the model has none). */
  read(): Parsed<{ value: JsonScalar; type: ResourceType }>;
  focus(): void;
}

let nextId = 0;
export const uniqueId = (prefix: string) => `${prefix}-${++nextId}`;

const WRITABLE_TYPES: readonly ResourceType[] = [
  'string',
  'integer',
  'unsignedInteger',
  'float',
  'boolean',
  'opaque',
  'time',
  'objlnk',
  'corelnk',
];

/** A labelled input for one value of `type`; `unknown` (no object model) lets the person pick the type. */
export function valueField(type: ResourceType, label: string, initial?: JsonScalar): ValueField {
  if (type === 'unknown') return untypedField(label);
  const id = uniqueId('value');
  const input = inputFor(type, id, initial);
  let encoding: HTMLSelectElement | undefined;
  const parts: HTMLElement[] = [h('label', { for: id }, label), input];
  if (type === 'opaque') {
    encoding = h(
      'select',
      { 'aria-label': `${label}: encoding` },
      h('option', { value: 'hex' }, 'hex'),
      h('option', { value: 'base64' }, 'base64'),
    );
    parts.push(encoding);
  }
  return {
    element: h('span', { class: 'field' }, parts),
    read: () => {
      const parsed = parseValue(type, input.value, (encoding?.value ?? 'hex') as OpaqueEncoding);
      return parsed.ok ? { ok: true, value: { value: parsed.value, type } } : parsed;
    },
    focus: () => input.focus(),
  };
}

function untypedField(label: string): ValueField {
  const typeId = uniqueId('type');
  const select = h('select', { id: typeId }, ...WRITABLE_TYPES.map((t) => h('option', { value: t }, TYPE_NAMES[t] ?? t)));
  const holder = h('span', { class: 'field' });
  let inner = valueField('string', label);
  const rebuild = () => {
    inner = valueField(select.value as ResourceType, label);
    holder.replaceChildren(h('label', { for: typeId }, 'Type'), select, inner.element);
  };
  select.addEventListener('change', rebuild);
  rebuild();
  return { element: holder, read: () => inner.read(), focus: () => select.focus() };
}

function inputFor(type: ResourceType, id: string, initial: JsonScalar | undefined): HTMLInputElement | HTMLSelectElement {
  switch (type) {
    case 'boolean':
      return h(
        'select',
        { id },
        h('option', { value: 'true', selected: initial === true }, 'true'),
        h('option', { value: 'false', selected: initial === false }, 'false'),
      );
    case 'integer':
    case 'unsignedInteger':
      // Text, not type=number: the browser would swallow a wrong entry instead of letting us explain it.
      return h('input', { id, type: 'text', inputMode: 'numeric', autocomplete: 'off', placeholder: '42', value: initial ?? '' });
    case 'float':
      return h('input', { id, type: 'text', inputMode: 'decimal', autocomplete: 'off', placeholder: '21.5', value: initial ?? '' });
    case 'time':
      return h('input', { id, type: 'datetime-local', step: '1', value: typeof initial === 'string' ? localDateTime(initial) : '' });
    case 'objlnk':
      return h('input', { id, type: 'text', autocomplete: 'off', placeholder: '3:0', value: initial ?? '' });
    case 'opaque':
      return h('input', { id, type: 'text', autocomplete: 'off', placeholder: '01 ff 3a', value: '' });
    default:
      return h('input', { id, type: 'text', autocomplete: 'off', value: initial ?? '' });
  }
}

/** ISO 8601 → the `YYYY-MM-DDTHH:MM:SS` local time a datetime-local input shows. */
function localDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 19);
}
