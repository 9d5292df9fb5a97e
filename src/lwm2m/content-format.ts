/**
 * Which content format to ask a client for (LwM2M Transport §6.4, Core §7.4):
 * what it answered before wins (old clients answer TLV 1542 / JSON 1543 whatever
 * Accept said, and then get those codes back); else what its version must support:
 * TLV for 1.0, SenML CBOR for 1.1 and later (SenML JSON when it announced only that).
 */
import { ContentFormat } from '../codecs/codec.js';
import type { Registration } from './registration/registration.js';

/** Formats a caller may force by name (`?format=tlv` on REST). */
export const FORMAT_NAMES: Readonly<Record<string, number>> = {
  text: ContentFormat.TEXT,
  opaque: ContentFormat.OPAQUE,
  cbor: ContentFormat.CBOR,
  'senml-json': ContentFormat.SENML_JSON,
  'senml-cbor': ContentFormat.SENML_CBOR,
  tlv: ContentFormat.TLV,
  'tlv-legacy': ContentFormat.TLV_LEGACY,
  json: ContentFormat.JSON,
  'json-legacy': ContentFormat.JSON_LEGACY,
  'lwm2m-cbor': ContentFormat.LWM2M_CBOR,
};

/** Formats that carry object and instance payloads (not only single values). */
const TREE_FORMATS: ReadonlySet<number> = new Set([
  ContentFormat.TLV,
  ContentFormat.TLV_LEGACY,
  ContentFormat.JSON,
  ContentFormat.JSON_LEGACY,
  ContentFormat.SENML_JSON,
  ContentFormat.SENML_CBOR,
  ContentFormat.LWM2M_CBOR,
]);

export function isTreeFormat(format: number): boolean {
  return TREE_FORMATS.has(format);
}

/**
 * @param lastSeen the tree format the client last answered with, if any.
 */
export function preferredFormat(registration: Registration, lastSeen: number | undefined): number {
  if (lastSeen !== undefined && TREE_FORMATS.has(lastSeen)) return lastSeen;
  const announced = registration.supportedContentFormats;
  if (announced.includes(ContentFormat.TLV_LEGACY)) return ContentFormat.TLV_LEGACY;
  if (announced.includes(ContentFormat.JSON_LEGACY) && !announced.includes(ContentFormat.TLV)) return ContentFormat.JSON_LEGACY;
  if (registration.lwm2mVersion === '1.0') return ContentFormat.TLV;
  if (announced.length > 0 && !announced.includes(ContentFormat.SENML_CBOR)) {
    if (announced.includes(ContentFormat.SENML_JSON)) return ContentFormat.SENML_JSON;
    if (announced.includes(ContentFormat.TLV)) return ContentFormat.TLV;
  }
  return ContentFormat.SENML_CBOR;
}
