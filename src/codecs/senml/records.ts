/**
 * SenML records ↔ LwM2M values and nodes (LwM2M TS Core 1.1 §7.4.4 "SenML JSON",
 * §7.4.5 "SenML CBOR"): the part shared by both representations.
 *
 * Single-node payloads (Read/Write/Observe of one path) go through the codecs;
 * multi-path payloads (Read-Composite, Observe-Composite, Send, time series in
 * notifications) go through decodeSenmlRecords / encodeSenmlRecords.
 */
import { ContentFormat, DecodeError, EncodeError } from '../codec.js';
import type { Lwm2mNode, Lwm2mValue } from '../../model/node.js';
import { getResourceModel, type ModelProvider } from '../../model/object-model.js';
import { formatPath, parsePath, PathError, type Lwm2mPath } from '../../model/path.js';
import { parseSenmlCbor, serializeSenmlCbor } from '../senml-cbor/wire.js';
import { parseSenmlJson, serializeSenmlJson } from '../senml-json/wire.js';
import {
  resolveSenmlPack,
  type ResolveOptions,
  type SenmlOutRecord,
  type SenmlOutValue,
  type SenmlRecord,
} from './pack.js';
import { flattenNode, isContainer, TreeBuilder } from './tree.js';
import { checkedInteger, formatObjectLink, isId, typeWireValue } from './values.js';

/** One value of a multi-path payload, resolved to an absolute path and time. */
export interface Lwm2mRecord {
  readonly path: Lwm2mPath;
  /** `{ type: 'none' }` for a record without value (the paths of a Read-Composite request). */
  readonly value: Lwm2mValue;
  /** Seconds since the Unix epoch (RFC 8428 §4.5.3 resolution); absent when the record has no time. */
  readonly time?: number;
}

export type SenmlContentFormat = typeof ContentFormat.SENML_JSON | typeof ContentFormat.SENML_CBOR;

export type DecodeRecordsOptions = ResolveOptions;

interface LocatedRecord extends Lwm2mRecord {
  readonly offset: number;
}

function parsePack(bytes: Uint8Array, contentFormat: number): SenmlRecord[] {
  switch (contentFormat) {
    case ContentFormat.SENML_JSON:
      return parseSenmlJson(bytes, contentFormat);
    case ContentFormat.SENML_CBOR:
      return parseSenmlCbor(bytes, contentFormat);
    default:
      throw new DecodeError(contentFormat, 0, 'not a SenML content format (110 or 112)');
  }
}

function serializePack(records: readonly SenmlOutRecord[], contentFormat: number): Uint8Array {
  switch (contentFormat) {
    case ContentFormat.SENML_JSON:
      return serializeSenmlJson(records, contentFormat);
    case ContentFormat.SENML_CBOR:
      return serializeSenmlCbor(records, contentFormat);
    default:
      throw new EncodeError(contentFormat, 'not a SenML content format (110 or 112)');
  }
}

function locatedRecords(
  bytes: Uint8Array,
  contentFormat: number,
  model: ModelProvider,
  options: ResolveOptions,
): LocatedRecord[] {
  const resolved = resolveSenmlPack(parsePack(bytes, contentFormat), contentFormat, options);
  return resolved.map((record) => {
    // LwM2M TS Core 1.1 §7.4.4: the resolved name (bn + n) is the path of the value
    const path = namePath(record.name, contentFormat, record.offset);
    if (record.value.kind !== 'none' && path.length < 3) {
      throw new DecodeError(
        contentFormat,
        record.offset,
        `a value needs a resource or resource instance path, not ${formatPath(path)}`,
      );
    }
    const resourceModel = path.length >= 3 ? getResourceModel(model, path[0] as number, path[2] as number) : undefined;
    const value = typeWireValue(record.value, resourceModel);
    return record.time === undefined
      ? { path, value, offset: record.offset }
      : { path, value, time: record.time, offset: record.offset };
  });
}

/**
 * The path a resolved name denotes. Canonical names ("/3/0/9", "/3/0/") are read by hand
 * because this runs once per record; anything else goes to parsePath, which decides.
 */
export function namePath(name: string, contentFormat: number, offset: number): Lwm2mPath {
  const ids: number[] = [];
  let id = -1;
  let canonical = name.charCodeAt(0) === 0x2f && name.length > 1;
  for (let i = 1; canonical && i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f) {
      canonical = id >= 0;
      ids.push(id);
      id = -1;
    } else if (c >= 0x30 && c <= 0x39 && id !== 0) {
      id = id < 0 ? c - 0x30 : id * 10 + (c - 0x30);
      canonical = id <= 65535;
    } else {
      canonical = false;
    }
  }
  if (canonical && id >= 0) ids.push(id);
  if (canonical && ids.length <= 4 && ids[1] !== 65535) return ids as unknown as Lwm2mPath;
  try {
    return parsePath(name);
  } catch (error) {
    const reason = error instanceof PathError ? error.reason : 'invalid path';
    throw new DecodeError(contentFormat, offset, `record name "${name}" is not an LwM2M path: ${reason}`);
  }
}

