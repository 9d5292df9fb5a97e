import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { httpUrl, startTestHub } from '../support/hub.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-objects-'));
let hub: Hub;

beforeAll(async () => {
  writeFileSync(path.join(dir, 'broken.xml'), '<LWM2M><Object><Name>half');
  writeFileSync(
    path.join(dir, '32769-pump.xml'),
    `<LWM2M><Object ObjectType="MODefinition"><Name>Pump</Name><ObjectID>32769</ObjectID><ObjectVersion>1.0</ObjectVersion>
     <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory><Resources>
     <Item ID="0"><Name>Flow</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>Float</Type><Units>l/min</Units></Item>
     </Resources></Object></LWM2M>`,
  );
  hub = await startTestHub({ objectsDir: dir });
});
afterAll(async () => {
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('--objects-dir', () => {
  it('adds the definitions it holds and skips a broken file without failing the start', async () => {
    const pump = (await (await fetch(httpUrl(hub, '/api/objects/32769'))).json()) as { name: string; resources: { units?: string }[] };
    expect(pump.name).toBe('Pump');
    expect(pump.resources[0]?.units).toBe('l/min');
    expect(hub.objects.getObject(3)?.name).toBe('Device');
  });
});
