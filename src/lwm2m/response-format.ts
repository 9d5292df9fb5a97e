import { ContentFormat } from '../codecs/codec.js';
import type { Lwm2mPath } from '../model/path.js';

/**
 * The format of a payload that came without Content-Format: LwM2M 1.0 clients send
 * single resources as text/plain and everything else as TLV when they omit it.
 */
export function defaultFormatFor(path: Lwm2mPath): number {
  return path.length >= 3 ? ContentFormat.TEXT : ContentFormat.TLV;
}
