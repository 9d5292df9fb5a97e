import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { senmlJsonCodec as codec } from '../../src/codecs/senml-json/index.js';
import { nodeAtPath } from './senml-family/arbitraries.js';
import { testModel } from './senml-family/test-model.js';

describe('SenML JSON round trip', () => {
  it('decodes what it encodes, for typed nodes at every path level', () => {
    fc.assert(
      fc.property(nodeAtPath({ emptyContainers: false, floats: 'json' }), ({ node, path }) => {
        expect(codec.decode(codec.encode(node, path, testModel), path, testModel)).toEqual(node);
      }),
      { seed: 0x5e41, numRuns: 400 },
    );
  });

  it('encodes what it decodes to the same bytes', () => {
    fc.assert(
      fc.property(nodeAtPath({ emptyContainers: false, floats: 'json' }), ({ node, path }) => {
        const bytes = codec.encode(node, path, testModel);
        expect(codec.encode(codec.decode(bytes, path, testModel), path, testModel)).toEqual(bytes);
      }),
      { seed: 0x5e42, numRuns: 200 },
    );
  });
});
