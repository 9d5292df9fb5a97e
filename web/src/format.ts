/** How values, times, addresses and errors read on the page. */
import type { ApiErrorJson, JsonScalar, ResourceType } from './api.js';

/** `[2001:db8::1]:5683` for IPv6 (zone kept), `192.0.2.1:5683` for IPv4: the way URLs write them. */
export function formatAddress(address: string, port: number): { text: string; family: 'IPv6' | 'IPv4' } {
  return address.includes(':') ? { text: `[${address}]:${port}`, family: 'IPv6' } : { text: `${address}:${port}`, family: 'IPv4' };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local clock time, with the date when it is not today. */
export function formatTime(time: number | string, now = Date.now()): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return '—';
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const today = new Date(now);
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  return sameDay ? clock : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}`;
}

export function base64ToHex(base64: string): string {
  try {
    const binary = atob(base64.replace(/-/g, '+').replace(/_/g, '/'));
    return Array.from(binary, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return base64;
  }
}

/** One value as a person reads it: opaque in hex, times in local time, strings as they are. */
export function formatScalar(value: JsonScalar | undefined, type: ResourceType | undefined): string {
  if (value === undefined || value === null) return '—';
  switch (type) {
    case 'opaque':
    case 'unknown': {
      const hex = base64ToHex(String(value));
      return hex === '' ? '(empty)' : `0x${hex.length > 64 ? hex.slice(0, 64) + '…' : hex} (${hex.length / 2} B)`;
    }
    case 'time':
      return typeof value === 'string' ? `${formatTime(value)} (${value})` : String(value);
    case 'string':
      return value === '' ? '(empty)' : String(value);
    default:
      return String(value);
  }
}

export function formatValue(value: JsonScalar | Record<string, JsonScalar> | undefined, type: ResourceType | undefined): string {
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '(no instances)' : entries.map(([id, v]) => `[${id}] ${formatScalar(v, type)}`).join(', ');
  }
  return formatScalar(value, type);
}

export const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'String',
  integer: 'Integer',
  unsignedInteger: 'Unsigned integer',
  float: 'Float',
  boolean: 'Boolean',
  opaque: 'Opaque',
  time: 'Time',
  objlnk: 'Object link',
  corelnk: 'CoRE link',
  none: 'Executable',
  unknown: 'Unknown',
};

/** Content formats by number (LwM2M Core §7.1, the CoAP registry). */
const CONTENT_FORMATS: Readonly<Record<number, string>> = {
  0: 'text',
  40: 'link format',
  42: 'opaque',
  60: 'CBOR',
  110: 'SenML JSON',
  112: 'SenML CBOR',
  1542: 'TLV (legacy)',
  1543: 'JSON (legacy)',
  11542: 'TLV',
  11543: 'LwM2M JSON',
  11544: 'LwM2M CBOR',
};

export function contentFormatName(format: number | undefined): string | undefined {
  return format === undefined ? undefined : (CONTENT_FORMATS[format] ?? `format ${format}`);
}

/** Formats a person may ask a read for: `?format=` names of the REST API. */
export const READ_FORMATS: readonly { value: string; label: string }[] = [
  { value: '', label: 'Automatic' },
  { value: 'tlv', label: 'TLV' },
  { value: 'senml-json', label: 'SenML JSON' },
  { value: 'senml-cbor', label: 'SenML CBOR' },
  { value: 'lwm2m-cbor', label: 'LwM2M CBOR' },
  { value: 'json', label: 'LwM2M JSON' },
  { value: 'text', label: 'Plain text' },
  { value: 'opaque', label: 'Opaque' },
  { value: 'cbor', label: 'CBOR' },
  { value: 'tlv-legacy', label: 'TLV (1542, legacy)' },
  { value: 'json-legacy', label: 'JSON (1543, legacy)' },
];

/** CoAP response codes in words (RFC 7252 §12.1.2, RFC 7959, RFC 8132). */
const COAP_WORDS: Readonly<Record<string, string>> = {
  '4.00': 'Bad request: the device did not understand the request',
  '4.01': 'Unauthorized: the device refuses this server',
  '4.02': 'Bad option',
  '4.03': 'Forbidden: the access control of the device refuses it',
  '4.04': 'Not found: the device has no such object, instance or resource',
  '4.05': 'Method not allowed: the device does not allow this operation here',
  '4.06': 'Not acceptable: the device cannot answer in that format',
  '4.08': 'Request entity incomplete',
  '4.09': 'Conflict',
  '4.12': 'Precondition failed',
  '4.13': 'Request entity too large',
  '4.15': 'Unsupported content format: the device cannot read that format',
  '5.00': 'Internal server error on the device',
  '5.01': 'Not implemented by the device',
  '5.03': 'Service unavailable',
};

/** The hub's own error kinds (src/lwm2m/errors.ts and the REST routes). */
const HUB_WORDS: Readonly<Record<string, string>> = {
  timeout: 'Timeout: the device did not answer',
  decode_error: 'Decode error: the answer of the device could not be read',
  reset: 'The device reset the request (CoAP Reset)',
  sleeping: 'The client sleeps and its request queue is full',
  not_registered: 'The client is not registered',
  bad_request: 'Rejected by the hub',
  unsupported_format: 'The hub cannot use that format here',
  block_transfer: 'Block-wise transfer broke off',
  stopped: 'The hub is stopping',
  not_observed: 'Not observed',
  network: 'The hub did not answer',
};

/** An error in words, with the hub's own explanation when it adds something. */
export function describeError(error: ApiErrorJson): string {
  const words = COAP_WORDS[error.code] ?? HUB_WORDS[error.code];
  const code = /^\d\.\d\d$/.test(error.code) ? ` (${error.code})` : '';
  const detail = error.error && !/^device answered \d\.\d\d$/.test(error.error) ? error.error : '';
  if (!words) return detail || `Failed (${error.code})`;
  return detail && error.code !== 'network' ? `${words}${code} — ${detail}` : `${words}${code}`;
}

const SUCCESS_WORDS: Readonly<Record<string, string>> = {
  '2.01': 'Created',
  '2.02': 'Deleted',
  '2.03': 'Valid',
  '2.04': 'Changed',
  '2.05': 'Content',
};

export function describeSuccess(code: string, contentFormat?: number): string {
  const format = contentFormatName(contentFormat);
  return `${SUCCESS_WORDS[code] ?? 'Done'} (${code})${format ? ` · ${format}` : ''}`;
}
