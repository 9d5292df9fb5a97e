/**
 * Crash safety with a real process: a child writes registrations and prints
 * each one whose add() resolved; we SIGKILL it mid-stream, reopen the store and
 * find every acknowledged registration (and no acknowledged removal).
 *
 * SIGKILL does not lose what the kernel has accepted, so this proves "resolved
 * means written" and that replay copes with whatever a kill leaves; "written
 * means on the platter" is the fsync, counted in append-log-group-commit.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CorruptRecord } from '../../src/store/append-log.js';
import { FileRegistrationStore } from '../../src/store/file-store.js';
import { tempDir } from './support/registrations.js';

const BUILT_STORE = fileURLToPath(new URL('../../dist/store/file-store.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./support/crash-writer.mjs', import.meta.url));
const built = existsSync(BUILT_STORE);
if (!built) console.warn(`skipping the crash test: ${BUILT_STORE} is missing; run \`npm run build\` (npm test does) first`);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Runs the writer until it has acknowledged `acks` adds, then SIGKILLs it. */
async function runAndKill(dir: string, round: number, acks: number) {
  const child = spawn(process.execPath, [CHILD, BUILT_STORE, dir, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const added = new Set<string>();
  const removed = new Set<string>();
  const removing = new Set<string>();
  const corrupt: string[] = [];
  let stderr = '';
  let pending = '';
  let ready = -1;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  // Whole lines still in the pipe when it died count too (they were acknowledged); a cut-off last fragment does not.
  const drained = new Promise<void>((resolve) => child.stdout.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, ...rest] = line.split(' ');
        const value = rest.join(' ');
        if (kind === 'add') added.add(value);
        else if (kind === 'remove') removed.add(value);
        else if (kind === 'removing') removing.add(value);
        else if (kind === 'ready') ready = Number(value);
        else if (kind === 'corrupt') corrupt.push(value);
      }
      if (added.size >= acks && child.exitCode === null && !child.killed) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`writer exited before it was killed: ${stderr}`)));
  });
  expect(await exited).toBe('SIGKILL');
  await drained;
  return { added, removed, removing, ready, corrupt };
}

describe.skipIf(!built)('FileRegistrationStore killed with SIGKILL', () => {
  it('has every registration whose add() resolved after a reopen, over several crashes', { timeout: 60_000 }, async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const allAdded = new Set<string>();
    const allRemoved = new Set<string>();
    const allRemoving = new Set<string>();
    let countAfterReopen = 0;
    for (let round = 0; round < 4; round++) {
      const run = await runAndKill(dir, round, 1500 + round * 500);
      // The writer found what the previous check left.
      expect(run.ready).toBe(countAfterReopen);
      for (const id of run.added) allAdded.add(id);
      for (const id of run.removed) allRemoved.add(id);
      for (const id of run.removing) allRemoving.add(id);
      // Only the tail of an interrupted append may be damaged, never anything in the middle.
      for (const problem of run.corrupt) expect(problem).toMatch(/torn last record/);

      const problems: CorruptRecord[] = [];
      const store = await FileRegistrationStore.open(dir, { onCorrupt: (p) => problems.push(p), compaction: false });
      const missing: string[] = [];
      for (const id of allAdded) {
        const present = (await store.getById(id)) !== undefined;
        if (allRemoved.has(id)) expect(present, `removed ${id} came back`).toBe(false);
        // A removal under way when the writer died may have reached the disk or not.
        else if (!present && !allRemoving.has(id)) missing.push(id);
      }
      expect(missing, `acknowledged but lost after round ${round}`).toEqual([]);
      for (const problem of problems) expect(problem.reason).toMatch(/torn last record/);
      countAfterReopen = await store.count();
      await store.close();
    }
    expect(allAdded.size).toBeGreaterThan(1500);
  });
});
