/**
 * SenML CBOR throughput on the Device object instance /3/0 (10 resources). Compile with
 * the repo tsconfig and run with node, e.g.
 *   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/senml.js
 * No assertion on the numbers: they depend on the machine.
 */
import { pathToFileURL } from 'node:url';
import { senmlCborCodec } from '../src/codecs/senml-cbor/index.js';
import type { Lwm2mValue, ObjectInstanceNode, ResourceType } from '../src/model/node.js';
import type { ModelProvider, ObjectModel, ResourceModel } from '../src/model/object-model.js';
import type { Lwm2mPath } from '../src/model/path.js';

export interface SenmlBenchResult {
  readonly name: string;
  /** Whole Device objects decoded or encoded per second. */
  readonly opsPerSec: number;
  /** Payload megabytes (10^6 bytes) decoded or encoded per second. */
  readonly mbPerSec: number;
}

const DEVICE_RESOURCES: readonly (readonly [id: number, type: ResourceType, multiple: boolean])[] = [
  [0, 'string', false],
  [1, 'string', false],
  [2, 'string', false],
  [3, 'string', false],
  [6, 'integer', true],
  [7, 'integer', true],
  [9, 'integer', false],
  [10, 'integer', false],
  [13, 'time', false],
  [16, 'string', false],
];

const deviceObject: ObjectModel = {
  id: 3,
  name: 'Device',
  version: '1.0',
  lwm2mVersion: '1.1',
  multiple: false,
  mandatory: true,
  resources: new Map(
    DEVICE_RESOURCES.map(([id, type, multiple]): [number, ResourceModel] => [
      id,
      { id, name: `r${id}`, operations: 'R', multiple, mandatory: false, type },
    ]),
  ),
};

const model: ModelProvider = { getObject: (id) => (id === 3 ? deviceObject : undefined) };
const path: Lwm2mPath = [3, 0];

const text = (value: string): Lwm2mValue => ({ type: 'string', value });
const integer = (value: number): Lwm2mValue => ({ type: 'integer', value });

/** The Device instance of the LwM2M TS Core examples, cut to 10 resources. */
const device: ObjectInstanceNode = {
  kind: 'instance',
  id: 0,
  resources: [
    { kind: 'resource', id: 0, value: text('Open Mobile Alliance') },
    { kind: 'resource', id: 1, value: text('Lightweight M2M Client') },
    { kind: 'resource', id: 2, value: text('345000123') },
    { kind: 'resource', id: 3, value: text('1.0') },
    {
      kind: 'multipleResource',
      id: 6,
      instances: [
        { kind: 'resourceInstance', id: 0, value: integer(1) },
        { kind: 'resourceInstance', id: 1, value: integer(5) },
      ],
    },
    {
      kind: 'multipleResource',
      id: 7,
      instances: [
        { kind: 'resourceInstance', id: 0, value: integer(3800) },
        { kind: 'resourceInstance', id: 1, value: integer(5000) },
      ],
    },
    { kind: 'resource', id: 9, value: integer(100) },
    { kind: 'resource', id: 10, value: integer(15) },
    { kind: 'resource', id: 13, value: { type: 'time', value: 1367491215 } },
    { kind: 'resource', id: 16, value: text('U') },
  ],
};

/** Runs `op` for about `durationMs` after a warm-up and reports its rate over `bytesPerOp`. */
function measure(name: string, bytesPerOp: number, op: () => unknown, durationMs: number): SenmlBenchResult {
  for (let i = 0; i < 2_000; i++) op();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  // batches keep the clock reads out of the measured work
  while (elapsed < durationMs) {
    for (let i = 0; i < 500; i++) op();
    ops += 500;
    elapsed = performance.now() - start;
  }
  const opsPerSec = (ops * 1000) / elapsed;
  return { name, opsPerSec: Math.round(opsPerSec), mbPerSec: Number(((opsPerSec * bytesPerOp) / 1e6).toFixed(2)) };
}

/** Decode and encode throughput of SenML CBOR (112) for the Device instance /3/0. */
export function benchSenmlCbor(durationMs = 1_000): SenmlBenchResult[] {
  const payload = senmlCborCodec.encode(device, path, model);
  return [
    measure(
      'SenML CBOR decode /3/0 (10 resources)',
      payload.length,
      () => senmlCborCodec.decode(payload, path, model),
      durationMs,
    ),
    measure(
      'SenML CBOR encode /3/0 (10 resources)',
      payload.length,
      () => senmlCborCodec.encode(device, path, model),
      durationMs,
    ),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(benchSenmlCbor());
}
