/**
 * Block-wise registration throughput (RFC 7959 §2.5): registrations/s with a ~1 KB link body
 * sent in 64-byte Block1 pieces (16 exchanges with 2.31 Continue, then 2.01) against the same
 * body in a single datagram. Our CoapEndpoint is the client, the hub runs in-process.
 *
 *   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/blockwise.js [seconds] [clients]
 */
import { pathToFileURL } from 'node:url';
import { Method, ResponseCode } from '../src/coap/codes.js';
import { CoapEndpoint } from '../src/coap/endpoint.js';
import { OptionNumber, uintOption } from '../src/coap/options.js';
import { startTestHub } from '../test/support/hub.js';
import { percentile } from './stats.js';

export interface BlockwiseBenchResult {
  readonly name: string;
  readonly blockSize: number;
  readonly bodyBytes: number;
  readonly clients: number;
  readonly seconds: number;
  readonly registrations: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

/** About 1 KB of object links, under 1024 bytes so that it fits one block of the default size. */
export function linkBody(): string {
  const links: string[] = ['</>;rt="oma.lwm2m";ct=110'];
  for (let i = 0; links.join(',').length < 1000 - 12; i++) links.push(`</3303/${i}>`);
  return links.join(',');
}

async function run(name: string, blockSize: number, clients: number, seconds: number): Promise<BlockwiseBenchResult> {
  const hub = await startTestHub();
  const endpoints = await Promise.all(Array.from({ length: clients }, () => CoapEndpoint.bind({ host: '::1', blockSize })));
  const body = Buffer.from(linkBody());
  const latencies: number[] = [];
  let failures = 0;
  try {
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      endpoints.map(async (endpoint, i) => {
        while (performance.now() < deadline) {
          const started = performance.now();
          try {
            const response = await endpoint.request(
              { address: '::1', port: hub.coap.port },
              {
                method: Method.POST,
                uriPath: ['rd'],
                uriQuery: [`ep=blockwise-${i}`, 'lt=600', 'lwm2m=1.1'],
                options: [uintOption(OptionNumber.CONTENT_FORMAT, 40)],
                payload: body,
              },
            );
            if (response.code === ResponseCode.CREATED) latencies.push(performance.now() - started);
            else failures++;
          } catch {
            failures++;
          }
        }
      }),
    );
  } finally {
    await Promise.all(endpoints.map((e) => e.close()));
    await hub.stop();
  }
  latencies.sort((a, b) => a - b);
  return {
    name,
    blockSize,
    bodyBytes: body.length,
    clients,
    seconds,
    registrations: latencies.length,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
  };
}

/** Registrations/s in 64-byte Block1 pieces, then in one datagram (block size 1024). */
export async function benchBlockwise(seconds = 3, clients = 20): Promise<BlockwiseBenchResult[]> {
  return [await run('register 64-byte blocks', 64, clients, seconds), await run('register single datagram', 1024, clients, seconds)];
}

export function formatBlockwiseResult(r: BlockwiseBenchResult): string {
  return `${r.name.padEnd(26)} ${String(r.bodyBytes).padStart(5)} B body ${String(r.clients).padStart(4)} clients ${Math.round(r.perSecond).toLocaleString('en-US').padStart(8)} /s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  failures ${r.failures}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  const clients = Number(process.argv[3] ?? 20);
  console.log(`# block-wise registration bench, ${seconds} s per scenario, Node ${process.version}`);
  const results = await benchBlockwise(seconds, clients);
  for (const result of results) console.log(formatBlockwiseResult(result));
  const [blocks, single] = results;
  if (blocks && single && single.perSecond > 0)
    console.log(`64-byte blocks reach ${((100 * blocks.perSecond) / single.perSecond).toFixed(0)} % of the single-datagram rate`);
}
