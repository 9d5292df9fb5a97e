/**
 * Golden vectors of test/fixtures/<format>/: JSON text or hex text, after `#` comment
 * lines that name the source.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export interface Fixture {
  readonly name: string;
  readonly source: string;
  readonly bytes: Uint8Array;
}

function split(text: string): { source: string; body: string } {
  const lines = text.split('\n');
  const comments = lines.filter((line) => line.startsWith('#'));
  const body = lines.filter((line) => !line.startsWith('#')).join('\n');
  return { source: comments.map((line) => line.replace(/^#\s?/, '')).join(' '), body };
}

export function fixture(format: string, name: string): Fixture {
  const file = readdirSync(ROOT + format).find((entry) => entry.replace(/\.(json|hex)$/, '') === name);
  if (!file) throw new Error(`no fixture ${format}/${name}`);
  const { source, body } = split(readFileSync(ROOT + format + '/' + file, 'utf8'));
  if (!source.startsWith('source:')) throw new Error(`fixture ${format}/${file} does not name its source`);
  const bytes = file.endsWith('.hex') ? hex(body) : new TextEncoder().encode(body.trim());
  return { name, source, bytes };
}

export function allFixtures(format: string): Fixture[] {
  return readdirSync(ROOT + format)
    .filter((entry) => /\.(json|hex)$/.test(entry))
    .sort()
    .map((entry) => fixture(format, entry.replace(/\.(json|hex)$/, '')));
}

export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`not hex: ${text}`);
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function utf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}
