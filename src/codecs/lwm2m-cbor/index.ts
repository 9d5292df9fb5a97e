/**
 * LwM2M CBOR, content format 11544 (OMA LwM2M TS Core 1.2 §7.4.6).
 *
 * Nested CBOR maps keyed by path ids from the root: {3: {0: {0: "Open Mobile Alliance",
 * 7: {0: 3800, 1: 5000}}}}. A key may be an array of ids that stands for several
 * levels at once ({[3, 0]: {…}}). A map at resource level is a multiple resource,
 * even when empty; `null` is a value-less entry.
 */
import { ContentFormat, DecodeError, EncodeError, type Codec } from '../codec.js';
import type { Lwm2mNode, Lwm2mValue } from '../../model/node.js';
import { getResourceModel, type ModelProvider } from '../../model/object-model.js';
import { formatPath, type Lwm2mPath } from '../../model/path.js';
import {
  cborInteger,
  cborNumber,
  decodeCborItem,
  encodeCborItem,
  epochTimeTag,
  isByteString,
  ownBytes,
} from '../senml/cbor.js';
import type { Lwm2mRecord } from '../senml/records.js';
import { checkNodeAtPath, TreeBuilder, uniqueChildren } from '../senml/tree.js';
import { checkedInteger, formatObjectLink, typeWireValue, type WireValue } from '../senml/values.js';

const FORMAT = ContentFormat.LWM2M_CBOR;
/** Dates that JavaScript (and so cbor-x's tag 1 decoding) can hold: ±8.64e15 ms. */
const MAX_TAGGED_SECONDS = 8.64e12;

/** What the walk over the nested maps reports, in payload order. */
type Visit =
  | { readonly kind: 'value'; readonly path: Lwm2mPath; readonly wire: WireValue }
  | { readonly kind: 'container'; readonly path: Lwm2mPath };

function fail(reason: string): never {
  throw new DecodeError(FORMAT, 0, reason);
}

/** A map key as path ids: an id, or a non-empty array of ids (TS Core 1.2 §7.4.6). */
function keyIds(key: unknown): number[] {
  const single = cborNumber(key);
  if (single !== undefined) return [single as number];
  if (Array.isArray(key) && key.length > 0) return key.map((id: unknown) => cborNumber(id) as number);
  return fail('a map key must be an id or an array of ids');
}

function checkIds(path: readonly number[]): Lwm2mPath {
  if (path.length > 4) fail(`path /${path.join('/')} is deeper than a resource instance`);
  path.forEach((id, level) => {
    // LwM2M Core §7.1: ids are 16-bit, and object instance id 65535 is reserved
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 65535 || (level === 1 && id === 65535)) {
      fail(`invalid id ${String(id)} in path /${path.join('/')}`);
    }
  });
  return path as unknown as Lwm2mPath;
}

function wireValue(raw: unknown, path: Lwm2mPath): WireValue {
  const number = cborNumber(raw);
  if (number !== undefined) return { kind: 'number', value: number };
  if (typeof raw === 'string') return { kind: 'string', value: raw };
  if (typeof raw === 'boolean') return { kind: 'boolean', value: raw };
  if (raw === null) return { kind: 'none' };
  if (isByteString(raw)) return { kind: 'bytes', value: ownBytes(raw) };
  if (raw instanceof Date) {
    // cbor-x turns tags 0 and 1 (RFC 8949 §3.4.1–3.4.2) into Dates
    const ms = raw.getTime();
    if (Number.isNaN(ms)) fail(`invalid date/time at ${formatPath(path)}`);
    return { kind: 'time', value: ms / 1000 };
  }
  return fail(`unsupported CBOR item at ${formatPath(path)}`);
}

function walk(bytes: Uint8Array): Visit[] {
  // a zero-length payload holds no values, as in the SenML formats
  if (bytes.length === 0) return [];
  const root = decodeCborItem(bytes, FORMAT);
  if (!(root instanceof Map)) fail('an LwM2M CBOR payload must be a map');
  const visits: Visit[] = [];
  // recursion depth is bounded: every level adds at least one id and paths stop at 4 ids
  const visit = (map: Map<unknown, unknown>, prefix: readonly number[]): void => {
    for (const [key, value] of map) {
      const path = checkIds([...prefix, ...keyIds(key)]);
      if (value instanceof Map) {
        if (path.length === 4) fail(`resource instance ${formatPath(path)} cannot hold a map`);
        visits.push({ kind: 'container', path });
        visit(value, path);
      } else {
        if (path.length < 3) fail(`a value at ${formatPath(path)} is not at a resource or resource instance`);
        visits.push({ kind: 'value', path, wire: wireValue(value, path) });
      }
    }
  };
  visit(root, []);
  return visits;
}

function typed(path: Lwm2mPath, wire: WireValue, model: ModelProvider): Lwm2mValue {
  return typeWireValue(wire, getResourceModel(model, path[0] as number, path[2] as number));
}

/**
 * Decodes every value of an LwM2M CBOR payload with its absolute path, in payload
 * order (Read-Composite, Send and notifications in 11544 carry several paths).
 */
