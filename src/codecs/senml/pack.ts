/**
 * The SenML data model shared by the JSON and CBOR representations (RFC 8428 §4),
 * independent of LwM2M: records as they appear on the wire, and their resolution
 * into self-contained records (RFC 8428 §4.6).
 */
import { DecodeError } from '../codec.js';
import type { WireValue } from './values.js';

/** One SenML record with the fields LwM2M uses (RFC 8428 §4.1–4.3; `vlo` from LwM2M TS Core 1.1 §7.4.4). */
export interface SenmlRecord {
  readonly bn?: string;
  readonly bt?: number;
  readonly bv?: number | bigint;
  readonly bver?: number;
  readonly n?: string;
  readonly t?: number;
  /** The one value field of the record (v, vs, vb, vd or vlo), `none` when it has none. */
  readonly value: WireValue;
  /** Byte offset of the record in the payload (0 when unknown), for error reporting. */
  readonly offset: number;
}

export interface ResolvedSenmlRecord {
  readonly name: string;
  /** Absolute time in seconds since the Unix epoch; undefined when the record carries no time. */
  readonly time?: number;
  readonly value: WireValue;
  readonly offset: number;
}

export interface ResolveOptions {
  /**
   * "Now" in seconds since the epoch, for times below 2^28 that RFC 8428 §4.5.3 defines as
   * relative to the current time. Defaults to the clock when such a time is met.
   */
  readonly now?: number;
}

/** RFC 8428 §4.5.3: times below 2^28 s (about 8.5 years) are relative to "now". */
export const RELATIVE_TIME_LIMIT = 2 ** 28;

/** RFC 8428 §4.1 (bver): version 10 is the one this reader understands; a later one may change meanings. */
const SUPPORTED_VERSION = 10;

/** RFC 8428 §4.6: applies base fields (which persist until replaced, §4.1) to get self-contained records. */
export function resolveSenmlPack(
  records: readonly SenmlRecord[],
  contentFormat: number,
  options: ResolveOptions = {},
): ResolvedSenmlRecord[] {
  let baseName = '';
  let baseTime: number | undefined;
  let baseValue: number | bigint | undefined;
  let now = options.now;
  const resolved: ResolvedSenmlRecord[] = [];
  for (const record of records) {
    if (record.bver !== undefined && record.bver > SUPPORTED_VERSION) {
      throw new DecodeError(
        contentFormat,
        record.offset,
        `SenML version ${record.bver} is newer than ${SUPPORTED_VERSION}`,
      );
    }
    if (record.bn !== undefined) baseName = record.bn;
    if (record.bt !== undefined) baseTime = record.bt;
    if (record.bv !== undefined) baseValue = record.bv;

    let time: number | undefined;
    if (baseTime !== undefined || record.t !== undefined) {
      time = (baseTime ?? 0) + (record.t ?? 0);
      if (!Number.isFinite(time)) throw new DecodeError(contentFormat, record.offset, 'record time is not finite');
      if (time < RELATIVE_TIME_LIMIT) {
        now ??= Date.now() / 1000;
        time = now + time;
      }
    }

    let value = record.value;
    if (baseValue !== undefined && value.kind === 'number') {
      value = { kind: 'number', value: addNumbers(baseValue, value.value) };
    }
    const name = baseName + (record.n ?? '');
    resolved.push(
      time === undefined ? { name, value, offset: record.offset } : { name, time, value, offset: record.offset },
    );
  }
  return resolved;
}

/** Sum that stays exact while both sides are integers (RFC 8428 §4.6: v = bv + v). */
function addNumbers(a: number | bigint, b: number | bigint): number | bigint {
  const ai = typeof a === 'bigint' ? a : Number.isSafeInteger(a) ? BigInt(a) : undefined;
  const bi = typeof b === 'bigint' ? b : Number.isSafeInteger(b) ? BigInt(b) : undefined;
  if (ai !== undefined && bi !== undefined) return ai + bi;
  return Number(a) + Number(b);
}

/** The value field of a record to write (RFC 8428 §4.2; `vlo` per LwM2M TS Core 1.1 §7.4.4). */
export type SenmlOutValue =
  | { readonly field: 'v'; readonly value: number | bigint; readonly float: boolean }
  | { readonly field: 'vs'; readonly value: string }
  | { readonly field: 'vb'; readonly value: boolean }
  | { readonly field: 'vd'; readonly value: Uint8Array }
  | { readonly field: 'vlo'; readonly value: string }
  | { readonly field: 'none' };

/** A record to write; fields are written in the order bn, bt, n, value (as Leshan does). */
export interface SenmlOutRecord {
  readonly bn?: string;
  readonly bt?: number;
  readonly n?: string;
  readonly value: SenmlOutValue;
}
