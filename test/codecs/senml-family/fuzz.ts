/**
 * Seeded, reproducible inputs for the robustness suites: random bytes, mutations of
 * golden vectors, and structured near-valid payloads. A decoder may only throw
 * DecodeError on any of them.
 */
import { Encoder, Tag } from 'cbor-x';
import { DecodeError } from '../../../src/codecs/codec.js';
import type { Lwm2mPath } from '../../../src/model/path.js';
import { EMPTY_MODEL, type ModelProvider } from '../../../src/model/object-model.js';
import { testModel } from './test-model.js';

/** mulberry32: small, fast, good enough to spread inputs; the seed makes a failure reproducible. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

export function randomBytes(rng: Rng, maxLength = 48): Uint8Array {
  return rng.bytes(rng.int(maxLength + 1));
}

/** One to four byte-level edits of a seed: flips, overwrites, inserts, deletes, truncation, splices. */
export function mutate(rng: Rng, seed: Uint8Array): Uint8Array {
  let bytes = Array.from(seed);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = bytes.length === 0 ? 0 : rng.int(bytes.length);
    switch (rng.int(7)) {
      case 0:
        if (bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << rng.int(8));
        break;
      case 1:
        if (bytes.length) bytes[at] = rng.int(256);
        break;
      case 2:
        bytes.splice(at, 0, rng.pick(INTERESTING_BYTES));
        break;
      case 3:
        bytes.splice(at, 1 + rng.int(3));
        break;
      case 4:
        bytes = bytes.slice(0, at);
        break;
      case 5: {
        const from = rng.int(bytes.length + 1);
        const chunk = bytes.slice(from, from + 1 + rng.int(8));
        bytes.splice(at, 0, ...chunk);
        break;
      }
      default:
        if (bytes.length) bytes[at] = rng.pick(INTERESTING_BYTES);
    }
  }
  return Uint8Array.from(bytes);
}

/** Bytes that change structure: CBOR headers (maps, arrays, tags, breaks, floats) and JSON punctuation. */
const INTERESTING_BYTES = [
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x3b, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0,
  0xc1, 0xc2, 0xc4, 0xd8, 0xd9, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff, 0x22, 0x2c, 0x2f, 0x3a, 0x5b, 0x5d,
  0x7b, 0x7d, 0x5c, 0x2d, 0x30, 0x39, 0x65,
];

const JSON_TOKENS = [
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '"bn"',
  '"bt"',
  '"n"',
  '"v"',
  '"vs"',
  '"vb"',
  '"vd"',
  '"vlo"',
  '"t"',
  '"bv"',
  '"bver"',
  '"e"',
  '"sv"',
  '"bv"',
  '"ov"',
  '"x_"',
  '"/3/0/"',
  '"/"',
  '"0"',
  '"6/0"',
  '"7/1"',
  '"/9999/0/"',
  '"3"',
  '"11/2"',
  '"3:0"',
  '"q83v"',
  '"AQ=="',
  '"',
  '0',
  '-1',
  '1.5',
  '1e400',
  '-0',
  '18446744073709551616',
  '9223372036854775807',
  'true',
  'false',
  'null',
  '"\\u0000"',
  '"\\ud800"',
  ' ',
  '\n',
  '"65535:65535"',
  '"/3/0/7/"',
  '268435456',
];

/** Token soup: text that is often almost JSON, so it reaches the shape checks. */
export function jsonSoup(rng: Rng): Uint8Array {
  const parts: string[] = [];
  const count = 1 + rng.int(24);
  for (let i = 0; i < count; i++) parts.push(rng.pick(JSON_TOKENS));
  return new TextEncoder().encode(parts.join(''));
}

const genericEncoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

