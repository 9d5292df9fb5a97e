/**
 * What a PSK entry may hold, checked the same way whether it comes from REST
 * (`PUT /api/security/{endpoint}`) or from `--security-file`.
 */
import { z } from 'zod';

/**
 * RFC 4279 §5.3: implementations must support identities up to 128 octets and
 * keys up to 64 octets; longer ones would register here and then fail the
 * handshake with some clients, so they are refused up front.
 */
export const MAX_IDENTITY_BYTES = 128;
export const MAX_KEY_BYTES = 64;
/** As the registration's `ep` (registration/parameters.ts). */
export const MAX_ENDPOINT_LENGTH = 255;

// With the u flag a surrogate pair is one code point: this matches only unpaired halves, which UTF-8 cannot carry.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const requiredString = (what: string) => z.string({ error: (issue) => (issue.input === undefined ? 'is missing' : `must be ${what}`) });

export const pskIdentity = requiredString('a string')
  .min(1, 'must not be empty')
  // RFC 4279 §5.1: the identity travels as UTF-8.
  .refine((v) => !LONE_SURROGATE.test(v), 'must be valid Unicode text')
  .refine(
    (v) => Buffer.byteLength(v, 'utf8') <= MAX_IDENTITY_BYTES,
    `must be at most ${MAX_IDENTITY_BYTES} bytes in UTF-8 (RFC 4279 §5.3)`,
  );

export const pskKeyHex = requiredString('a string of hex digits')
  .min(1, 'must not be empty')
  .regex(/^[0-9a-fA-F]*$/, 'must be hex digits only (0-9, a-f), two per byte')
  .refine((v) => v.length % 2 === 0, 'must have an even number of hex digits (two per byte)')
  .refine((v) => v.length / 2 <= MAX_KEY_BYTES, `must be at most ${MAX_KEY_BYTES} bytes (${MAX_KEY_BYTES * 2} hex digits, RFC 4279 §5.3)`)
  .transform((v) => Buffer.from(v, 'hex'));

export const endpointName = requiredString('a string')
  .min(1, 'must not be empty')
  .max(MAX_ENDPOINT_LENGTH, `must be at most ${MAX_ENDPOINT_LENGTH} characters`);

/** `{"identity": "…", "key": "<hex>"}`; unknown members are refused (a typo such as "psk" must not pass silently). */
export const pskCredentials = z.strictObject(
  { identity: pskIdentity, key: pskKeyHex },
  { error: 'must be an object {"identity": "…", "key": "<hex>"}' },
);

export type PskCredentials = z.output<typeof pskCredentials>;

/** `identity: must not be empty`: the first problem, with the member it concerns. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid value';
  if (issue.code === 'unrecognized_keys')
    return `unknown member${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  const where = issue.path.map(String).join('.');
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}
