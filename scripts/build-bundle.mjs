#!/usr/bin/env node
/**
 * Turns dist/cli.js (tsc's output, the command users run) into the whole server in one
 * file: esbuild bundles it with its dependencies. Why: a restart is a service outage for
 * every device, and Node spends ~0.6 s resolving, reading and linking the ~400 modules of
 * the unbundled server before it can open the store; one file loads in about half of that
 * (figures in bench/README.md, `scale`).
 *
 * What the server imports only when an option asks for it (the Redis store, the external
 * broker's client, the DDF parser for --objects-dir) goes into dist/chunks/, loaded then;
 * ioredis, mqtt and fast-xml-parser themselves stay in node_modules.
 * The other files tsc wrote stay in dist/ for the bench and for anyone importing a module.
 *
 * Everything is written to a temporary folder and renamed into place, chunks first and
 * dist/cli.js last, so that a hub starting during a rebuild never loads half a file.
 * `--quiet` prints nothing.
 */
import { build } from 'esbuild';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const entry = path.join(dist, 'cli.js');
const tmp = path.join(dist, `.bundle-${process.pid}`);
const quiet = process.argv.includes('--quiet');

await build({
  absWorkingDir: root,
  entryPoints: [entry],
  outdir: tmp,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ioredis', 'mqtt', 'fast-xml-parser'],
  // Bundled CommonJS packages call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  // Names stay as written, for readable stack traces in logs.
  keepNames: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
await mkdir(path.join(dist, 'chunks'), { recursive: true });
const chunks = await readdir(path.join(tmp, 'chunks')).catch(() => []);
for (const chunk of chunks) await rename(path.join(tmp, 'chunks', chunk), path.join(dist, 'chunks', chunk));
await rename(path.join(tmp, 'cli.js'), entry);
await rm(tmp, { recursive: true, force: true });
// Chunks of earlier builds: content-hashed names, so the current ones are exactly those just written.
for (const old of await readdir(path.join(dist, 'chunks'))) if (!chunks.includes(old)) await rm(path.join(dist, 'chunks', old), { force: true });
if (!quiet) console.log(`dist/cli.js  ${((await stat(entry)).size / 1024).toFixed(0)} KiB (the server and its dependencies, one file)`);
