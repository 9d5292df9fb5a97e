/** The hub's REST API as the page uses it (README "REST API"); same origin only. */

export interface RegistrationJson {
  endpoint: string;
  registrationId: string;
  lifetime: number;
  lwm2mVersion: string;
  binding: string;
  queueMode: boolean;
  smsNumber?: string;
  address: string;
  port: number;
  /** Registered over DTLS. */
  secure?: boolean;
  rootPath: string;
  objectLinks: { path: string; attributes: Record<string, string | number | boolean> }[];
  supportedContentFormats: number[];
  registeredAt: string;
  lastUpdate: string;
  expiresAt: string;
}

export type ResourceType =
  'string' | 'integer' | 'unsignedInteger' | 'float' | 'boolean' | 'opaque' | 'time' | 'objlnk' | 'corelnk' | 'none' | 'unknown';

export interface ResourceModelJson {
  id: number;
  name: string;
  type: ResourceType;
  operations: '' | 'R' | 'W' | 'RW' | 'E';
  multiple: boolean;
  mandatory: boolean;
  units?: string;
  rangeEnumeration?: string;
  description?: string;
}

export interface ObjectModelJson {
  id: number;
  name: string;
  version: string;
  multiple: boolean;
  mandatory: boolean;
  description?: string;
  resources: ResourceModelJson[];
}

export type JsonScalar = string | number | boolean | null;

export interface ResourceJson {
  path: string;
  id: number;
  name?: string;
  type: ResourceType;
  units?: string;
  value?: JsonScalar;
  values?: Record<string, JsonScalar>;
}

export interface InstanceJson {
  path: string;
  id: number;
  resources: ResourceJson[];
}

export interface ObjectJson {
  path: string;
  id: number;
  name?: string;
  instances: InstanceJson[];
}

export type NodeJson = ObjectJson | InstanceJson | ResourceJson;

export interface DeviceResult {
  code: string;
  contentFormat?: number;
  content?: NodeJson;
  links?: { uri: string; attributes: Record<string, string | number | boolean> }[];
  location?: string;
  observationId?: string;
}

export interface ApiErrorJson {
  error: string;
  code: string;
  raw?: string;
}

export interface ResourceTopicsJson {
  path: string;
  topics: string[];
  retained: boolean;
}

export interface PresenceJson {
  endpoint: string;
  awake: boolean;
  queued: number;
}

export interface ObservationJson {
  id: string;
  path: string;
  paths?: string[];
}

export type ApiResult<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: ApiErrorJson };

async function call<T>(method: string, url: string, body?: { json: unknown } | { text: string }): Promise<ApiResult<T>> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body && 'json' in body) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(body.json);
  } else if (body) {
    init.headers = { ...init.headers, 'content-type': 'text/plain' };
    init.body = body.text;
  }
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch {
    return { ok: false, status: 0, error: { error: 'the hub did not answer', code: 'network' } };
  }
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    parsed = undefined;
  }
  if (response.ok) return { ok: true, status: response.status, body: parsed as T };
  const error = parsed as Partial<ApiErrorJson> | undefined;
  return {
    ok: false,
    status: response.status,
    error: {
      error: error?.error ?? `HTTP ${response.status}`,
      code: error?.code ?? String(response.status),
      ...(error?.raw ? { raw: error.raw } : {}),
    },
  };
}

const clientUrl = (endpoint: string, path = '') => `/api/clients/${encodeURIComponent(endpoint)}${path}`;

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return entries.length === 0 ? '' : '?' + new URLSearchParams(entries).toString();
}

export const api = {
  clients: () => call<RegistrationJson[]>('GET', '/api/clients'),
  presence: () => call<PresenceJson[]>('GET', '/api/presence'),
  object: (id: number, version: string | undefined) => call<ObjectModelJson>('GET', `/api/objects/${id}${query({ version })}`),
  topics: (endpoint: string, paths: readonly string[] = []) =>
    call<{ topics: ResourceTopicsJson[] }>(
      'GET',
      clientUrl(endpoint, '/topics') + (paths.length ? '?' + paths.map((p) => `path=${encodeURIComponent(p)}`).join('&') : ''),
    ),
  observations: (endpoint: string) => call<ObservationJson[]>('GET', clientUrl(endpoint, '/observations')),

  read: (endpoint: string, path: string, format?: string) => call<DeviceResult>('GET', clientUrl(endpoint, path) + query({ format })),
  discover: (endpoint: string, path: string) => call<DeviceResult>('GET', clientUrl(endpoint, `${path}/discover`)),
  write: (endpoint: string, path: string, body: unknown, format?: string) =>
    call<DeviceResult>('PUT', clientUrl(endpoint, path) + query({ format }), { json: body }),
  execute: (endpoint: string, path: string, args: string) => call<DeviceResult>('POST', clientUrl(endpoint, path), { text: args }),
  create: (endpoint: string, objectPath: string, body: unknown) =>
    call<DeviceResult>('POST', clientUrl(endpoint, objectPath), { json: body }),
  delete: (endpoint: string, path: string) => call<DeviceResult>('DELETE', clientUrl(endpoint, path)),
  observe: (endpoint: string, path: string, format?: string) =>
    call<DeviceResult>('POST', clientUrl(endpoint, `${path}/observe`) + query({ format })),
  cancelObservation: (endpoint: string, path: string) => call<DeviceResult>('DELETE', clientUrl(endpoint, `${path}/observe`)),
  writeAttributes: (endpoint: string, path: string, attributes: Record<string, string>) =>
    call<DeviceResult>('PUT', clientUrl(endpoint, `${path}/attributes`) + query(attributes)),
};
