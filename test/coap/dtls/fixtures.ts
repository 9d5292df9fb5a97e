import { readFileSync } from 'node:fs';

/** A fixture of test/fixtures/dtls: `# key: value` header lines (values kept as text), then hex bytes with `#` comments. */
export function dtlsFixture(name: string): { fields: Record<string, string>; bytes: Buffer } {
  const text = readFileSync(new URL(`../../fixtures/dtls/${name}`, import.meta.url), 'utf8');
  const fields: Record<string, string> = {};
  let hex = '';
  for (const line of text.split('\n')) {
    const header = /^#\s*([\w ]+):\s*(.*)$/.exec(line);
    if (header) fields[header[1] as string] = (header[2] as string).trim();
    hex += line.replace(/#.*$/, '').replace(/\s+/g, '');
  }
  return { fields, bytes: Buffer.from(hex, 'hex') };
}

export function hexField(fields: Record<string, string>, name: string): Buffer {
  const value = fields[name];
  if (value === undefined) throw new Error(`fixture has no ${name}`);
  return Buffer.from(value, 'hex');
}
