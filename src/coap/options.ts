/** CoAP option numbers (RFC 7252 §12.2, RFC 7641, RFC 7959, RFC 8613, RFC 7967). */
export const OptionNumber = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  OSCORE: 9,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  ACCEPT: 17,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
  NO_RESPONSE: 258,
} as const;

const KNOWN_OPTIONS: ReadonlySet<number> = new Set(Object.values(OptionNumber));

/** RFC 7252 §5.4.1: odd option numbers are critical. */
export function isCritical(optionNumber: number): boolean {
  return (optionNumber & 1) === 1;
}

export function isKnownOption(optionNumber: number): boolean {
  return KNOWN_OPTIONS.has(optionNumber);
}

export interface CoapOption {
  readonly number: number;
  readonly value: Buffer;
}

/** RFC 7252 §3.2 uint option values: big-endian, no leading zero bytes. */
export function encodeUint(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uint option value out of range: ${value}`);
  }
  if (value === 0) return Buffer.alloc(0);
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes);
}

export function decodeUint(value: Buffer): number {
  let result = 0;
  for (const byte of value) result = result * 256 + byte;
  return result;
}

export function uintOption(number: number, value: number): CoapOption {
  return { number, value: encodeUint(value) };
}

export function stringOption(number: number, value: string): CoapOption {
  return { number, value: Buffer.from(value, 'utf8') };
}

export function getOption(options: readonly CoapOption[], number: number): Buffer | undefined {
  return options.find((o) => o.number === number)?.value;
}

export function getOptions(options: readonly CoapOption[], number: number): Buffer[] {
  return options.filter((o) => o.number === number).map((o) => o.value);
}

export function getUintOption(options: readonly CoapOption[], number: number): number | undefined {
  const value = getOption(options, number);
  return value === undefined ? undefined : decodeUint(value);
}

export function getStringOptions(options: readonly CoapOption[], number: number): string[] {
  return getOptions(options, number).map((v) => v.toString('utf8'));
}
