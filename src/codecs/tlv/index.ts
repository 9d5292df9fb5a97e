/**
 * LwM2M TLV (LwM2M Core §7.4.3). Registered under 11542 and the legacy 1542 that LwM2M 1.0-era
 * clients (Contiki, early Wakaama) still send: the bytes are the same under both codes.
 */
import { ContentFormat, type Codec } from '../codec.js';
import { decodeTlv } from './decode.js';
import { encodeTlv } from './encode.js';

export const tlvCodec: Codec = {
  name: 'LwM2M TLV',
  contentFormats: [ContentFormat.TLV, ContentFormat.TLV_LEGACY],
  decode: (bytes, path, model, contentFormat = ContentFormat.TLV) => decodeTlv(bytes, path, model, contentFormat),
  encode: (node, path, _model, contentFormat = ContentFormat.TLV) => encodeTlv(node, path, contentFormat),
};

export { decodeTlv } from './decode.js';
export { encodeTlv } from './encode.js';
export { TlvType, readTlv, readTlvs, type TlvRecord } from './tlv.js';
