/**
 * Shared test support for the codec suites: a tiny in-memory ModelProvider (the DDF loader is
 * someone else's), fixture loading, hex helpers, and a seeded input generator for robustness tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'vitest';
import { DecodeError } from '../../src/codecs/codec.js';
import type { ResourceType } from '../../src/model/node.js';
import type { ModelProvider, ObjectModel, ResourceModel } from '../../src/model/object-model.js';
import { parsePath, type Lwm2mPath } from '../../src/model/path.js';

type ResourceSpec = readonly [id: number, type: ResourceType, multiple?: boolean];

function object(id: number, name: string, multiple: boolean, resources: readonly ResourceSpec[]): ObjectModel {
  const map = new Map<number, ResourceModel>();
  for (const [rid, type, isMultiple = false] of resources) {
    map.set(rid, {
      id: rid,
      name: `res ${rid}`,
      operations: type === 'none' ? 'E' : 'RW',
      multiple: isMultiple,
      mandatory: false,
      type,
    });
  }
  return { id, name, version: '1.0', lwm2mVersion: '1.1', multiple, mandatory: false, resources: map };
}

export function modelOf(objects: readonly ObjectModel[]): ModelProvider {
  const byId = new Map(objects.map((o) => [o.id, o]));
  return { getObject: (objectId) => byId.get(objectId) };
}

/** Types of the codec test object 1000: singles at 1..10 and 300, multiples at 301..309 (16-bit ids). */
export const SCALAR_TYPES = [
  'string',
  'integer',
  'unsignedInteger',
  'float',
  'boolean',
  'opaque',
  'time',
  'objlnk',
  'corelnk',
] as const satisfies readonly ResourceType[];

export const TEST_OBJECT_ID = 1000;
/** Single resource id of each scalar type in object 1000. */
export const SINGLE_ID: Readonly<Record<(typeof SCALAR_TYPES)[number], number>> = {
  string: 1,
  integer: 2,
  unsignedInteger: 3,
  float: 4,
  boolean: 5,
  opaque: 6,
  time: 7,
  objlnk: 8,
  corelnk: 9,
};
/** Multiple resource id of each scalar type in object 1000. */
export const MULTIPLE_ID: Readonly<Record<(typeof SCALAR_TYPES)[number], number>> = {
  string: 301,
  integer: 302,
  unsignedInteger: 303,
  float: 304,
  boolean: 305,
  opaque: 306,
  time: 307,
  objlnk: 308,
  corelnk: 309,
};
export const EXECUTABLE_ID = 10;

export const testModel: ModelProvider = modelOf([
  // OMA object definitions, reduced to what the spec examples use (LwM2M Core Appendix D/E).
  object(1, 'LwM2M Server', true, [
    [0, 'integer'],
    [1, 'integer'],
    [2, 'integer'],
    [3, 'integer'],
    [4, 'none'],
    [5, 'integer'],
    [6, 'boolean'],
    [7, 'string'],
    [8, 'none'],
  ]),
  object(2, 'LwM2M Access Control', true, [
    [0, 'integer'],
    [1, 'integer'],
    [2, 'integer', true],
    [3, 'integer'],
  ]),
  object(3, 'Device', false, [
    [0, 'string'],
    [1, 'string'],
    [2, 'string'],
    [3, 'string'],
    [4, 'none'],
    [5, 'none'],
    [6, 'integer', true],
    [7, 'integer', true],
    [8, 'integer', true],
    [9, 'integer'],
    [10, 'integer'],
    [11, 'integer', true],
    [12, 'none'],
    [13, 'time'],
    [14, 'string'],
    [15, 'string'],
    [16, 'string'],
  ]),
  // Objects 65 and 66 of the Core §7.4.3.3 object link examples.
  object(65, 'Objlnk example 65', true, [
    [0, 'objlnk', true],
    [1, 'string'],
    [2, 'integer'],
  ]),
  object(66, 'Objlnk example 66', true, [
    [0, 'string'],
    [1, 'string'],
    [2, 'objlnk'],
  ]),
  object(TEST_OBJECT_ID, 'Codec test object', true, [
    ...SCALAR_TYPES.map((t): ResourceSpec => [SINGLE_ID[t], t]),
    ...SCALAR_TYPES.map((t): ResourceSpec => [MULTIPLE_ID[t], t, true]),
    [EXECUTABLE_ID, 'none'],
    [300, 'string'],
  ]),
]);

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${text}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export interface HexFixture {
  readonly name: string;
  readonly source: string;
  readonly path: Lwm2mPath;
  readonly canonical: boolean;
  readonly bytes: Uint8Array;
}

