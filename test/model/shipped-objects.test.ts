import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDdf } from '../../src/model/ddf-loader.js';
import {
  findPackageRoot,
  loadObjectsDir,
  ObjectRegistry,
  shippedObjectsDir,
  type ObjectLoadError,
} from '../../src/model/object-registry.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const objectsDir = path.join(repoRoot, 'objects');

const CORE = [0, 1, 2, 3, 4, 5, 6, 7];
const SENSORS = [3303, 3304, 3311, 3315, 3323, 3342, 3347];

async function loadShipped(): Promise<{ registry: ObjectRegistry; errors: ObjectLoadError[]; files: number }> {
  const registry = new ObjectRegistry();
  const errors: ObjectLoadError[] = [];
  const summary = await loadObjectsDir(objectsDir, registry, (error) => errors.push(error));
  return { registry, errors, files: summary.files };
}

describe('shipped object definitions', () => {
  it('resolve to the objects/ folder of the package root', () => {
    expect(path.resolve(findPackageRoot())).toBe(path.resolve(repoRoot));
    expect(path.resolve(shippedObjectsDir())).toBe(path.resolve(objectsDir));
  });

  it('every file loads without error, one object per file named <id>-<name>.xml', async () => {
    const { registry, errors, files } = await loadShipped();
    console.log(`objects/: ${files} files, ${registry.size} objects`);
    expect(errors).toEqual([]);
    expect(registry.size).toBe(files);
    for (const file of await readdir(objectsDir)) {
      const [model] = parseDdf(await readFile(path.join(objectsDir, file), 'utf8'), file);
      expect(file).toMatch(new RegExp(`^${model?.id}-[a-z0-9-]+\\.xml$`));
    }
  });

  it('cover the core objects 0-7 and the usual IPSO sensors', async () => {
    const { registry } = await loadShipped();
    for (const id of [...CORE, ...SENSORS]) expect(registry.getObject(id), `object ${id}`).toBeDefined();
  });

  it('golden: Device (3) and Temperature (3303)', async () => {
    const { registry } = await loadShipped();
    const device = registry.getObject(3);
    expect(device).toMatchObject({ id: 3, name: 'Device', multiple: false, mandatory: true });
    expect(device?.resources.get(0)).toMatchObject({
      id: 0,
      name: 'Manufacturer',
      type: 'string',
      operations: 'R',
      multiple: false,
      mandatory: false,
    });
    expect(device?.resources.get(6)).toMatchObject({ name: 'Available Power Sources', type: 'integer', multiple: true });
    expect(device?.resources.get(4)).toMatchObject({ name: 'Reboot', operations: 'E', type: 'none', mandatory: true });
    expect(registry.getObject(3303)?.resources.get(5700)).toMatchObject({
      name: 'Sensor Value',
      type: 'float',
      operations: 'R',
      mandatory: true,
    });
  });

  it('every resource has a short description of our own', async () => {
    const { registry } = await loadShipped();
    for (const model of registry.list()) {
      expect(model.description, `object ${model.id}`).toBeDefined();
      for (const resource of model.resources.values()) {
        expect(resource.description, `${model.id}/${resource.id}`).toMatch(/^[^\n]{3,140}$/);
      }
    }
  });

  const registryDir = path.resolve(repoRoot, '../shared/lwm2m-registry');
  it.skipIf(!existsSync(registryDir))('agree with the OMA registry on everything codecs rely on', async () => {
    const { registry } = await loadShipped();
    for (const ours of registry.list()) {
      const [theirs] = parseDdf(await readFile(path.join(registryDir, `${ours.id}.xml`), 'utf8'), `${ours.id}.xml`);
      expect(ours.version, `object ${ours.id}`).toBe(theirs?.version);
      expect([...ours.resources.keys()], `object ${ours.id}`).toEqual([...(theirs?.resources.keys() ?? [])]);
      for (const resource of ours.resources.values()) {
        const { name, operations, type, multiple, mandatory, units } = resource;
        const reference = theirs?.resources.get(resource.id);
        expect({ name, operations, type, multiple, mandatory, units }, `${ours.id}/${resource.id}`).toEqual({
          name: reference?.name,
          operations: reference?.operations,
          type: reference?.type,
          multiple: reference?.multiple,
          mandatory: reference?.mandatory,
          units: reference?.units,
        });
      }
    }
  });
});
