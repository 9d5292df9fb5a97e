/**
 * application/octet-stream (content format 42): the raw bytes of one resource or resource instance
 * value (LwM2M Core §7.4.2, meant for Opaque resources such as firmware packages).
 *
 * Decoding always yields an `opaque` value, whatever type the model gives the resource: the format
 * carries no type and reinterpreting the bytes could only lose or invent information.
 * Encoding accepts `opaque` and `unknown` values (both are raw bytes); other types have a
 * representation of their own and need text, CBOR or TLV.
 */
import { ContentFormat, EncodeError, type Codec } from '../codec.js';
import type { Lwm2mNode } from '../../model/node.js';
import type { ModelProvider } from '../../model/object-model.js';
import type { Lwm2mPath } from '../../model/path.js';
import { copyBytes, singleValueOf, singleValueTarget } from '../scalars.js';

const CF = ContentFormat.OPAQUE;

export const opaqueCodec: Codec = {
  name: 'application/octet-stream',
  contentFormats: [ContentFormat.OPAQUE],
  decode(bytes: Uint8Array, path: Lwm2mPath, model: ModelProvider): Lwm2mNode {
    return singleValueTarget(path, model, CF).node({ type: 'opaque', value: copyBytes(bytes) });
  },
  encode(node: Lwm2mNode, path: Lwm2mPath): Uint8Array {
    const value = singleValueOf(node, path, CF);
    if (value.type === 'opaque' || value.type === 'unknown') return copyBytes(value.value);
    throw new EncodeError(CF, `a ${value.type} value has no octet-stream form; use text, CBOR or TLV`);
  },
};
