/**
 * The loader against every DDF of the public OMA LwM2M Registry, which covers the
 * schema variants met in the field (1.0 files without versions, 1.1/1.2 files,
 * xsi:noNamespaceSchemaLocation headers, BOMs, CDATA descriptions, padded names).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { DdfError, parseDdf } from '../../src/model/ddf-loader.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const registryDir = path.resolve(repoRoot, '../shared/lwm2m-registry');
const hasRegistry = existsSync(registryDir);

if (!hasRegistry) {
  console.log(`OMA registry corpus not found at ${registryDir}: corpus test skipped`);
}

async function xmlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.xml'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Independent of the loader under test: a file is a DDF when its root is LWM2M and
 * it has Object elements that all carry an ObjectID. Files such as DDF.xml (the
 * registry index), Common.xml (reusable resources) or the units list are not.
 */
const probe = new XMLParser({ removeNSPrefix: true, parseTagValue: false });
function looksLikeDdf(text: string): { ddf: boolean; items: number } {
  let document: unknown;
  try {
    document = probe.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return { ddf: false, items: 0 };
  }
  const root = (document as { LWM2M?: { Object?: unknown } }).LWM2M;
  const objects = root?.Object === undefined ? [] : ([] as unknown[]).concat(root.Object);
  const ddf =
    objects.length > 0 &&
    objects.every((object) => typeof object === 'object' && object !== null && 'ObjectID' in object);
  const items = objects.reduce<number>((sum, object) => {
    const item = (object as { Resources?: { Item?: unknown } }).Resources?.Item;
    return sum + (item === undefined ? 0 : ([] as unknown[]).concat(item).length);
  }, 0);
  return { ddf, items };
}

describe.skipIf(!hasRegistry)('loading the OMA LwM2M registry', () => {
  it('loads every file that is a valid DDF, with all its resources', async () => {
    const files = await xmlFilesUnder(registryDir);
    let objects = 0;
    let resources = 0;
    const failures: string[] = [];
    const skipped: string[] = [];
    const resourceMismatches: string[] = [];

    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const name = path.relative(registryDir, file);
      const { ddf, items } = looksLikeDdf(text);
      try {
        const models = parseDdf(text, name);
        objects += models.length;
        const loaded = models.reduce((sum, model) => sum + model.resources.size, 0);
        resources += loaded;
        if (loaded !== items) resourceMismatches.push(`${name}: ${loaded} resources loaded, ${items} <Item> in file`);
      } catch (error) {
        if (!(error instanceof DdfError)) throw error;
        if (ddf) failures.push(error.message);
        else skipped.push(error.message);
      }
    }

    console.log(
      `OMA registry: ${files.length} XML files, ${objects} objects with ${resources} resources loaded; ` +
        `${skipped.length} non-DDF files skipped:\n  ${skipped.join('\n  ')}`,
    );
    expect(failures).toEqual([]);
    expect(resourceMismatches).toEqual([]);
    expect(objects).toBeGreaterThan(300);
  });

  it('reads the core Device object as the registry defines it', async () => {
    const [device] = parseDdf(await readFile(path.join(registryDir, '3.xml'), 'utf8'), '3.xml');
    expect(device).toMatchObject({ id: 3, name: 'Device', multiple: false, mandatory: true });
    expect(device?.urn).toMatch(/^urn:oma:lwm2m:oma:3/);
    expect(device?.resources.get(4)).toMatchObject({ name: 'Reboot', operations: 'E', type: 'none' });
    expect(device?.resources.get(6)).toMatchObject({ multiple: true, type: 'integer' });
  });
});
