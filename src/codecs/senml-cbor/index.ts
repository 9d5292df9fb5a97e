/**
 * SenML CBOR, content format 112 (RFC 8428 §6 with the LwM2M rules of TS Core 1.1 §7.4.5).
 */
import { ContentFormat, type Codec } from '../codec.js';
import { decodeSenmlNode, encodeSenmlNode } from '../senml/records.js';

export { parseSenmlCbor, serializeSenmlCbor } from './wire.js';

export const senmlCborCodec: Codec = {
  name: 'SenML CBOR',
  contentFormats: [ContentFormat.SENML_CBOR],
  decode: (bytes, path, model) => decodeSenmlNode(bytes, path, model, ContentFormat.SENML_CBOR),
  encode: (node, path) => encodeSenmlNode(node, path, ContentFormat.SENML_CBOR),
};
