import { describe, expect, it } from 'vitest';
import { formatLinkFormat, LinkFormatError, parseLinkFormat } from '../../src/codecs/link-format/index.js';
import { parseObjectLinks } from '../../src/lwm2m/registration/parameters.js';

describe('link-format parser (RFC 6690)', () => {
  it('parses the LwM2M Core registration example', () => {
    // LwM2M TS Core 1.1 §6.2.1 example payload.
    expect(parseLinkFormat('</>;rt="oma.lwm2m";ct=11543,</1/101>,</1/102>,</2/0>,</2/1>,</2/2>,</3/0>,</4/0>,</5>')).toEqual([
      { uri: '/', attributes: { rt: 'oma.lwm2m', ct: '11543' } },
      ...['/1/101', '/1/102', '/2/0', '/2/1', '/2/2', '/3/0', '/4/0', '/5'].map((uri) => ({ uri, attributes: {} })),
    ]);
  });

  it('keeps commas and semicolons inside quoted values', () => {
    expect(parseLinkFormat('</3303/0>;title="a, b; c";ver=1.1,</3/0>')).toEqual([
      { uri: '/3303/0', attributes: { title: 'a, b; c', ver: '1.1' } },
      { uri: '/3/0', attributes: {} },
    ]);
  });

  it('reads escaped quotes, valueless attributes, whitespace and line breaks', () => {
    expect(parseLinkFormat(' </a>;obs;title="say \\"hi\\"" ,\n  </b>;ct="60 110"\n')).toEqual([
      { uri: '/a', attributes: { obs: true, title: 'say "hi"' } },
      { uri: '/b', attributes: { ct: '60 110' } },
    ]);
  });

  it('reads discover attributes as they come', () => {
    expect(parseLinkFormat('</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/7>;dim=8;gt=50;lt=42.2;st=0.5;epmin=1;epmax=2')[2]).toEqual({
      uri: '/3/0/7',
      attributes: { dim: '8', gt: '50', lt: '42.2', st: '0.5', epmin: '1', epmax: '2' },
    });
  });

  it('takes an empty body as an empty list', () => {
    expect(parseLinkFormat('')).toEqual([]);
    expect(parseLinkFormat('  \n')).toEqual([]);
  });

  for (const bad of ['hello', '</a', '</a>;', '</a>;="x"', '</a>;t="open', '</a> </b>']) {
    it(`rejects ${JSON.stringify(bad)} with an offset`, () => {
      expect(() => parseLinkFormat(bad)).toThrow(LinkFormatError);
    });
  }

  it('formats exactly: tokens bare, other values quoted', () => {
    expect(formatLinkFormat([{ uri: '/', attributes: { rt: 'oma.lwm2m', ct: '60 110' } }, { uri: '/3/0', attributes: { ver: '1.1', obs: true } }])).toBe(
      '</>;rt=oma.lwm2m;ct="60 110",</3/0>;ver=1.1;obs',
    );
  });
});

describe('registration object links (LwM2M Core §6.2.1)', () => {
  it('strips an alternate root path and reads ct from the root link', () => {
    const parsed = parseObjectLinks('</lwm2m>;rt="oma.lwm2m";ct=11543,</lwm2m/1/0>,</lwm2m/3/0>;ver=1.1,</lwm2m/3303>');
    expect(parsed).toEqual({
      ok: true,
      value: {
        rootPath: '/lwm2m',
        supportedContentFormats: [11543],
        objectLinks: [
          { path: [1, 0], attributes: {} },
          { path: [3, 0], attributes: { ver: '1.1' } },
          { path: [3303], attributes: {} },
        ],
      },
    });
  });

  it('accepts links without a leading slash and skips links that are no object path', () => {
    const parsed = parseObjectLinks('<3/0>,</>,<3303/0>,</a/b>,</3/0/1>');
    expect(parsed.ok && parsed.value.objectLinks.map((l) => l.path)).toEqual([
      [3, 0],
      [3303, 0],
    ]);
  });
});

describe('link-format parser robustness', () => {
  it('gives links or a LinkFormatError for 20 000 random and mutated inputs', () => {
    let seed = 0xc0ffee;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = '<>/;,="\\ \n0123456789abcrt.-_';
    const valid = '</lwm2m>;rt="oma.lwm2m";ct="60 110",</lwm2m/1/0>,</3/0>;ver=1.1;obs,</3303/0/5700>;pmin=10;st=0.5';
    for (let i = 0; i < 20_000; i++) {
      let input: string;
      if (i % 2 === 0) {
        input = Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      } else {
        const chars = [...valid];
        for (let m = 0; m < 3; m++) chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)] as string;
        input = chars.slice(0, Math.floor(random() * chars.length) + 1).join('');
      }
      try {
        const links = parseLinkFormat(input);
        expect(Array.isArray(links)).toBe(true);
      } catch (error) {
        if (!(error instanceof LinkFormatError)) throw new Error(`input ${JSON.stringify(input)} threw ${String(error)}`);
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(input.length);
      }
    }
  });
});
