/**
 * The bench must not rot: every scenario runs once with tiny N. No figure is
 * checked (tests never assert speed); only that each scenario completes and prints.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run bench', () => {
  it('runs every scenario with tiny N', async () => {
    await run('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', 'dist-bench'], { cwd: root, timeout: 170_000 });
    const { stdout } = await run(process.execPath, ['--expose-gc', 'dist-bench/bench/run.js', '--quick', 'drift', 'register', 'update', 'read', 'notify', 'scale', 'codecs', 'notify-sse', 'store', 'blockwise', 'dtls'], {
      cwd: root,
      timeout: 170_000,
    });
    for (const scenario of ['drift', 'register', 'update', 'read', 'notify', 'scale', 'codecs', 'notify-sse', 'store', 'blockwise', 'dtls']) expect(stdout).toContain(`## ${scenario}`);
    expect(stdout).toMatch(/drift .* slices of 250 ms: p10 \d+ %, median \d+ %/);
    expect(stdout).toMatch(/DTLS handshakes .* \/s/);
    expect(stdout).toMatch(/register\+deregister pairs .* \/s .* hub heap [\d.]+ KB each/);
    expect(stdout).toMatch(/bare CoAP responder pairs .* \/s/);
    expect(stdout).toMatch(/bursts, QoS 0 .* notifications\/s .* hub heap [\d.]+ KB a notification .* % of the ceiling/);
    expect(stdout).toMatch(/% of the ceiling/);
    expect(stdout).toMatch(/echo, answers at once .* \/s/);
    expect(stdout).toMatch(/echo, answers batched .* \/s/);
    expect(stdout).toMatch(/register round by round, as a share of the same round's ceiling: median \d+ %/);
    expect(stdout).toMatch(/steady QoS 0 round by round: p99 [\d.]+ ms \(median [\d.]+ ms\)/);
  }, 360_000);
});
