/** The built command as a user runs it: `node dist/cli.js` (npm test builds first). */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Mosquitto, MOSQUITTO } from '../support/mosquitto.js';
import { REDIS_SERVER, RedisServer } from '../support/redis-server.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const REGISTRY = fileURLToPath(new URL('../../../shared/lwm2m-registry/', import.meta.url));

function start(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('lwm2m-hub command', () => {
  it('exits non-zero with one clear line for a bad option value', async () => {
    const run = start(['--coap-port', '70000']);
    expect(await run.exited).toBe(2);
    expect(run.output().stderr.trim()).toBe('lwm2m-hub: invalid --coap-port: must be a port number from 0 to 65535 (got "70000")');
  });

  it('prints its options with --help', async () => {
    const run = start(['--help']);
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toContain('--coap-port');
  });

  // dist/cli.js is one bundled file; what only an option needs is loaded then (scripts/build-bundle.mjs).
  it.skipIf((!REDIS_SERVER || !MOSQUITTO) && !process.env.CI)('loads the parts that only an option needs: the Redis store, an external broker, extra object definitions', async () => {
    const redis = await RedisServer.start();
    const mosquitto = await Mosquitto.start();
    const objectsDir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-objects-'));
    copyFileSync(path.join(REGISTRY, '10.xml'), path.join(objectsDir, '10.xml'));
    try {
      const run = start([
        ...['--coap-port', '0', '--coaps-port', 'off', '--http-port', '0', '--http-host', '127.0.0.1'],
        ...['--store', 'redis', '--redis-url', redis.url, '--mqtt-url', mosquitto.url, '--objects-dir', objectsDir],
      ]);
      await whenStarted(run);
      const http = (JSON.parse(run.output().stdout.split('\n').find((l) => l.includes('lwm2m-hub started')) ?? '{}') as { http?: { port: number } }).http;
      const object = (await (await fetch(`http://127.0.0.1:${http?.port}/api/objects/10`)).json()) as { id: number; name: string };
      expect(object.id).toBe(10);
      const health = (await (await fetch(`http://127.0.0.1:${http?.port}/healthz`)).json()) as Record<string, unknown>;
      expect(JSON.stringify(health)).toContain('"connected":true');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output().stderr).toBe('');
    } finally {
      rmSync(objectsDir, { recursive: true, force: true });
      await Promise.all([redis.stop(), mosquitto.stop()]);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops cleanly with exit code 0 on ${signal}`, async () => {
      const run = start(['--coap-port', '0', '--coaps-port', '0', '--http-port', '0', '--mqtt-port', '0', '--http-host', '127.0.0.1', '--mqtt-host', '127.0.0.1']);
      await whenStarted(run);
      run.child.kill(signal);
      expect(await run.exited).toBe(0);
      expect(run.output().stdout).toContain('"msg":"stopped"');
    });
  }
});

function whenStarted(run: ReturnType<typeof start>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (run.output().stdout.includes('lwm2m-hub started')) {
        clearInterval(check);
        resolve();
      }
    }, 20);
    void run.exited.then(() => {
      clearInterval(check);
      reject(new Error(`exited early: ${run.output().stderr}`));
    });
  });
}
