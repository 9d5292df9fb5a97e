import { describe, expect, it } from 'vitest';
import { ContentFormat, DecodeError, EncodeError, type Codec } from '../../src/codecs/codec.js';
import {
  CodecRegistry,
  UnsupportedContentFormatError,
  createDefaultCodecRegistry,
  decodePayload,
  defaultCodecRegistry,
  encodePayload,
} from '../../src/codecs/registry.js';
import { tlvCodec } from '../../src/codecs/tlv/index.js';
import { fromHex, loadTlvFixture, testModel } from './helpers.js';
import { int, res } from './nodes.js';

describe('codec registry', () => {
  it('knows every content format LwM2M clients speak, legacy codes included, out of the box', () => {
    expect(defaultCodecRegistry.formats()).toEqual([0, 42, 60, 110, 112, 1542, 1543, 11542, 11543, 11544]);
    expect(defaultCodecRegistry.get(ContentFormat.TLV_LEGACY)).toBe(tlvCodec);
  });

  it('decodes through the codec of the content format', () => {
    const fixture = loadTlvFixture('spec-device-instance.hex');
    const result = decodePayload(ContentFormat.TLV, fixture.bytes, [3, 0], testModel);
    expect(result.ok && result.node.kind).toBe('instance');
    expect(decodePayload(0, new TextEncoder().encode('100'), [3, 0, 9], testModel)).toEqual({ ok: true, node: res(9, int(100)) });
  });

  it('returns a decode error instead of throwing', () => {
    const result = decodePayload(ContentFormat.TLV_LEGACY, fromHex('C8 00 FF'), [3, 0], testModel);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(DecodeError);
      expect(result.error.contentFormat).toBe(1542);
    }
  });

  it('reports an unknown content format as unsupported', () => {
    const result = decodePayload(9999, new Uint8Array(0), [3, 0], testModel);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(UnsupportedContentFormatError);
      expect(result.error).toBeInstanceOf(DecodeError);
      expect(result.error.contentFormat).toBe(9999);
    }
    expect(() => encodePayload(9999, res(9, int(1)), [3, 0, 9], testModel)).toThrow(EncodeError);
  });

  it('encodes through the codec of the content format', () => {
    expect(encodePayload(ContentFormat.TEXT, res(9, int(100)), [3, 0, 9], testModel)).toEqual(new TextEncoder().encode('100'));
  });

  it('adds a codec with one register call, under all its content formats', () => {
    const fake: Codec = {
      name: 'fake EXI',
      contentFormats: [47, 4747],
      decode: () => res(1, int(1)),
      encode: () => new Uint8Array(0),
    };
    const registry = createDefaultCodecRegistry().register(fake);
    expect(registry.get(47)).toBe(fake);
    expect(registry.get(4747)).toBe(fake);
    expect(decodePayload(47, new Uint8Array(0), [1, 0, 1], testModel, registry)).toEqual({ ok: true, node: res(1, int(1)) });
    expect(defaultCodecRegistry.has(47)).toBe(false);
  });

  it('refuses a second codec for a content format already taken', () => {
    const clash: Codec = { ...tlvCodec, name: 'other TLV' };
    expect(() => createDefaultCodecRegistry().register(clash)).toThrow(/already registered to LwM2M TLV/);
    expect(() => createDefaultCodecRegistry().register(tlvCodec)).not.toThrow();
  });

  it('turns a decoder that breaks the contract into a DecodeError carrying the cause', () => {
    const broken: Codec = {
      name: 'broken',
      contentFormats: [4242],
      decode: () => {
        throw new RangeError('boom');
      },
      encode: () => new Uint8Array(0),
    };
    const result = new CodecRegistry().register(broken).decode(4242, new Uint8Array(0), [1], testModel);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toMatch(/broken failed unexpectedly: boom/);
      expect((result.error as Error & { cause?: unknown }).cause).toBeInstanceOf(RangeError);
    }
  });
});