export function decodeLwm2mCborRecords(bytes: Uint8Array, model: ModelProvider): Lwm2mRecord[] {
  const records: Lwm2mRecord[] = [];
  const seen = new Set<string>();
  for (const item of walk(bytes)) {
    if (item.kind !== 'value') continue;
    const key = formatPath(item.path);
    // two spellings of one path ({[3, 0]: {9: …}} and {3: {0: {9: …}}}) can meet; repeated keys of one map
    // never get here, cbor-x keeps the last
    if (seen.has(key)) fail(`${key} appears twice`);
    seen.add(key);
    records.push({ path: item.path, value: typed(item.path, item.wire, model) });
  }
  return records;
}

function decode(bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider): Lwm2mNode {
  const builder = new TreeBuilder(path, FORMAT);
  for (const item of walk(bytes)) {
    if (item.kind === 'container') builder.addContainer(item.path, 0);
    else builder.addValue(item.path, typed(item.path, item.wire, model), 0);
  }
  return builder.build(model);
}

/** TS Core 1.2 §7.4.6: the CBOR item for each data type. */
function cborValue(value: Lwm2mValue, path: readonly number[]): unknown {
  switch (value.type) {
    case 'integer':
    case 'unsignedInteger':
      return cborInteger(checkedInteger(value, FORMAT));
    case 'float':
      return value.value;
    case 'time': {
      const seconds = value.value;
      // tag 1 as Anjay writes it, so that a reader without the model still sees a time; plain number when
      // a JavaScript Date could not hold it on the way back
      return Number.isSafeInteger(seconds) && Math.abs(seconds) <= MAX_TAGGED_SECONDS
        ? epochTimeTag(seconds)
        : cborInteger(seconds);
    }
    case 'boolean':
    case 'string':
    case 'corelnk':
      return value.value;
    case 'opaque':
      return value.value;
    case 'objlnk':
      return formatObjectLink(value.value, FORMAT);
    case 'none':
      return null;
    case 'unknown':
      throw new EncodeError(
        FORMAT,
        `the value at /${path.join('/')} has an unknown type; decode it with a model first`,
      );
  }
}

/** The CBOR map for `node`, keyed by the ids below it. */
function nodeMap(node: Lwm2mNode, at: readonly number[]): unknown {
  switch (node.kind) {
    case 'object':
      return new Map(
        uniqueChildren(node.instances, at, FORMAT).map((child) => [child.id, nodeMap(child, [...at, child.id])]),
      );
    case 'instance':
      return new Map(
        uniqueChildren(node.resources, at, FORMAT).map((child) => [child.id, nodeMap(child, [...at, child.id])]),
      );
    case 'multipleResource':
      return new Map(
        uniqueChildren(node.instances, at, FORMAT).map((child) => [child.id, nodeMap(child, [...at, child.id])]),
      );
    case 'resource':
    case 'resourceInstance':
      return cborValue(node.value, at);
  }
}

function encode(node: Lwm2mNode, path: Lwm2mPath): Uint8Array {
  checkNodeAtPath(node, path, FORMAT);
  // full nested maps from the root, as Anjay writes them; the request path is not shortened with an array key
  let item = nodeMap(node, path);
  for (let level = path.length - 1; level >= 0; level--) item = new Map([[path[level], item]]);
  return encodeCborItem(item, FORMAT);
}

/** Encodes several values as one LwM2M CBOR payload (Write-Composite in 11544), merged into one tree. */
export function encodeLwm2mCborRecords(records: readonly Lwm2mRecord[]): Uint8Array {
  const root = new Map<number, unknown>();
  for (const record of records) {
    const path = record.path;
    if (record.time !== undefined)
      throw new EncodeError(FORMAT, `LwM2M CBOR carries no time, but ${formatPath(path)} has one; use SenML`);
    if (path.length < 3 && record.value.type !== 'none') {
      throw new EncodeError(FORMAT, `a value needs a resource or resource instance path, not ${formatPath(path)}`);
    }
    let map = root;
    path.forEach((id, level) => {
      if (!Number.isInteger(id) || id < 0 || id > 65535)
        throw new EncodeError(FORMAT, `path ${formatPath(path)} has an id outside 0..65535`);
      const existing = map.get(id);
      if (level === path.length - 1) {
        if (existing !== undefined)
          throw new EncodeError(FORMAT, `${formatPath(path)} is given twice or inside another record`);
        map.set(id, path.length >= 3 ? cborValue(record.value, path) : new Map());
        return;
      }
      if (existing === undefined) {
        const child = new Map<number, unknown>();
        map.set(id, child);
        map = child;
      } else if (existing instanceof Map) {
        map = existing as Map<number, unknown>;
      } else {
        throw new EncodeError(FORMAT, `${formatPath(path)} lies under a record that already has a value`);
      }
    });
  }
  return encodeCborItem(root, FORMAT);
}

export const lwm2mCborCodec: Codec = {
  name: 'LwM2M CBOR',
  contentFormats: [FORMAT],
  decode: (bytes, path, model) => decode(bytes, path, model),
  encode: (node, path) => encode(node, path),
};
