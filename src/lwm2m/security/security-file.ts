/**
 * `--security-file`: PSK entries put into the security store at start, so that a
 * deployment can provision its devices from a file (a Kubernetes Secret, say)
 * rather than by REST. The file is a JSON array:
 *
 *     [
 *       { "endpoint": "node1", "identity": "node1-id", "key": "000102030405060708090a0b0c0d0e0f" },
 *       { "endpoint": "urn:imei:490154203237518", "identity": "meter-7", "key": "73656372657421" }
 *     ]
 *
 * An array rather than an object keyed by endpoint, because JSON.parse keeps
 * only the last of two equal keys: a duplicated endpoint would vanish without a
 * word, where in an array it is reported.
 *
 * Every problem stops the start with one message naming the file and the entry
 * (by position and endpoint), never the key.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { sameEntry, type SecurityStore } from '../../store/security-store.js';
import { describeIssue, endpointName, pskIdentity, pskKeyHex } from './psk-credentials.js';

export interface SecurityFileEntry {
  readonly endpoint: string;
  readonly identity: string;
  readonly key: Buffer;
}

const fileEntry = z.strictObject(
  { endpoint: endpointName, identity: pskIdentity, key: pskKeyHex },
  { error: 'must be an object {"endpoint": "…", "identity": "…", "key": "<hex>"}' },
);

/** Reads and checks the whole file before anything is stored: a bad file changes nothing. */
export async function readSecurityFile(file: string): Promise<SecurityFileEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read --security-file ${file}: ${(error as Error).message}`);
  }
  return parseSecurityFile(text, file);
}

export function parseSecurityFile(text: string, file: string): SecurityFileEntry[] {
  const fail = (message: string): never => {
    throw new Error(`invalid --security-file ${file}: ${message}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(json)) return fail('must be a JSON array of {"endpoint", "identity", "key"} objects');
  const entries: SecurityFileEntry[] = [];
  const byEndpoint = new Map<string, number>();
  const byIdentity = new Map<string, number>();
  json.forEach((raw: unknown, index) => {
    const position = index + 1;
    const named = typeof raw === 'object' && raw !== null && typeof (raw as { endpoint?: unknown }).endpoint === 'string';
    const where = `entry ${position}${named ? ` (endpoint ${JSON.stringify((raw as { endpoint: string }).endpoint)})` : ''}`;
    const parsed = fileEntry.safeParse(raw);
    if (!parsed.success) return fail(`${where}: ${describeIssue(parsed.error)}`);
    const entry = parsed.data;
    const sameEndpoint = byEndpoint.get(entry.endpoint);
    if (sameEndpoint !== undefined) return fail(`${where}: endpoint already listed in entry ${sameEndpoint}`);
    const sameIdentity = byIdentity.get(entry.identity);
    if (sameIdentity !== undefined)
      return fail(`${where}: identity ${JSON.stringify(entry.identity)} already used by entry ${sameIdentity} (identities are unique)`);
    byEndpoint.set(entry.endpoint, position);
    byIdentity.set(entry.identity, position);
    entries.push(entry);
  });
  return entries;
}

/**
 * Puts the entries into the store; those already there unchanged are left alone
 * (a file store's log does not grow at every restart). An identity bound in the
 * store to an endpoint that is not in the file (set by REST) is a conflict only
 * the operator can settle: the start fails, naming both, before anything changes.
 */
export async function applySecurityFile(
  entries: readonly SecurityFileEntry[],
  store: SecurityStore,
  file: string,
  logger?: Logger,
): Promise<void> {
  const inFile = new Set(entries.map((entry) => entry.endpoint));
  const changed: SecurityFileEntry[] = [];
  for (const entry of entries) {
    const current = await store.get(entry.endpoint);
    if (!current || !sameEntry(current, entry)) changed.push(entry);
  }
  // An identity may move between endpoints of the file (the file rebinds both); from any other endpoint it may not.
  const holders = new Set<string>();
  for (const entry of changed) {
    const holder = await store.findByIdentity(entry.identity);
    if (!holder || holder.endpoint === entry.endpoint) continue;
    if (!inFile.has(holder.endpoint)) {
      throw new Error(
        `--security-file ${file}: endpoint ${JSON.stringify(entry.endpoint)}: identity ${JSON.stringify(entry.identity)} is bound to ` +
          `endpoint ${JSON.stringify(holder.endpoint)} in the security store (DELETE /api/security/{endpoint} first)`,
      );
    }
    holders.add(holder.endpoint);
  }
  for (const endpoint of holders) await store.delete(endpoint);
  for (const entry of changed) {
    const result = await store.put(entry.endpoint, entry);
    // Only another instance sharing the store can have taken the identity since the check above.
    if (!result.ok)
      throw new Error(
        `--security-file ${file}: endpoint ${JSON.stringify(entry.endpoint)}: identity taken by ${JSON.stringify(result.identityOwner)} meanwhile`,
      );
  }
  logger?.info({ file, entries: entries.length, changed: changed.length }, 'security file loaded');
}
