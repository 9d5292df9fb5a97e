/**
 * Which content formats a simulated client speaks (LwM2M Transport §6.4 / Core §7.4),
 * and the codecs that produce them.
 */
import { ContentFormat, type Codec } from '../../../src/codecs/codec.js';
import { lwm2mCborCodec } from '../../../src/codecs/lwm2m-cbor/index.js';
import { lwm2mJsonCodec } from '../../../src/codecs/lwm2m-json/index.js';
import { createDefaultCodecRegistry, type CodecRegistry } from '../../../src/codecs/registry.js';
import { senmlCborCodec } from '../../../src/codecs/senml-cbor/index.js';
import { senmlJsonCodec } from '../../../src/codecs/senml-json/index.js';

export type Lwm2mVersion = '1.0' | '1.1' | '1.2';

/**
 * The hub's codec registry plus the SenML / LwM2M JSON / LwM2M CBOR codecs, added here
 * for as long as the default registry does not hold them yet.
 */
function simulatorCodecs(): CodecRegistry {
  const registry = createDefaultCodecRegistry();
  const extra: readonly Codec[] = [senmlJsonCodec, senmlCborCodec, lwm2mJsonCodec, lwm2mCborCodec];
  for (const codec of extra) {
    if (codec.contentFormats.every((format) => !registry.has(format))) registry.register(codec);
  }
  return registry;
}

export const codecs: CodecRegistry = simulatorCodecs();

const { TEXT, OPAQUE, CBOR, SENML_JSON, SENML_CBOR, TLV, JSON, TLV_LEGACY, JSON_LEGACY, LWM2M_CBOR } = ContentFormat;

/** Formats each client generation produces and accepts (Transport §6.4: TLV mandatory in 1.0, SenML CBOR from 1.1, LwM2M CBOR from 1.2). */
const SPOKEN: Readonly<Record<Lwm2mVersion | 'legacy', readonly number[]>> = {
  '1.0': [TEXT, OPAQUE, TLV, JSON],
  '1.1': [TEXT, OPAQUE, CBOR, SENML_JSON, SENML_CBOR, TLV, JSON],
  '1.2': [TEXT, OPAQUE, CBOR, SENML_JSON, SENML_CBOR, TLV, JSON, LWM2M_CBOR],
  // Contiki predates the IANA codes: it writes 1542/1543 and reads those or the new ones.
  legacy: [TEXT, OPAQUE, TLV_LEGACY, JSON_LEGACY, TLV, JSON],
};

export class FormatPolicy {
  readonly #spoken: ReadonlySet<number>;

  constructor(
    readonly version: Lwm2mVersion,
    readonly legacy: boolean,
  ) {
    this.#spoken = new Set(SPOKEN[legacy ? 'legacy' : version]);
  }

  /** The format of a Read answer, or undefined when `accept` asks for one we cannot produce (4.06). */
  responseFormat(accept: number | undefined): number | undefined {
    // Contiki answers TLV (or JSON when asked for it) under the pre-IANA codes, whatever Accept said.
    if (this.legacy) return accept === JSON || accept === JSON_LEGACY ? JSON_LEGACY : TLV_LEGACY;
    if (accept === undefined) return this.version === '1.0' ? TLV : SENML_CBOR;
    return this.#spoken.has(accept) && codecs.has(accept) ? accept : undefined;
  }

  /** Whether a payload in this format can be decoded (else 4.15). */
  canDecode(contentFormat: number): boolean {
    return this.#spoken.has(contentFormat) && codecs.has(contentFormat);
  }

  /** SenML formats for Read-Composite / Write-Composite / Send: LwM2M 1.1 and later. */
  get composite(): boolean {
    return !this.legacy && this.version !== '1.0';
  }

  /** The `ct` of the registration's root link: what we speak beyond text and opaque. */
  announced(): number[] {
    return [...this.#spoken].filter((format) => format !== TEXT && format !== OPAQUE).sort((a, b) => a - b);
  }
}
