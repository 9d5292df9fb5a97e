/**
 * LwM2M 1.0 JSON, application/vnd.oma.lwm2m+json (OMA LwM2M TS 1.0 §6.4.4):
 * content format 11543 and the pre-registration code 1543 (same text).
 *
 *   {"bn":"/3/0/","bt":…,"e":[{"n":"0","sv":"…"},{"n":"6/0","v":1,"t":…},{"n":"x","bv":true},{"n":"y","ov":"3:0"}]}
 */
import { ContentFormat, DecodeError, EncodeError, type Codec } from '../codec.js';
import type { Lwm2mNode, Lwm2mValue } from '../../model/node.js';
import { getResourceModel, type ModelProvider } from '../../model/object-model.js';
import { formatPath, type Lwm2mPath } from '../../model/path.js';
import { jsonNumber, jsonString, parseJson, type JsonObject, type JsonValue } from '../senml/json-text.js';
import { namePath, type Lwm2mRecord } from '../senml/records.js';
import { flattenNode, isContainer, TreeBuilder } from '../senml/tree.js';
import {
  checkedInteger,
  encodeBase64,
  formatObjectLink,
  typeWireValue,
  wrongType,
  type WireValue,
} from '../senml/values.js';

const CONTENT_FORMATS = [ContentFormat.JSON, ContentFormat.JSON_LEGACY] as const;
const VALUE_FIELDS = new Set(['v', 'sv', 'bv', 'ov']);

interface LocatedRecord extends Lwm2mRecord {
  readonly offset: number;
}

function formatOf(contentFormat: number | undefined): number {
  return contentFormat === ContentFormat.JSON_LEGACY ? ContentFormat.JSON_LEGACY : ContentFormat.JSON;
}

function readRecords(bytes: Uint8Array, model: ModelProvider, contentFormat: number): LocatedRecord[] {
  // a zero-length payload holds no values, as in the SenML formats
  if (bytes.length === 0) return [];
  const parsed = parseJson(bytes, contentFormat);
  const root = parsed.value;
  if (!(root instanceof Map)) throw new DecodeError(contentFormat, 0, 'an LwM2M JSON payload must be a JSON object');
  const rootOffset = parsed.offsetOf(root);
  const baseName = optionalText(root, 'bn', rootOffset, contentFormat) ?? '';
  const baseTime = optionalNumber(root, 'bt', rootOffset, contentFormat);
  const entries = root.get('e');
  // TS 1.0 §6.4.4: "e" (the resource array) is mandatory, "bn" and "bt" are optional
  if (!Array.isArray(entries)) throw new DecodeError(contentFormat, rootOffset, 'field "e" must be an array');

  return entries.map((item: JsonValue) => {
    if (!(item instanceof Map))
      throw new DecodeError(contentFormat, parsed.offsetOf(entries), 'an entry of "e" must be a JSON object');
    const offset = parsed.offsetOf(item);
    const name = baseName + (optionalText(item, 'n', offset, contentFormat) ?? '');
    const path = namePath(name, contentFormat, offset);
    const wire = readValue(item, offset, contentFormat);
    if (wire.kind !== 'none' && path.length < 3) {
      throw new DecodeError(
        contentFormat,
        offset,
        `a value needs a resource or resource instance path, not ${formatPath(path)}`,
      );
    }
    const resourceModel = path.length >= 3 ? getResourceModel(model, path[0] as number, path[2] as number) : undefined;
    const value = typeWireValue(wire, resourceModel, { base64Text: true });
    const t = optionalNumber(item, 't', offset, contentFormat);
    if (baseTime === undefined && t === undefined) return { path, value, offset };
    // TS 1.0 §6.4.4: the entry time is relative to the base time (read as absolute, as Leshan does)
    const time = (baseTime ?? 0) + (t ?? 0);
    if (!Number.isFinite(time)) throw new DecodeError(contentFormat, offset, 'entry time is not finite');
    return { path, value, time, offset };
  });
}

