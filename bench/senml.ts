/**
 * SenML CBOR throughput on the Device object instance /3/0 (10 resources), the same
 * object and measurement as the TLV figures of bench/codecs.ts. Compile with the repo
 * tsconfig and run with node, e.g.
 *   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/senml.js
 * No assertion on the numbers: they depend on the machine.
 */
import { pathToFileURL } from 'node:url';
import { senmlCborCodec } from '../src/codecs/senml-cbor/index.js';
import type { Lwm2mPath } from '../src/model/path.js';
import { benchModel, device, formatResult, measure, type BenchResult } from './codecs.js';

const path: Lwm2mPath = [3, 0];
let sink: unknown;

/** Decode and encode throughput of SenML CBOR (112) for the Device instance /3/0. */
export function benchSenmlCbor(durationMs = 1_000): BenchResult[] {
  const payload = senmlCborCodec.encode(device, path, benchModel);
  const rate = (opsPerSec: number) => (opsPerSec * payload.length) / 1e6;
  const decode = measure(() => {
    sink = senmlCborCodec.decode(payload, path, benchModel);
  }, durationMs);
  const encode = measure(() => {
    sink = senmlCborCodec.encode(device, path, benchModel);
  }, durationMs);
  return [
    { name: `SenML CBOR decode /3/0 (${payload.length} B)`, opsPerSec: decode, mbPerSec: rate(decode) },
    { name: `SenML CBOR encode /3/0 (${payload.length} B)`, opsPerSec: encode, mbPerSec: rate(encode) },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const result of benchSenmlCbor()) console.log(formatResult(result));
  if (sink === undefined) console.log('(no result)');
}
