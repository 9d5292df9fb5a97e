import { DEFAULT_CONFIG, type HubConfig } from '../../src/config.js';
import { startHub, type Hub } from '../../src/hub.js';
import { silentLogger } from '../../src/log.js';

/** A hub on ephemeral ports of every listener, on loopback, quiet; otherwise the defaults (tests and benches alike). */
export async function startTestHub(overrides: Partial<HubConfig> = {}): Promise<Hub> {
  return startHub(
    {
      ...DEFAULT_CONFIG,
      coapPort: 0,
      coapsPort: 0,
      httpPort: 0,
      mqttPort: 0,
      httpHost: '127.0.0.1',
      mqttHost: '127.0.0.1',
      logLevel: 'silent',
      ...overrides,
    },
    silentLogger(),
  );
}

export function httpUrl(hub: Hub, path: string): string {
  return `http://127.0.0.1:${hub.http.port}${path}`;
}

/** A REST request to `hub`: an object body goes as JSON, a string as text/plain; the answer's status and JSON body. */
export async function restRequest(hub: Hub, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const init: RequestInit = { method };
  if (typeof body === 'string') init.headers = { 'content-type': 'text/plain' };
  else if (body !== undefined) init.headers = { 'content-type': 'application/json' };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(httpUrl(hub, path), init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