function readValue(entry: JsonObject, offset: number, contentFormat: number): WireValue {
  let wire: WireValue = { kind: 'none' };
  let field: string | undefined;
  for (const [key, raw] of entry) {
    if (!VALUE_FIELDS.has(key)) continue;
    if (field !== undefined) throw new DecodeError(contentFormat, offset, `entry has both "${field}" and "${key}"`);
    field = key;
    switch (key) {
      case 'v':
        if (typeof raw !== 'number' && typeof raw !== 'bigint') wrongType(contentFormat, offset, key, 'a number');
        wire = { kind: 'number', value: raw };
        break;
      case 'bv':
        if (typeof raw !== 'boolean') wrongType(contentFormat, offset, key, 'a boolean');
        wire = { kind: 'boolean', value: raw };
        break;
      case 'ov':
        if (typeof raw !== 'string') wrongType(contentFormat, offset, key, 'a string');
        wire = { kind: 'objlnk', value: raw };
        break;
      default:
        if (typeof raw !== 'string') wrongType(contentFormat, offset, key, 'a string');
        wire = { kind: 'string', value: raw };
    }
  }
  return wire;
}

function optionalText(object: JsonObject, key: string, offset: number, contentFormat: number): string | undefined {
  const raw = object.get(key);
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') wrongType(contentFormat, offset, key, 'a string');
  return raw;
}

function optionalNumber(object: JsonObject, key: string, offset: number, contentFormat: number): number | undefined {
  const raw = object.get(key);
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' && typeof raw !== 'bigint') wrongType(contentFormat, offset, key, 'a number');
  return Number(raw);
}

/**
 * Decodes every entry of an LwM2M JSON payload, in payload order, with its time
 * (bt + t, in seconds). For time series in 1.0 notifications, where one path may
 * appear several times.
 */
export function decodeLwm2mJsonRecords(bytes: Uint8Array, model: ModelProvider, contentFormat?: number): Lwm2mRecord[] {
  return readRecords(bytes, model, formatOf(contentFormat)).map(({ path, value, time }) =>
    time === undefined ? { path, value } : { path, value, time },
  );
}

/** TS 1.0 §6.4.4: numbers in "v", booleans in "bv", object links in "ov", the rest in "sv". */
function valueField(value: Lwm2mValue, path: Lwm2mPath, contentFormat: number): string | undefined {
  switch (value.type) {
    case 'integer':
    case 'unsignedInteger':
      return `"v":${jsonNumber(checkedInteger(value, contentFormat), false, contentFormat)}`;
    case 'float':
      return `"v":${jsonNumber(value.value, true, contentFormat)}`;
    case 'time':
      return `"v":${jsonNumber(value.value, false, contentFormat)}`;
    case 'boolean':
      return `"bv":${value.value}`;
    case 'objlnk':
      return `"ov":${jsonString(formatObjectLink(value.value, contentFormat))}`;
    case 'string':
    case 'corelnk':
      return `"sv":${jsonString(value.value)}`;
    case 'opaque':
      // TS 1.0 §6.4.4: opaque values travel Base64-encoded in "sv"
      return `"sv":${jsonString(encodeBase64(value.value))}`;
    case 'none':
      return undefined;
    case 'unknown':
      throw new EncodeError(
        contentFormat,
        `the value at ${formatPath(path)} has an unknown type; decode it with a model first`,
      );
  }
}

function encode(node: Lwm2mNode, path: Lwm2mPath, contentFormat: number): Uint8Array {
  const entries = flattenNode(node, path, contentFormat);
  // as Leshan: the base name is the request path ("/" appended for containers), names are relative
  const baseName = formatPath(path) + (isContainer(node) ? '/' : '');
  const items = entries.map((entry) => {
    const fields: string[] = [];
    const relative = entry.path.slice(path.length).join('/');
    if (relative !== '') fields.push(`"n":${jsonString(relative)}`);
    const value = valueField(entry.value, entry.path, contentFormat);
    if (value !== undefined) fields.push(value);
    return `{${fields.join(',')}}`;
  });
  return new TextEncoder().encode(`{"bn":${jsonString(baseName)},"e":[${items.join(',')}]}`);
}

export const lwm2mJsonCodec: Codec = {
  name: 'LwM2M JSON',
  contentFormats: CONTENT_FORMATS,
  decode(bytes, path, model, contentFormat) {
    const format = formatOf(contentFormat);
    const builder = new TreeBuilder(path, format);
    for (const record of readRecords(bytes, model, format)) builder.addValue(record.path, record.value, record.offset);
    return builder.build(model);
  },
  encode: (node, path, _model, contentFormat) => encode(node, path, formatOf(contentFormat)),
};
