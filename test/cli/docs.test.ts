/** The README and the Dockerfile are part of the product: keep them true. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envName, OPTIONS } from '../../src/config.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('README', () => {
  const readme = read('README.md');
  it('documents every option with its flag, variable and default', () => {
    for (const option of OPTIONS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`--${option.flag}\` |`));
      expect(row, `README row for --${option.flag}`).toBeDefined();
      expect(row).toContain(envName(option.flag));
      const shown = Array.isArray(option.default) ? option.default.join(',') : option.default;
      if (shown !== undefined && shown !== '') expect(row).toContain(`\`${String(shown)}\``);
    }
  });

  it('shows the quick start and the test command', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const instructions = lines.map((l) => l.split(/\s+/)[0]?.toUpperCase());

  it('builds in stages from node:20 (Debian bookworm, slim) and runs as a non-root user', () => {
    const bases = lines.filter((l) => l.startsWith('FROM '));
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base).toMatch(/^FROM (--platform=\S+ )?node:20-bookworm-slim\b/);
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    expect(instructions.lastIndexOf('USER')).toBeGreaterThan(instructions.lastIndexOf('FROM'));
  });

  it('exposes CoAP over UDP, MQTT and HTTP, and checks health', () => {
    expect(lines).toContain('EXPOSE 5683/udp 5684/udp 1883 8080');
    expect(lines.some((l) => l.startsWith('HEALTHCHECK') && l.includes('/healthz'))).toBe(true);
    expect(lines.at(-1)).toBe('ENTRYPOINT ["node", "dist/cli.js"]');
  });
});
