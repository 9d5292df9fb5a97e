#!/usr/bin/env node
/**
 * Parses the shipped object definitions (objects/*.xml) once, at build time, into
 * dist/objects.json with a digest of the files: a start then reads that instead of
 * parsing the XML (src/model/shipped-cache.ts). Run after tsc (it uses dist/).
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ObjectRegistry, listDdfFilesIn, loadObjectsDir, shippedObjectsCache, shippedObjectsDir } from '../dist/model/object-registry.js';
import { digestFiles, serialiseModels } from '../dist/model/shipped-cache.js';

const dir = shippedObjectsDir();
const registry = new ObjectRegistry();
const problems = [];
await loadObjectsDir(dir, registry, (problem) => problems.push(problem));
if (problems.length > 0) {
  for (const { file, reason } of problems) console.error(`${path.relative(process.cwd(), file)}: ${reason}`);
  process.exit(1);
}
const digest = await digestFiles(dir, await listDdfFilesIn(dir));
const target = shippedObjectsCache();
await writeFile(`${target}.tmp`, serialiseModels(digest, registry.list()));
await rename(`${target}.tmp`, target);
if (!process.argv.includes('--quiet')) console.log(`${path.relative(process.cwd(), target)}  ${registry.size} object definitions`);
