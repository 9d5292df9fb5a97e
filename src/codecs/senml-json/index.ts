/**
 * SenML JSON, content format 110 (RFC 8428 §5 with the LwM2M rules of TS Core 1.1 §7.4.4).
 */
import { ContentFormat, type Codec } from '../codec.js';
import { decodeSenmlNode, encodeSenmlNode } from '../senml/records.js';

export { parseSenmlJson, serializeSenmlJson } from './wire.js';

export const senmlJsonCodec: Codec = {
  name: 'SenML JSON',
  contentFormats: [ContentFormat.SENML_JSON],
  decode: (bytes, path, model) => decodeSenmlNode(bytes, path, model, ContentFormat.SENML_JSON),
  encode: (node, path) => encodeSenmlNode(node, path, ContentFormat.SENML_JSON),
};
