/**
 * Content format number → Codec (CoAP Content-Formats registry, LwM2M Transport §6.4).
 *
 * The CoAP layer asks the registry which formats it can decode (for 4.15 Unsupported Content-Format)
 * and decodes through `decodePayload`, which never throws.
 */
import { DecodeError, EncodeError, type Codec } from './codec.js';
import type { Lwm2mNode } from '../model/node.js';
import type { ModelProvider } from '../model/object-model.js';
import type { Lwm2mPath } from '../model/path.js';
import { cborCodec } from './cbor/index.js';
import { opaqueCodec } from './opaque/index.js';
import { textCodec } from './text/index.js';
import { tlvCodec } from './tlv/index.js';
import { senmlJsonCodec } from './senml-json/index.js';
import { senmlCborCodec } from './senml-cbor/index.js';
import { lwm2mJsonCodec } from './lwm2m-json/index.js';
import { lwm2mCborCodec } from './lwm2m-cbor/index.js';

/** The payload's content format has no codec here; a CoAP server answers 4.15 (RFC 7252 §5.9.2.10). */
export class UnsupportedContentFormatError extends DecodeError {
  readonly unsupported = true;
  constructor(contentFormat: number) {
    super(contentFormat, 0, 'unsupported content format');
  }
}

export type DecodeResult = { readonly ok: true; readonly node: Lwm2mNode } | { readonly ok: false; readonly error: DecodeError };

export class CodecRegistry {
  readonly #byFormat = new Map<number, Codec>();

  /** Adds a codec under each of its content formats. A format registered twice is a wiring mistake. */
  register(codec: Codec): this {
    for (const format of codec.contentFormats) {
      const existing = this.#byFormat.get(format);
      if (existing && existing !== codec) {
        throw new Error(`content format ${format} is already registered to ${existing.name}, not adding ${codec.name}`);
      }
    }
    for (const format of codec.contentFormats) this.#byFormat.set(format, codec);
    return this;
  }

  get(contentFormat: number): Codec | undefined {
    return this.#byFormat.get(contentFormat);
  }

  has(contentFormat: number): boolean {
    return this.#byFormat.has(contentFormat);
  }

  /** Registered content formats, ascending (for Accept negotiation and diagnostics). */
  formats(): number[] {
    return [...this.#byFormat.keys()].sort((a, b) => a - b);
  }

  /**
   * Decodes without throwing. A codec that breaks the totality contract (throws something other
   * than DecodeError) is reported as a DecodeError too, so one bad payload cannot take a request
   * handler down; the original error is kept as `cause`.
   */
  decode(contentFormat: number, bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider): DecodeResult {
    const codec = this.#byFormat.get(contentFormat);
    if (!codec) return { ok: false, error: new UnsupportedContentFormatError(contentFormat) };
    try {
      return { ok: true, node: codec.decode(bytes, path, model, contentFormat) };
    } catch (error) {
      if (error instanceof DecodeError) return { ok: false, error };
      const wrapped = new DecodeError(
        contentFormat,
        0,
        `decoder ${codec.name} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
      );
      Object.defineProperty(wrapped, 'cause', { value: error, enumerable: false });
      return { ok: false, error: wrapped };
    }
  }

  /** Encodes; throws EncodeError for an unknown format or a node the format cannot carry. */
  encode(contentFormat: number, node: Lwm2mNode, path: Lwm2mPath, model: ModelProvider): Uint8Array {
    const codec = this.#byFormat.get(contentFormat);
    if (!codec) throw new EncodeError(contentFormat, 'unsupported content format');
    return codec.encode(node, path, model, contentFormat);
  }
}

/**
 * A registry holding every codec of the hub. (Named apart from model/object-registry.ts's
 * createDefaultRegistry, which builds the registry of object definitions.)
 */
export function createDefaultCodecRegistry(): CodecRegistry {
  const registry = new CodecRegistry();
  registry.register(textCodec); // 0
  registry.register(opaqueCodec); // 42
  registry.register(cborCodec); // 60
  registry.register(tlvCodec); // 11542, 1542

  registry.register(senmlJsonCodec); // 110
  registry.register(senmlCborCodec); // 112
  registry.register(lwm2mJsonCodec); // 11543, 1543
  registry.register(lwm2mCborCodec); // 11544

  return registry;
}

export const defaultCodecRegistry: CodecRegistry = createDefaultCodecRegistry();

export function decodePayload(
  contentFormat: number,
  bytes: Uint8Array,
  path: Lwm2mPath,
  model: ModelProvider,
  registry: CodecRegistry = defaultCodecRegistry,
): DecodeResult {
  return registry.decode(contentFormat, bytes, path, model);
}

export function encodePayload(
  contentFormat: number,
  node: Lwm2mNode,
  path: Lwm2mPath,
  model: ModelProvider,
  registry: CodecRegistry = defaultCodecRegistry,
): Uint8Array {
  return registry.encode(contentFormat, node, path, model);
}
