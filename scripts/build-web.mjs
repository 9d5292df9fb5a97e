#!/usr/bin/env node
/**
 * Builds the web page (web/) into dist/web/, which the hub serves at `/` (src/http/static.ts):
 *
 *   dist/web/index.html                 web/index.html with the asset names filled in
 *   dist/web/assets/main-<hash>.js      web/src/main.ts and its imports, one minified ES module
 *   dist/web/assets/styles-<hash>.css   web/src/styles.css, minified
 *   …and a .gz of each asset, served to browsers that accept gzip
 *
 * Content-hashed names let the server cache assets for a year; index.html is revalidated.
 * Every file is written under a temporary name and renamed; the new assets before the new
 * index.html, and stale assets are removed last: a hub serving the page during a rebuild (or
 * two builds at once, as parallel test files do) never serves half a file or points to a
 * missing one. `--quiet` prints nothing; otherwise one line per asset with its sizes.
 */
import { build } from 'esbuild';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webDir = path.join(root, 'web');
const outDir = path.join(root, 'dist', 'web');
const assetsDir = path.join(outDir, 'assets');
const quiet = process.argv.includes('--quiet');

const result = await build({
  absWorkingDir: root,
  entryPoints: [path.join(webDir, 'src', 'main.ts'), path.join(webDir, 'src', 'styles.css')],
  entryNames: '[name]-[hash]',
  outdir: assetsDir,
  bundle: true,
  minify: true,
  format: 'esm',
  // Browsers of the last few years, phones included; nothing needs a polyfill at this level.
  target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
  charset: 'utf8',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});

await mkdir(assetsDir, { recursive: true });
const names = {};
const written = new Set();
for (const file of result.outputFiles) {
  const name = path.basename(file.path);
  names[path.extname(name)] = name;
  await writeAtomically(file.path, file.contents);
  const gzipped = gzipSync(file.contents, { level: 9 });
  await writeAtomically(`${file.path}.gz`, gzipped);
  written.add(name).add(`${name}.gz`);
  if (!quiet) console.log(`dist/web/assets/${name}  ${file.contents.length} B  (gzip ${gzipped.length} B)`);
}

const template = await readFile(path.join(webDir, 'index.html'), 'utf8');
const html = template.replace('{{app.js}}', names['.js']).replace('{{app.css}}', names['.css']);
if (html.includes('{{')) throw new Error('web/index.html has a placeholder the build does not fill');
await writeAtomically(path.join(outDir, 'index.html'), html);

for (const name of await readdir(assetsDir)) {
  if (!written.has(name) && !name.endsWith('.tmp')) await rm(path.join(assetsDir, name), { force: true });
}

/** Write then rename: a reader (the hub, another build running at the same time) never sees half a file. */
async function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}
