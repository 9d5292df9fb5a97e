/** Registrations and temporary directories for the store tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Registration } from '../../../src/lwm2m/registration/registration.js';

/** A registration like those of the handler: realistic object links, epoch-ms times. */
export function makeRegistration(n: number, overrides: Partial<Registration> = {}): Registration {
  const now = 1_700_000_000_000 + n;
  return {
    id: `reg-${n.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    endpoint: `urn:imei:35${String(n).padStart(13, '0')}`,
    lifetime: 3600,
    lwm2mVersion: '1.1',
    binding: 'U',
    queueMode: true,
    address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    port: 5683 + (n % 1000),
    rootPath: '/',
    objectLinks: [
      { path: [1, 0], attributes: {} },
      { path: [3, 0], attributes: { ver: '1.1' } },
      { path: [3303, 0], attributes: { ver: '1.1', dim: '2' } },
      { path: [4], attributes: { obs: true } },
    ],
    supportedContentFormats: [60, 110, 112, 11542],
    additionalAttributes: { apn: 'iot.example' },
    registeredAt: now,
    lastUpdate: now,
    ...overrides,
  };
}

/** A fresh directory under the OS temp dir, and a function that removes it. */
export async function tempDir(prefix = 'lwm2m-hub-store-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Everything a store holds, sorted by id, for comparing two stores. */
export async function contents(store: { list(): AsyncIterable<Registration> }): Promise<Registration[]> {
  const all: Registration[] = [];
  for await (const registration of store.list()) all.push(registration);
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
