import type { Lwm2mNode } from '../model/node.js';
import type { ModelProvider } from '../model/object-model.js';
import type { Lwm2mPath } from '../model/path.js';

/**
 * The one error a decoder may throw. Decoders are total: any byte string yields
 * nodes or a DecodeError, never another exception, never an allocation sized by
 * an untrusted length field.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    /** Content format being decoded. */
    readonly contentFormat: number,
    /** Byte offset in the input where decoding failed (0 when not meaningful). */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`cannot decode content format ${contentFormat} at byte ${offset}: ${reason}`);
  }
}

/** Raised by an encoder asked to encode what its format cannot carry (e.g. an object in text/plain). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly contentFormat: number,
    readonly reason: string,
  ) {
    super(`cannot encode to content format ${contentFormat}: ${reason}`);
  }
}

/**
 * One content format (or a family of codes for the same bytes, such as TLV 11542 and legacy 1542).
 * `path` is the request path the payload answers; decoders return the node at that path.
 */
export interface Codec {
  readonly name: string;
  readonly contentFormats: readonly number[];
  decode(bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider, contentFormat?: number): Lwm2mNode;
  encode(node: Lwm2mNode, path: Lwm2mPath, model: ModelProvider, contentFormat?: number): Uint8Array;
}

/** Numeric content formats (CoAP Content-Formats registry and LwM2M Transport §6.4). */
export const ContentFormat = {
  TEXT: 0,
  LINK: 40,
  OPAQUE: 42,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV_LEGACY: 1542,
  JSON_LEGACY: 1543,
  TLV: 11542,
  JSON: 11543,
  LWM2M_CBOR: 11544,
} as const;