/**
 * Decodes a multi-path SenML payload (110 or 112) into resolved records, in payload
 * order. Several records may share a path (time series). Records without a value
 * come back with `{ type: 'none' }`, at any path level.
 */
export function decodeSenmlRecords(
  bytes: Uint8Array,
  contentFormat: SenmlContentFormat,
  model: ModelProvider,
  options: DecodeRecordsOptions = {},
): Lwm2mRecord[] {
  return locatedRecords(bytes, contentFormat, model, options).map(({ path, value, time }) =>
    time === undefined ? { path, value } : { path, value, time },
  );
}

/** Decodes the node at `path` from a SenML pack; used by the SenML JSON and CBOR codecs. */
export function decodeSenmlNode(
  bytes: Uint8Array,
  path: Lwm2mPath,
  model: ModelProvider,
  contentFormat: number,
): Lwm2mNode {
  const builder = new TreeBuilder(path, contentFormat);
  // times play no part in a single node; `now` is pinned so that decoding never reads the clock
  for (const record of locatedRecords(bytes, contentFormat, model, { now: 0 })) {
    builder.addValue(record.path, record.value, record.offset);
  }
  return builder.build(model);
}

/**
 * Encodes the node at `path` the way Leshan and Wakaama do: the first record carries
 * the base name (the path, with a trailing "/" for containers), names are relative.
 */
export function encodeSenmlNode(node: Lwm2mNode, path: Lwm2mPath, contentFormat: number): Uint8Array {
  const entries = flattenNode(node, path, contentFormat);
  const baseName = formatPath(path) + (isContainer(node) ? '/' : '');
  const records = entries.map((entry, index): SenmlOutRecord => {
    const relative = entry.path.slice(path.length).join('/');
    return {
      bn: index === 0 ? baseName : undefined,
      n: relative === '' ? undefined : relative,
      value: senmlOutValue(entry.value, entry.path, contentFormat),
    };
  });
  return serializePack(records, contentFormat);
}

/**
 * Encodes a multi-path payload (Write-Composite, or any list of values): each record
 * names its full path in `bn` and carries its time in `bt`, as Leshan writes them.
 * Base fields persist (RFC 8428 §4.1), so a record without time that follows a timed
 * one gets `bt: 0`, which RFC 8428 §4.5.3 reads as "now".
 */
export function encodeSenmlRecords(records: readonly Lwm2mRecord[], contentFormat: SenmlContentFormat): Uint8Array {
  let timed = false;
  const out = records.map((record): SenmlOutRecord => {
    checkPath(record.path, contentFormat);
    const value = senmlOutValue(record.value, record.path, contentFormat);
    if (value.field !== 'none' && record.path.length < 3) {
      throw new EncodeError(
        contentFormat,
        `a value needs a resource or resource instance path, not ${formatPath(record.path)}`,
      );
    }
    const bn = formatPath(record.path);
    if (record.time !== undefined) {
      if (!Number.isFinite(record.time)) throw new EncodeError(contentFormat, `time ${record.time} is not finite`);
      timed = true;
      return { bn, bt: record.time, value };
    }
    return timed ? { bn, bt: 0, value } : { bn, value };
  });
  return serializePack(out, contentFormat);
}

/** The request body of Read-Composite / Observe-Composite (TS Core 1.1 §7.4.4, Table 7.4.4-6): names only. */
export function encodeSenmlPaths(paths: readonly Lwm2mPath[], contentFormat: SenmlContentFormat): Uint8Array {
  return serializePack(
    paths.map((path): SenmlOutRecord => {
      checkPath(path, contentFormat);
      return { n: formatPath(path), value: { field: 'none' } };
    }),
    contentFormat,
  );
}

function checkPath(path: Lwm2mPath, contentFormat: number): void {
  if (!path.every(isId)) throw new EncodeError(contentFormat, `path ${formatPath(path)} has an id outside 0..65535`);
}

/** LwM2M TS Core 1.1 §7.4.4, Table 7.4.4-1: which SenML field carries each data type. */
function senmlOutValue(value: Lwm2mValue, path: Lwm2mPath, contentFormat: number): SenmlOutValue {
  switch (value.type) {
    case 'integer':
    case 'unsignedInteger':
      return { field: 'v', value: checkedInteger(value, contentFormat), float: false };
    case 'float':
      return { field: 'v', value: value.value, float: true };
    case 'time':
      return { field: 'v', value: value.value, float: false };
    case 'boolean':
      return { field: 'vb', value: value.value };
    case 'string':
    case 'corelnk':
      return { field: 'vs', value: value.value };
    case 'opaque':
      return { field: 'vd', value: value.value };
    case 'objlnk':
      return { field: 'vlo', value: formatObjectLink(value.value, contentFormat) };
    case 'none':
      return { field: 'none' };
    case 'unknown':
      throw new EncodeError(
        contentFormat,
        `the value at ${formatPath(path)} has an unknown type; decode it with a model first`,
      );
  }
}
