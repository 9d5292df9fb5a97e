/**
 * SenML JSON representation (RFC 8428 §5) ↔ SenML records, without LwM2M meaning.
 */
import { DecodeError } from '../codec.js';
import { jsonNumber, jsonString, parseJson, type JsonObject, type JsonValue } from '../senml/json-text.js';
import type { SenmlOutRecord, SenmlRecord } from '../senml/pack.js';
import { decodeBase64, encodeBase64Url, wrongType, type WireValue } from '../senml/values.js';

const VALUE_FIELDS = new Set(['v', 'vs', 'vb', 'vd', 'vlo']);

/** Parses a SenML JSON pack. A zero-length payload is an empty pack (Leshan reads it so too). */
export function parseSenmlJson(bytes: Uint8Array, contentFormat: number): SenmlRecord[] {
  if (bytes.length === 0) return [];
  const parsed = parseJson(bytes, contentFormat);
  const pack = parsed.value;
  // RFC 8428 §5: the pack is a JSON array of records
  if (!Array.isArray(pack)) throw new DecodeError(contentFormat, 0, 'a SenML JSON pack must be an array');
  return pack.map((item: JsonValue) => {
    if (!(item instanceof Map))
      throw new DecodeError(contentFormat, parsed.offsetOf(pack), 'a SenML record must be a JSON object');
    return readRecord(item, parsed.offsetOf(item), contentFormat);
  });
}

function readRecord(members: JsonObject, offset: number, contentFormat: number): SenmlRecord {
  const record: {
    bn?: string;
    bt?: number;
    bv?: number | bigint;
    bver?: number;
    n?: string;
    t?: number;
    value: WireValue;
    offset: number;
  } = { value: { kind: 'none' }, offset };
  let valueField: string | undefined;
  for (const [key, raw] of members) {
    if (VALUE_FIELDS.has(key)) {
      // RFC 8428 §4.2: a record carries at most one value field
      if (valueField !== undefined)
        throw new DecodeError(contentFormat, offset, `record has both "${valueField}" and "${key}"`);
      valueField = key;
    }
    switch (key) {
      case 'bn':
        record.bn = text(raw, key, offset, contentFormat);
        break;
      case 'n':
        record.n = text(raw, key, offset, contentFormat);
        break;
      case 'bt':
        record.bt = Number(num(raw, key, offset, contentFormat));
        break;
      case 't':
        record.t = Number(num(raw, key, offset, contentFormat));
        break;
      case 'bv':
        record.bv = num(raw, key, offset, contentFormat);
        break;
      case 'bver':
        record.bver = Number(num(raw, key, offset, contentFormat));
        break;
      case 'v':
        record.value = { kind: 'number', value: num(raw, key, offset, contentFormat) };
        break;
      case 'vs':
        record.value = { kind: 'string', value: text(raw, key, offset, contentFormat) };
        break;
      case 'vb':
        if (typeof raw !== 'boolean') wrongType(contentFormat, offset, key, 'a boolean');
        record.value = { kind: 'boolean', value: raw };
        break;
      case 'vd': {
        const bytes = decodeBase64(text(raw, key, offset, contentFormat));
        // RFC 8428 §5: base64url; standard base64 and padding are accepted as well
        if (!bytes) throw new DecodeError(contentFormat, offset, 'field "vd" is not base64url');
        record.value = { kind: 'bytes', value: bytes };
        break;
      }
      case 'vlo':
        record.value = { kind: 'objlnk', value: text(raw, key, offset, contentFormat) };
        break;
      case 'bu':
      case 'u':
        text(raw, key, offset, contentFormat);
        break;
      case 'bs':
      case 's':
      case 'ut':
        // sums and update times have no place in the LwM2M data model; they are checked, then ignored
        num(raw, key, offset, contentFormat);
        break;
      default:
        // RFC 8428 §4.4: labels ending in "_" must be understood, others may be ignored
        if (key.endsWith('_'))
          throw new DecodeError(contentFormat, offset, `unsupported must-understand field "${key}"`);
    }
  }
  return record;
}

function text(raw: JsonValue, key: string, offset: number, contentFormat: number): string {
  if (typeof raw !== 'string') wrongType(contentFormat, offset, key, 'a string');
  return raw;
}

function num(raw: JsonValue, key: string, offset: number, contentFormat: number): number | bigint {
  if (typeof raw !== 'number' && typeof raw !== 'bigint') wrongType(contentFormat, offset, key, 'a number');
  return raw;
}

/** Writes records as compact SenML JSON, fields in the order bn, bt, n, value. */
export function serializeSenmlJson(records: readonly SenmlOutRecord[], contentFormat: number): Uint8Array {
  const parts = records.map((record) => {
    const fields: string[] = [];
    if (record.bn !== undefined) fields.push(`"bn":${jsonString(record.bn)}`);
    if (record.bt !== undefined) fields.push(`"bt":${jsonNumber(record.bt, false, contentFormat)}`);
    if (record.n !== undefined) fields.push(`"n":${jsonString(record.n)}`);
    const value = record.value;
    switch (value.field) {
      case 'v':
        fields.push(`"v":${jsonNumber(value.value, value.float, contentFormat)}`);
        break;
      case 'vs':
      case 'vlo':
        fields.push(`"${value.field}":${jsonString(value.value)}`);
        break;
      case 'vb':
        fields.push(`"vb":${value.value}`);
        break;
      case 'vd':
        fields.push(`"vd":${jsonString(encodeBase64Url(value.value))}`);
        break;
      case 'none':
        break;
    }
    return `{${fields.join(',')}}`;
  });
  return new TextEncoder().encode(`[${parts.join(',')}]`);
}