const TLV_FIXTURES = new URL('../fixtures/tlv/', import.meta.url);

/** Reads `test/fixtures/tlv/<name>`: `# key: value` header lines, then hex with `#` comments. */
export function loadTlvFixture(name: string): HexFixture {
  const text = readFileSync(new URL(name, TLV_FIXTURES), 'utf8');
  const headers = new Map<string, string>();
  let hexText = '';
  for (const line of text.split('\n')) {
    const header = /^#\s*([a-z]+):\s*(.*)$/.exec(line);
    if (header) headers.set(header[1] as string, header[2] as string);
    hexText += line.split('#', 1)[0];
  }
  const source = headers.get('source');
  const path = headers.get('path');
  if (!source || !path) throw new Error(`fixture ${name} lacks a "# source:" or "# path:" header`);
  return {
    name,
    source,
    path: parsePath(path),
    canonical: (headers.get('canonical') ?? '').startsWith('yes'),
    bytes: fromHex(hexText),
  };
}

export function tlvFixtureNames(): string[] {
  return readdirSync(TLV_FIXTURES)
    .filter((f) => f.endsWith('.hex'))
    .sort();
}

/** mulberry32: a tiny seeded PRNG so that robustness runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` inputs, a third purely random and the rest mutations of `corpus` entries
 * (byte overwrites, bit flips, truncation, insertion, splicing, length-field bumps).
 */
export function* fuzzInputs(seed: number, count: number, corpus: readonly Uint8Array[]): Generator<Uint8Array> {
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  for (let i = 0; i < count; i++) {
    if (corpus.length === 0 || i % 3 === 0) {
      const out = new Uint8Array(int(48));
      for (let j = 0; j < out.length; j++) out[j] = int(256);
      yield out;
      continue;
    }
    let bytes = Array.from(corpus[int(corpus.length)] as Uint8Array);
    const mutations = 1 + int(4);
    for (let m = 0; m < mutations; m++) {
      const at = int(bytes.length + 1);
      switch (int(7)) {
        case 0:
          if (bytes.length) bytes[at % bytes.length] = int(256);
          break;
        case 1:
          if (bytes.length) bytes[at % bytes.length]! ^= 1 << int(8);
          break;
        case 2:
          bytes = bytes.slice(0, at);
          break;
        case 3:
          bytes.splice(at, 0, ...Array.from({ length: 1 + int(4) }, () => int(256)));
          break;
        case 4:
          bytes.splice(at, 1 + int(4));
          break;
        case 5: {
          // splice in a slice of another corpus entry: keeps structure, breaks lengths
          const other = corpus[int(corpus.length)] as Uint8Array;
          const from = int(other.length + 1);
          bytes.splice(at, 0, ...other.subarray(from, from + int(16)));
          break;
        }
        case 6:
          // saturate a likely length or type byte
          if (bytes.length) bytes[at % bytes.length] = [0xff, 0x00, 0x7f, 0x80, 0x18, 0x1b, 0x38][int(7)] as number;
          break;
      }
    }
    yield new Uint8Array(bytes);
  }
}

/**
 * Feeds every input to `decode` and fails on the first exception that is not a DecodeError,
 * reporting the input so that it can be turned into a regression test.
 */
export function expectOnlyDecodeErrors(
  inputs: Iterable<Uint8Array>,
  decode: (bytes: Uint8Array) => unknown,
): { decoded: number; rejected: number } {
  let decoded = 0;
  let rejected = 0;
  for (const input of inputs) {
    try {
      decode(input);
      decoded++;
    } catch (error) {
      if (!(error instanceof DecodeError)) {
        expect.fail(`input ${hex(input)} threw ${String(error)} instead of a DecodeError`);
      }
      rejected++;
    }
  }
  return { decoded, rejected };
}
