/**
 * The build's cache of the shipped definitions (dist/objects.json) stands in for
 * parsing the XML only when it was made from exactly these files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listDdfFilesIn, loadObjectsDir, ObjectRegistry, shippedObjectsDir } from '../../src/model/object-registry.js';
import { digestFiles, readCachedModels, serialiseModels } from '../../src/model/shipped-cache.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-model-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function parsedShipped(): Promise<ObjectRegistry> {
  const registry = new ObjectRegistry();
  await loadObjectsDir(shippedObjectsDir(), registry, (error) => {
    throw new Error(`${error.file}: ${error.reason}`);
  });
  return registry;
}

describe('cache of the shipped object definitions', () => {
  it('gives back exactly the models parsed from the XML', async () => {
    const parsed = await parsedShipped();
    const dir = shippedObjectsDir();
    const digest = await digestFiles(dir, await listDdfFilesIn(dir));
    const cacheFile = path.join(scratch, 'objects.json');
    writeFileSync(cacheFile, serialiseModels(digest, parsed.list()));

    const cached = await readCachedModels(cacheFile, digest);
    expect(cached).toBeDefined();
    const fromCache = new ObjectRegistry();
    fromCache.addAll(cached ?? []);
    expect(fromCache.list()).toEqual(parsed.list());
    expect(fromCache.getObject(3303)?.resources.get(5700)?.name).toBe('Sensor Value');
  });

  it('is ignored when the files changed since it was made, and when it is missing or damaged', async () => {
    const parsed = await parsedShipped();
    const cacheFile = path.join(scratch, 'stale.json');
    writeFileSync(cacheFile, serialiseModels('digest-of-other-files', parsed.list()));
    const dir = shippedObjectsDir();
    const digest = await digestFiles(dir, await listDdfFilesIn(dir));
    expect(await readCachedModels(cacheFile, digest)).toBeUndefined();
    expect(await readCachedModels(path.join(scratch, 'missing.json'), digest)).toBeUndefined();
    writeFileSync(path.join(scratch, 'damaged.json'), '{"digest": "');
    expect(await readCachedModels(path.join(scratch, 'damaged.json'), digest)).toBeUndefined();
  });

  it('has a digest that changes with any file content', async () => {
    const a = path.join(scratch, 'a.xml');
    writeFileSync(a, '<LWM2M/>');
    const before = await digestFiles(scratch, [a]);
    writeFileSync(a, '<LWM2M />');
    expect(await digestFiles(scratch, [a])).not.toBe(before);
  });
});
