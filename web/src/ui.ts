/** Pieces every view uses: running an operation with its outcome in words, copying, object models. */
import { api, type ApiResult, type DeviceResult, type ObjectModelJson } from './api.js';
import { h } from './dom.js';
import { describeError, describeSuccess } from './format.js';

export interface View {
  readonly element: HTMLElement;
  /** Focused when the view opens, so keyboard and screen-reader users land on it. */
  readonly heading: HTMLElement;
  /** Once a second: countdowns and plots move on. */
  tick(): void;
  /** Another address within the same view (`/clients/ep/3303`): handled without rebuilding it. */
  navigate?(path: string): boolean;
  destroy(): void;
}

/** A status line next to an action: polite live region, success or error styling. */
export function statusLine(): HTMLElement {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function setStatus(status: HTMLElement, kind: 'ok' | 'error' | 'busy' | 'none', text: string): void {
  status.textContent = text;
  status.dataset['kind'] = kind;
  status.classList.toggle('visible', text !== '');
}

/**
 * Runs a device operation from a button: the button is busy meanwhile, the outcome lands in
 * `status` in words ("Not found: the device has no such object… (4.04)"). Returns the result
 * when it succeeded.
 */
export async function runOperation(
  button: HTMLButtonElement | undefined,
  status: HTMLElement,
  busyText: string,
  operation: () => Promise<ApiResult<DeviceResult>>,
  describe?: (result: DeviceResult) => string,
): Promise<DeviceResult | undefined> {
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  }
  setStatus(status, 'busy', busyText);
  try {
    const result = await operation();
    if (!result.ok) {
      setStatus(status, 'error', describeError(result.error));
      return undefined;
    }
    const extra = describe?.(result.body);
    setStatus(status, 'ok', describeSuccess(result.body.code, result.body.contentFormat) + (extra ? ` · ${extra}` : ''));
    return result.body;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}

export function button(label: string, onclick: (event: MouseEvent) => void, props: Record<string, unknown> = {}): HTMLButtonElement {
  return h('button', { type: 'button', onclick, ...props }, label);
}

/** The Clipboard API needs a secure context (https or localhost); on a plain-http LAN address, the old way. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // permission refused: try the old way
  }
  const focused = document.activeElement as HTMLElement | null;
  const area = h('textarea', { class: 'offscreen', value: text, readOnly: true, 'aria-hidden': 'true' });
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  focused?.focus();
  return copied;
}

export function copyButton(text: string, what: string): HTMLButtonElement {
  const copy: HTMLButtonElement = button(
    'Copy',
    () => {
      void copyText(text).then((done) => {
        copy.textContent = done ? 'Copied' : 'Copy failed';
        setTimeout(() => (copy.textContent = 'Copy'), 1500);
      });
    },
    { class: 'small', 'aria-label': `Copy ${what}`, title: `Copy ${text}` },
  );
  return copy;
}

const models = new Map<string, Promise<ObjectModelJson | undefined>>();

/** An object definition from the hub, fetched once per id and version; undefined when unknown. */
export function objectModel(id: number, version: string | undefined): Promise<ObjectModelJson | undefined> {
  const key = `${id}@${version ?? ''}`;
  let model = models.get(key);
  if (!model) {
    model = api.object(id, version).then((result) => (result.ok ? result.body : undefined));
    models.set(key, model);
  }
  return model;
}
