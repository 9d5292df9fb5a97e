/**
 * SenML CBOR representation (RFC 8428 §6) ↔ SenML records, without LwM2M meaning.
 */
import { DecodeError } from '../codec.js';
import { cborInteger, cborNumber, decodeCborItem, encodeCborItem, isByteString, ownBytes } from '../senml/cbor.js';
import type { SenmlOutRecord, SenmlRecord } from '../senml/pack.js';
import { decodeBase64, wrongType, type WireValue } from '../senml/values.js';

/** RFC 8428 §6: integer labels. "vlo" has no integer label; LwM2M TS Core 1.1 §7.4.5 uses the text key. */
const LABELS: ReadonlyMap<number, string> = new Map([
  [-1, 'bver'],
  [-2, 'bn'],
  [-3, 'bt'],
  [-4, 'bu'],
  [-5, 'bv'],
  [-6, 'bs'],
  [0, 'n'],
  [1, 'u'],
  [2, 'v'],
  [3, 'vs'],
  [4, 'vb'],
  [5, 's'],
  [6, 't'],
  [7, 'ut'],
  [8, 'vd'],
]);
const KNOWN_TEXT_KEYS = new Set([...LABELS.values(), 'vlo']);
const VALUE_FIELDS = new Set(['v', 'vs', 'vb', 'vd', 'vlo']);

/** Parses a SenML CBOR pack. A zero-length payload is an empty pack (Leshan reads it so too). */
export function parseSenmlCbor(bytes: Uint8Array, contentFormat: number): SenmlRecord[] {
  if (bytes.length === 0) return [];
  const pack = decodeCborItem(bytes, contentFormat);
  // RFC 8428 §6: the pack is a CBOR array of maps
  if (!Array.isArray(pack)) throw new DecodeError(contentFormat, 0, 'a SenML CBOR pack must be an array');
  return pack.map((item: unknown) => {
    if (!(item instanceof Map)) throw new DecodeError(contentFormat, 0, 'a SenML record must be a CBOR map');
    return readRecord(item, contentFormat);
  });
}

function labelName(key: unknown, contentFormat: number): string | undefined {
  const label = cborNumber(key);
  if (typeof label === 'number' && Number.isInteger(label)) return LABELS.get(label);
  if (label !== undefined) return undefined; // an unknown integer label: ignorable
  if (typeof key === 'string') {
    // text keys: "vlo", and the JSON names some clients also use in CBOR
    if (KNOWN_TEXT_KEYS.has(key)) return key;
    // RFC 8428 §4.4: labels ending in "_" must be understood
    if (key.endsWith('_')) throw new DecodeError(contentFormat, 0, `unsupported must-understand label "${key}"`);
    return undefined;
  }
  throw new DecodeError(contentFormat, 0, 'a SenML label must be an integer or a text string');
}

function readRecord(map: Map<unknown, unknown>, contentFormat: number): SenmlRecord {
  const offset = 0; // cbor-x does not report item positions
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
  const seen = new Set<string>();
  let valueField: string | undefined;
  for (const [key, raw] of map) {
    const name = labelName(key, contentFormat);
    if (name === undefined) continue;
    // the same field twice, e.g. as -2 and as "bn"
    if (seen.has(name)) throw new DecodeError(contentFormat, offset, `record has field "${name}" twice`);
    seen.add(name);
    if (VALUE_FIELDS.has(name)) {
      // RFC 8428 §4.2: a record carries at most one value field
      if (valueField !== undefined)
        throw new DecodeError(contentFormat, offset, `record has both "${valueField}" and "${name}"`);
      valueField = name;
    }
    switch (name) {
      case 'bn':
        record.bn = text(raw, name, contentFormat);
        break;
      case 'n':
        record.n = text(raw, name, contentFormat);
        break;
      case 'bt':
        record.bt = Number(num(raw, name, contentFormat));
        break;
      case 't':
        record.t = Number(num(raw, name, contentFormat));
        break;
      case 'bv':
        record.bv = num(raw, name, contentFormat);
        break;
      case 'bver':
        record.bver = Number(num(raw, name, contentFormat));
        break;
      case 'v':
        record.value = { kind: 'number', value: num(raw, name, contentFormat) };
        break;
      case 'vs':
        record.value = { kind: 'string', value: text(raw, name, contentFormat) };
        break;
      case 'vb':
        if (typeof raw !== 'boolean') wrongType(contentFormat, offset, name, 'a boolean');
        record.value = { kind: 'boolean', value: raw };
        break;
      case 'vd': {
        if (isByteString(raw)) {
          record.value = { kind: 'bytes', value: ownBytes(raw) };
        } else {
          // RFC 8428 §6 wants a byte string; a base64url text string (the JSON form) is accepted too
          const bytes = typeof raw === 'string' ? decodeBase64(raw) : undefined;
          if (!bytes) wrongType(contentFormat, offset, name, 'a byte string');
          record.value = { kind: 'bytes', value: bytes };
        }
        break;
      }
      case 'vlo':
        record.value = { kind: 'objlnk', value: text(raw, name, contentFormat) };
        break;
      case 'bu':
      case 'u':
        text(raw, name, contentFormat);
        break;
      default:
        // bs, s, ut: no place in the LwM2M data model; checked, then ignored
        num(raw, name, contentFormat);
    }
  }
  return record;
}

function text(raw: unknown, field: string, contentFormat: number): string {
  if (typeof raw !== 'string') wrongType(contentFormat, 0, field, 'a text string');
  return raw;
}

function num(raw: unknown, field: string, contentFormat: number): number | bigint {
  const value = cborNumber(raw);
  if (value === undefined) wrongType(contentFormat, 0, field, 'a number');
  return value;
}

/** Writes records as a SenML CBOR pack with integer labels, in the order bn, bt, n, value. */
export function serializeSenmlCbor(records: readonly SenmlOutRecord[], contentFormat: number): Uint8Array {
  const pack = records.map((record) => {
    const map = new Map<number | string, unknown>();
    if (record.bn !== undefined) map.set(-2, record.bn);
    if (record.bt !== undefined) map.set(-3, cborInteger(record.bt));
    if (record.n !== undefined) map.set(0, record.n);
    const value = record.value;
    switch (value.field) {
      case 'v':
        map.set(2, value.float ? value.value : cborInteger(value.value));
        break;
      case 'vs':
        map.set(3, value.value);
        break;
      case 'vb':
        map.set(4, value.value);
        break;
      case 'vd':
        map.set(8, value.value);
        break;
      case 'vlo':
        map.set('vlo', value.value);
        break;
      case 'none':
        break;
    }
    return map;
  });
  return encodeCborItem(pack, contentFormat);
}
