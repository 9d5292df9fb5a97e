/**
 * What a person types, checked before anything is sent: a wrong value gets a message here,
 * not a request that the hub or the device refuses. No DOM: the unit tests import this file.
 */
import type { JsonScalar, ResourceType } from './api.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (message: string): Parsed<never> => ({ ok: false, message });

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A safe integer as a JSON number, beyond 2^53 as a string (how the REST API takes 64-bit values). */
function integerJson(big: bigint): JsonScalar {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

export type OpaqueEncoding = 'hex' | 'base64';

/**
 * A resource value in the JSON the REST API writes (README "Nodes in JSON"): numbers, booleans,
 * opaque as base64, object links as "3:0", times as ISO 8601.
 * `raw` is the text of the input; a time input gives `YYYY-MM-DDTHH:MM[:SS]` in local time.
 */
export function parseValue(type: ResourceType, raw: string, opaqueEncoding: OpaqueEncoding = 'hex'): Parsed<JsonScalar> {
  const text = raw.trim();
  switch (type) {
    case 'string':
    case 'corelnk':
    case 'unknown':
      return ok(raw);
    case 'integer': {
      if (!/^[+-]?\d+$/.test(text)) return fail('Enter a whole number, such as 42 or -7.');
      const big = BigInt(text);
      if (big < INT64_MIN || big > INT64_MAX)
        return fail('Out of range: an Integer has 64 bits (-9223372036854775808 to 9223372036854775807).');
      return ok(integerJson(big));
    }
    case 'unsignedInteger': {
      if (!/^\+?\d+$/.test(text)) return fail('Enter a whole number of 0 or more, such as 42.');
      const big = BigInt(text);
      if (big > UINT64_MAX) return fail('Out of range: an Unsigned Integer has 64 bits (0 to 18446744073709551615).');
      return ok(integerJson(big));
    }
    case 'float': {
      const value = text === '' ? NaN : Number(text);
      if (!Number.isFinite(value)) return fail('Enter a number, such as 21.5 or -3e2.');
      return ok(value);
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return ok(text === 'true');
      return fail('Choose true or false.');
    case 'time': {
      if (/^\d+$/.test(text)) return ok(Number(text)); // seconds since 1970, as the device stores it
      const time = text === '' ? NaN : new Date(text).getTime();
      if (Number.isNaN(time)) return fail('Enter a date and time.');
      return ok(new Date(time).toISOString());
    }
    case 'opaque':
      return opaqueEncoding === 'hex' ? hexToBase64(text) : checkBase64(text);
    case 'objlnk': {
      const match = /^(\d{1,5}):(\d{1,5})$/.exec(text);
      if (!match || Number(match[1]) > 65535 || Number(match[2]) > 65535)
        return fail('Enter an object link as object:instance, such as 3:0 (each 0-65535).');
      return ok(`${Number(match[1])}:${Number(match[2])}`);
    }
    case 'none':
      return fail('This resource is executed, not written.');
  }
}

function hexToBase64(text: string): Parsed<string> {
  const hex = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) return fail('Enter hexadecimal bytes, two digits each, such as 01ff or 01 ff.');
  let binary = '';
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return ok(btoa(binary));
}

function checkBase64(text: string): Parsed<string> {
  const compact = text.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0)
    return fail('Enter base64, such as AQL/ (a multiple of 4 characters).');
  return ok(compact);
}

/**
 * Execute arguments (LwM2M Core §5.4.2): `0='on',1` — digits with an optional quoted value,
 * comma-separated; a value holds printable characters but space, `"`, `'` and `\`.
 */
const EXECUTE_ARGUMENT = String.raw`\d(?:='[\x21\x23-\x26\x28-\x5B\x5D-\x7E]*')?`;
const EXECUTE_ARGUMENTS = new RegExp(`^(?:${EXECUTE_ARGUMENT}(?:,${EXECUTE_ARGUMENT})*)?$`);

export function parseExecuteArguments(raw: string): Parsed<string> {
  const text = raw.trim();
  if (!EXECUTE_ARGUMENTS.test(text))
    return fail("Arguments are digits with an optional quoted value, comma-separated, such as 0='on',1 (LwM2M Core §5.4.2).");
  return ok(text);
}

export type PathLevel = 'object' | 'instance' | 'resource' | 'resourceInstance';
const LEVELS: readonly PathLevel[] = ['object', 'instance', 'resource', 'resourceInstance'];
const EXAMPLES: Readonly<Record<PathLevel, string>> = {
  object: '/3303',
  instance: '/3303/0',
  resource: '/3/0/4',
  resourceInstance: '/3/0/6/0',
};

/** An LwM2M path (`/3/0/4`, `3/0/4` too) whose depth is one of `levels`. */
export function parsePath(raw: string, levels: readonly PathLevel[] = LEVELS, operation = 'This operation'): Parsed<string> {
  const text = raw.trim().replace(/\/$/, '');
  const expected = levels.map((level) => `${level === 'resourceInstance' ? 'resource instance' : level} (${EXAMPLES[level]})`).join(' or ');
  if (text === '') return fail(`${operation} needs a path: ${expected}.`);
  const ids = text.replace(/^\//, '').split('/');
  if (ids.length > 4 || ids.some((id) => !/^\d{1,5}$/.test(id) || Number(id) > 65535))
    return fail(`"${raw.trim()}" is not an LwM2M path: numbers 0-65535 separated by /, such as ${EXAMPLES.resource}.`);
  const level = LEVELS[ids.length - 1] as PathLevel;
  if (!levels.includes(level)) return fail(`${operation} needs a path to a ${expected}.`);
  return ok('/' + ids.map(Number).join('/'));
}

export const ATTRIBUTES = ['pmin', 'pmax', 'gt', 'lt', 'st'] as const;
export type AttributeName = (typeof ATTRIBUTES)[number];

/**
 * Notification attributes (LwM2M Core §5.1.2): an empty field is left as it is, `-` removes
 * the attribute (an empty value on the REST API). pmin and pmax are whole seconds.
 */
export function parseAttributes(raw: Readonly<Partial<Record<AttributeName, string>>>): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  const numbers: Partial<Record<AttributeName, number>> = {};
  for (const name of ATTRIBUTES) {
    const text = (raw[name] ?? '').trim();
    if (text === '') continue;
    if (text === '-') {
      out[name] = '';
      continue;
    }
    const value = Number(text);
    if (name === 'pmin' || name === 'pmax') {
      if (!/^\d+$/.test(text)) return fail(`${name} is a whole number of seconds, 0 or more.`);
    } else if (!Number.isFinite(value)) {
      return fail(`${name} must be a number.`);
    } else if (name === 'st' && value < 0) {
      return fail('st (step) must be 0 or more.');
    }
    numbers[name] = value;
    out[name] = String(value);
  }
  if (Object.keys(out).length === 0) return fail('Fill in at least one attribute (or - to remove one).');
  if (numbers.pmin !== undefined && numbers.pmax !== undefined && numbers.pmax < numbers.pmin)
    return fail('pmax must not be less than pmin.');
  if (numbers.gt !== undefined && numbers.lt !== undefined && numbers.lt >= numbers.gt) return fail('lt must be less than gt.');
  return ok(out);
}

/** The id of a new instance: empty lets the device choose. */
export function parseInstanceId(raw: string): Parsed<number | undefined> {
  const text = raw.trim();
  if (text === '') return ok(undefined);
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65534)
    return fail('An instance id is a whole number 0-65534 (or empty to let the device choose).');
  return ok(Number(text));
}