function randomCborScalar(rng: Rng): unknown {
  switch (rng.int(14)) {
    case 0:
      return rng.int(70000);
    case 1:
      return -rng.int(70000);
    case 2:
      return rng.pick([2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 70n]);
    case 3:
      return rng.pick([0.5, -1.25, 1e300, Number.NaN, Infinity, -0]);
    case 4:
      return rng.pick(['/3/0/', '/9999/0/', '', '0', '6/0', '7/1', '/3/0/0', 'x', '3:0', '65535:65535', 'vlo', 'bn']);
    case 5:
      return rng.bytes(rng.int(6));
    case 6:
      return rng.chance(0.5);
    case 7:
      return null;
    case 8:
      return undefined;
    case 9:
      return new Date(rng.int(2 ** 31) * 1000);
    case 10:
      return new Tag(
        rng.int(10),
        rng.pick([0, 1, 2, 3, 4, 5, 6, 27, 28, 29, 51, 64, 105, 258, 259, 0xd9f9, 0xdfff, 55799]),
      );
    case 11:
      return [rng.int(4), rng.int(3)];
    case 12:
      return rng.pick([-1, -2, -3, -5, 0, 2, 3, 4, 6, 8]);
    default:
      return rng.int(20);
  }
}

function randomCborItem(rng: Rng, depth: number): unknown {
  if (depth >= 5 || rng.chance(0.35)) return randomCborScalar(rng);
  if (rng.chance(0.3)) {
    return Array.from({ length: rng.int(4) }, () => randomCborItem(rng, depth + 1));
  }
  const map = new Map<unknown, unknown>();
  const size = rng.int(5);
  for (let i = 0; i < size; i++) {
    const key = rng.chance(0.15)
      ? randomCborScalar(rng)
      : rng.chance(0.2)
        ? [rng.int(20), rng.int(3)]
        : rng.pick([-2, -3, 0, 2, 3, 4, 6, 8, 'vlo', 1, 3, 9999, 65535]);
    map.set(key, randomCborItem(rng, depth + 1));
  }
  return map;
}

/** Random CBOR items shaped like SenML packs or LwM2M CBOR trees (maps of small ids and labels). */
export function cborSoup(rng: Rng): Uint8Array {
  const item = rng.chance(0.5)
    ? Array.from({ length: rng.int(4) }, () => randomCborItem(rng, 1))
    : randomCborItem(rng, 0);
  try {
    return new Uint8Array(genericEncoder.encode(item));
  } catch {
    return randomBytes(rng);
  }
}

export const FUZZ_PATHS: readonly Lwm2mPath[] = [
  [3],
  [3, 0],
  [3, 0, 7],
  [3, 0, 7, 1],
  [3, 0, 0],
  [9999, 0],
  [13, 26, 1],
  [72],
  [8, 8],
  [],
];
export const FUZZ_MODELS: readonly ModelProvider[] = [testModel, EMPTY_MODEL];

export interface FuzzReport {
  readonly inputs: number;
  readonly decoded: number;
  readonly rejected: number;
  /** Inputs that made the decoder throw something other than DecodeError, as hex, with the error. */
  readonly escapes: readonly string[];
}

/**
 * Runs `decode` on every input; only DecodeError may escape. Stack traces are switched
 * off meanwhile: capturing one per expected rejection would dominate the run time.
 */
export function fuzz(inputs: Iterable<Uint8Array>, decode: (bytes: Uint8Array, index: number) => unknown): FuzzReport {
  let count = 0;
  let decoded = 0;
  let rejected = 0;
  const escapes: string[] = [];
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const bytes of inputs) {
      try {
        decode(bytes, count);
        decoded++;
      } catch (error) {
        if (error instanceof DecodeError) rejected++;
        else if (escapes.length < 5) escapes.push(`${Buffer.from(bytes).toString('hex')}: ${String(error)}`);
      }
      count++;
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return { inputs: count, decoded, rejected, escapes };
}

/** `count` inputs drawn from the generators, in a fixed order given the seed. */
export function* inputs(
  seed: number,
  count: number,
  seeds: readonly Uint8Array[],
  structured: (rng: Rng) => Uint8Array,
): Generator<Uint8Array> {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    switch (i % 3) {
      case 0:
        yield randomBytes(rng);
        break;
      case 1:
        yield seeds.length ? mutate(rng, rng.pick(seeds)) : randomBytes(rng);
        break;
      default:
        yield structured(rng);
    }
  }
}
