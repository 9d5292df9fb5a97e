import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectModel } from '../../src/model/object-model.js';
import {
  compareVersions,
  createDefaultRegistry,
  loadObjectsDir,
  ObjectRegistry,
  type ObjectLoadError,
} from '../../src/model/object-registry.js';

function deviceDdf(version: string, resourceName: string, extraItems = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<LWM2M><Object ObjectType="MODefinition">
  <Name>Device</Name><ObjectID>3</ObjectID>
  <ObjectVersion>${version}</ObjectVersion>
  <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
  <Resources>
    <Item ID="0"><Name>${resourceName}</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>
      <Mandatory>Optional</Mandatory><Type>String</Type></Item>${extraItems}
  </Resources>
</Object></LWM2M>`;
}

function model(id: number, version: string): ObjectModel {
  return { id, name: `o${id}`, version, lwm2mVersion: '1.0', multiple: false, mandatory: false, resources: new Map() };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-objects-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ObjectRegistry', () => {
  it('keeps versions side by side and answers the exact version, else the highest', () => {
    const registry = new ObjectRegistry();
    registry.addAll([model(3, '1.0'), model(3, '1.2'), model(3, '1.1'), model(4, '1.0')]);
    expect(registry.getObject(3, '1.0')?.version).toBe('1.0');
    expect(registry.getObject(3, '1.1')?.version).toBe('1.1');
    expect(registry.getObject(3)?.version).toBe('1.2');
    expect(registry.getObject(3, '9.9')?.version).toBe('1.2');
    expect(registry.getObject(5)).toBeUndefined();
    expect(registry.versions(3)).toEqual(['1.0', '1.1', '1.2']);
    expect(registry.list().map((m) => `${m.id}@${m.version}`)).toEqual(['3@1.0', '3@1.1', '3@1.2', '4@1.0']);
    expect(registry.size).toBe(4);
  });

  it('lets a later definition of the same id and version replace the earlier one', () => {
    const registry = new ObjectRegistry();
    registry.add(model(3, '1.0'));
    registry.add({ ...model(3, '1.0'), name: 'replacement' });
    expect(registry.getObject(3, '1.0')?.name).toBe('replacement');
    expect(registry.size).toBe(1);
  });

  it('orders versions numerically', () => {
    expect(['1.10', '1.9', '2.0', '1.0'].sort(compareVersions)).toEqual(['1.0', '1.9', '1.10', '2.0']);
  });
});

describe('loading an objects directory', () => {
  it('reports broken files with file name and reason, skips them, and loads the rest', async () => {
    await writeFile(path.join(dir, 'good.xml'), deviceDdf('1.0', 'Manufacturer'));
    await writeFile(path.join(dir, 'malformed.xml'), '<LWM2M><Object><Name>x</Name></LWM2M>');
    await writeFile(path.join(dir, 'no-id.xml'), deviceDdf('1.1', 'M').replace('<ObjectID>3</ObjectID>', ''));
    await writeFile(
      path.join(dir, 'bad-type.xml'),
      deviceDdf('1.2', 'M').replace('<Type>String</Type>', '<Type>Text</Type>'),
    );
    await writeFile(path.join(dir, 'README.md'), 'not a DDF');
    const errors: ObjectLoadError[] = [];
    const registry = new ObjectRegistry();

    const summary = await loadObjectsDir(dir, registry, (error) => errors.push(error));

    expect(summary).toEqual({ dir, files: 4, objects: 1, failed: 3 });
    expect(registry.versions(3)).toEqual(['1.0']);
    const byFile = Object.fromEntries(errors.map((error) => [path.basename(error.file), error.reason]));
    expect(Object.keys(byFile).sort()).toEqual(['bad-type.xml', 'malformed.xml', 'no-id.xml']);
    expect(byFile['malformed.xml']).toMatch(/malformed XML/);
    expect(byFile['no-id.xml']).toMatch(/missing <ObjectID>/);
    expect(byFile['bad-type.xml']).toMatch(/unknown <Type> "Text"/);
    for (const error of errors) expect(path.isAbsolute(error.file) || error.file.startsWith(dir)).toBe(true);
  });

  it('reads sub-folders, BOM-prefixed and UTF-16 files, and skips dot-entries', async () => {
    await mkdir(path.join(dir, 'vendor', 'acme'), { recursive: true });
    await mkdir(path.join(dir, '.git'));
    await writeFile(path.join(dir, 'vendor', 'acme', 'device.XML'), '\uFEFF' + deviceDdf('1.0', 'A'));
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(deviceDdf('1.1', 'B'), 'utf16le')]);
    await writeFile(path.join(dir, 'vendor', 'utf16.xml'), utf16);
    await writeFile(path.join(dir, '.git', 'broken.xml'), '<');
    const errors: ObjectLoadError[] = [];
    const registry = new ObjectRegistry();
    await loadObjectsDir(dir, registry, (error) => errors.push(error));
    expect(errors).toEqual([]);
    expect(registry.versions(3)).toEqual(['1.0', '1.1']);
  });

  it('reports a missing directory and a dangling link instead of throwing', async () => {
    const errors: ObjectLoadError[] = [];
    const missing = path.join(dir, 'nope');
    const summary = await loadObjectsDir(missing, new ObjectRegistry(), (error) => errors.push(error));
    expect(summary.failed).toBe(1);
    expect(errors).toEqual([{ file: missing, reason: expect.stringMatching(/cannot read objects directory/) }]);

    errors.length = 0;
    await symlink(path.join(dir, 'gone.xml'), path.join(dir, 'link.xml'));
    await loadObjectsDir(dir, new ObjectRegistry(), (error) => errors.push(error));
    expect(errors).toEqual([{ file: path.join(dir, 'link.xml'), reason: expect.stringMatching(/cannot read file/) }]);
  });
});

describe('the default registry', () => {
  it('loads the shipped objects, then lets an extra dir override them and add versions', async () => {
    const overrides = path.join(dir, 'overrides');
    await mkdir(overrides);
    const shipped = await createDefaultRegistry([], () => undefined);
    const shippedVersion = shipped.getObject(3)?.version ?? '';
    expect(shippedVersion).not.toBe('');

    await writeFile(path.join(overrides, 'device-same-version.xml'), deviceDdf(shippedVersion, 'Maker'));
    await writeFile(path.join(overrides, 'device-1.0.xml'), deviceDdf('1.0', 'Old Manufacturer'));
    await writeFile(path.join(overrides, 'broken.xml'), '<LWM2M>');
    const errors: ObjectLoadError[] = [];

    const registry = await createDefaultRegistry([overrides], (error) => errors.push(error));

    expect(errors.map((error) => path.basename(error.file))).toEqual(['broken.xml']);
    expect(registry.getObject(3, shippedVersion)?.resources.get(0)?.name).toBe('Maker');
    expect(registry.getObject(3, shippedVersion)?.resources.has(4)).toBe(false);
    expect(registry.getObject(3, '1.0')?.resources.get(0)?.name).toBe('Old Manufacturer');
    expect(registry.getObject(3)?.version).toBe(shippedVersion);
    // Objects the extra dir does not mention stay as shipped.
    expect(registry.getObject(3303)).toEqual(shipped.getObject(3303));
  });

  it('keeps two versions of one object from an extra dir side by side', async () => {
    await writeFile(path.join(dir, '3-device-1.0.xml'), deviceDdf('1.0', 'Manufacturer v1.0'));
    await writeFile(path.join(dir, '3-device-1.1.xml'), deviceDdf('1.1', 'Manufacturer v1.1'));
    const registry = await createDefaultRegistry([dir], (error) => {
      throw new Error(`${error.file}: ${error.reason}`);
    });
    expect(registry.getObject(3, '1.0')?.resources.get(0)?.name).toBe('Manufacturer v1.0');
    expect(registry.getObject(3, '1.1')?.resources.get(0)?.name).toBe('Manufacturer v1.1');
  });
});
