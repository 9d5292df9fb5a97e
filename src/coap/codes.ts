/** CoAP codes (RFC 7252 §12.1) as the single byte `class << 5 | detail`. */

export const Method = {
  GET: 0x01,
  POST: 0x02,
  PUT: 0x03,
  DELETE: 0x04,
  FETCH: 0x05, // RFC 8132
  PATCH: 0x06,
  IPATCH: 0x07,
} as const;

export const ResponseCode = {
  CREATED: 0x41, // 2.01
  DELETED: 0x42, // 2.02
  VALID: 0x43, // 2.03
  CHANGED: 0x44, // 2.04
  CONTENT: 0x45, // 2.05
  CONTINUE: 0x5f, // 2.31, RFC 7959
  BAD_REQUEST: 0x80, // 4.00
  UNAUTHORIZED: 0x81,
  BAD_OPTION: 0x82, // 4.02
  FORBIDDEN: 0x83,
  NOT_FOUND: 0x84, // 4.04
  METHOD_NOT_ALLOWED: 0x85, // 4.05
  NOT_ACCEPTABLE: 0x86,
  REQUEST_ENTITY_INCOMPLETE: 0x88, // 4.08, RFC 7959
  PRECONDITION_FAILED: 0x8c,
  REQUEST_ENTITY_TOO_LARGE: 0x8d, // 4.13
  UNSUPPORTED_CONTENT_FORMAT: 0x8f, // 4.15
  INTERNAL_SERVER_ERROR: 0xa0, // 5.00
  NOT_IMPLEMENTED: 0xa1,
  SERVICE_UNAVAILABLE: 0xa3,
} as const;

export const EMPTY_CODE = 0x00;

/** `0x45` → `"2.05"`. */
export function formatCode(code: number): string {
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}`;
}

export function isRequestCode(code: number): boolean {
  return code >= 0x01 && code <= 0x1f;
}

export function isResponseCode(code: number): boolean {
  return code >= 0x40;
}

export function isSuccessCode(code: number): boolean {
  return code >> 5 === 2;
}

const METHOD_NAMES: Record<number, string> = {
  0x01: 'GET',
  0x02: 'POST',
  0x03: 'PUT',
  0x04: 'DELETE',
  0x05: 'FETCH',
  0x06: 'PATCH',
  0x07: 'iPATCH',
};

export function methodName(code: number): string {
  return METHOD_NAMES[code] ?? formatCode(code);
}
