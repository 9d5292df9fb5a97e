/** The built command as a user runs it: `node dist/cli.js` (npm test builds first). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

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

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops cleanly with exit code 0 on ${signal}`, async () => {
      const run = start(['--coap-port', '0', '--coaps-port', '0', '--http-port', '0', '--mqtt-port', '0', '--http-host', '127.0.0.1', '--mqtt-host', '127.0.0.1']);
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (run.output().stdout.includes('lwm2m-hub started')) {
            clearInterval(check);
            resolve();
          }
        }, 20);
        void run.exited.then(() => reject(new Error(`exited early: ${run.output().stderr}`)));
      });
      run.child.kill(signal);
      expect(await run.exited).toBe(0);
      expect(run.output().stdout).toContain('"msg":"stopped"');
    });
  }
});
