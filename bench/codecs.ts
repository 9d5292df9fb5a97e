/**
 * Codec throughput. Run after compiling with the repo tsconfig, e.g.
 *   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/codecs.js
 * Other benches (SenML CBOR, ...) add a `benchXxx()` beside `benchTlv()` returning the same rows.
 */
import { pathToFileURL } from 'node:url';
import { tlvCodec } from '../src/codecs/tlv/index.js';
import type { Lwm2mNode, Lwm2mValue, ObjectInstanceNode } from '../src/model/node.js';
import type { ModelProvider, ObjectModel, ResourceModel } from '../src/model/object-model.js';
import type { ResourceType } from '../src/model/node.js';

export interface BenchResult {
  readonly name: string;
  /** Objects (whole payloads) decoded or encoded per second. */
  readonly opsPerSec: number;
  /** Payload megabytes (10^6 bytes) decoded or encoded per second. */
  readonly mbPerSec: number;
}

const DEVICE_TYPES: readonly (readonly [number, ResourceType, boolean])[] = [
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

const deviceModel: ObjectModel = {
  id: 3,
  name: 'Device',
  version: '1.0',
  lwm2mVersion: '1.0',
  multiple: false,
  mandatory: true,
  resources: new Map(
    DEVICE_TYPES.map(([id, type, multiple]): [number, ResourceModel] => [
      id,
      { id, name: `res ${id}`, operations: 'R', multiple, mandatory: false, type },
    ]),
  ),
};

export const benchModel: ModelProvider = { getObject: (id) => (id === 3 ? deviceModel : undefined) };

const s = (value: string): Lwm2mValue => ({ type: 'string', value });
const i = (value: number): Lwm2mValue => ({ type: 'integer', value });

/** The Device object instance /3/0 of LwM2M Core §7.4.3.1, 10 resources. */
export const device: ObjectInstanceNode = {
  kind: 'instance',
  id: 0,
  resources: [
    { kind: 'resource', id: 0, value: s('Open Mobile Alliance') },
    { kind: 'resource', id: 1, value: s('Lightweight M2M Client') },
    { kind: 'resource', id: 2, value: s('345000123') },
    { kind: 'resource', id: 3, value: s('1.0') },
    {
      kind: 'multipleResource',
      id: 6,
      instances: [
        { kind: 'resourceInstance', id: 0, value: i(1) },
        { kind: 'resourceInstance', id: 1, value: i(5) },
      ],
    },
    {
      kind: 'multipleResource',
      id: 7,
      instances: [
        { kind: 'resourceInstance', id: 0, value: i(3800) },
        { kind: 'resourceInstance', id: 1, value: i(5000) },
      ],
    },
    { kind: 'resource', id: 9, value: i(100) },
    { kind: 'resource', id: 10, value: i(15) },
    { kind: 'resource', id: 13, value: { type: 'time', value: 1367491215 } },
    { kind: 'resource', id: 16, value: s('U') },
  ],
};

/** Runs `op` in batches until `minMs` have passed; returns operations per second. */
/** Operations per second of `op`, run for at least `minMs` after a JIT warm-up. */
export function measure(op: () => void, minMs: number): number {
  for (let w = 0; w < 2000; w++) op(); // warm up the JIT
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let k = 0; k < 1000; k++) op();
    ops += 1000;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

let sink: unknown;

export function benchTlv(minMs = 500): BenchResult[] {
  const path = [3, 0] as const;
  const payload = tlvCodec.encode(device, path, benchModel);
  const decodeOps = measure(() => {
    sink = tlvCodec.decode(payload, path, benchModel);
  }, minMs);
  const encodeOps = measure(() => {
    sink = tlvCodec.encode(device as Lwm2mNode, path, benchModel);
  }, minMs);
  const mb = (ops: number): number => (ops * payload.length) / 1e6;
  return [
    { name: `tlv decode /3/0 (${payload.length} B)`, opsPerSec: decodeOps, mbPerSec: mb(decodeOps) },
    { name: `tlv encode /3/0 (${payload.length} B)`, opsPerSec: encodeOps, mbPerSec: mb(encodeOps) },
  ];
}

export function formatResult(r: BenchResult): string {
  return `${r.name.padEnd(32)} ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)} objects/s ${r.mbPerSec.toFixed(1).padStart(8)} MB/s`;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  for (const result of benchTlv()) console.log(formatResult(result));
  if (sink === undefined) console.log('(no result)');
}
