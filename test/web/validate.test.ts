/** The page's input checks and error wording, without a browser (they are plain functions). */
import { describe, expect, it } from 'vitest';
import { describeError, formatAddress, formatScalar } from '../../web/src/format.js';
import { parseAttributes, parseExecuteArguments, parseInstanceId, parsePath, parseValue } from '../../web/src/validate.js';

describe('values typed into a write form', () => {
  it('takes what fits the resource type, in the JSON the REST API writes', () => {
    expect(parseValue('integer', ' -42 ')).toEqual({ ok: true, value: -42 });
    expect(parseValue('integer', '9223372036854775807')).toEqual({ ok: true, value: '9223372036854775807' });
    expect(parseValue('unsignedInteger', '18446744073709551615')).toEqual({ ok: true, value: '18446744073709551615' });
    expect(parseValue('float', '2.5e1')).toEqual({ ok: true, value: 25 });
    expect(parseValue('boolean', 'false')).toEqual({ ok: true, value: false });
    expect(parseValue('string', ' as typed ')).toEqual({ ok: true, value: ' as typed ' });
    expect(parseValue('opaque', '01 ff:3a')).toEqual({ ok: true, value: Buffer.from([1, 255, 0x3a]).toString('base64') });
    expect(parseValue('opaque', 'AQL/', 'base64')).toEqual({ ok: true, value: 'AQL/' });
    expect(parseValue('objlnk', '3:0')).toEqual({ ok: true, value: '3:0' });
    expect(parseValue('time', '1700000000')).toEqual({ ok: true, value: 1700000000 });
    expect(parseValue('time', '2024-05-01T12:00:00Z')).toEqual({ ok: true, value: '2024-05-01T12:00:00.000Z' });
  });

  it('explains what is wrong instead of sending it', () => {
    const message = (parsed: { ok: boolean; message?: string }) => (parsed.ok ? undefined : parsed.message);
    expect(message(parseValue('integer', 'abc'))).toBe('Enter a whole number, such as 42 or -7.');
    expect(message(parseValue('integer', '1.5'))).toMatch(/^Enter a whole number/);
    expect(message(parseValue('integer', '9223372036854775808'))).toMatch(/^Out of range/);
    expect(message(parseValue('unsignedInteger', '-1'))).toMatch(/0 or more/);
    expect(message(parseValue('float', ''))).toMatch(/^Enter a number/);
    expect(message(parseValue('float', 'Infinity'))).toMatch(/^Enter a number/);
    expect(message(parseValue('opaque', '0g'))).toMatch(/hexadecimal/);
    expect(message(parseValue('opaque', 'abc', 'base64'))).toMatch(/base64/);
    expect(message(parseValue('objlnk', '3:70000'))).toMatch(/object:instance/);
    expect(message(parseValue('time', ''))).toBe('Enter a date and time.');
    expect(message(parseValue('none', 'x'))).toMatch(/executed/);
  });
});

describe('other form fields', () => {
  it('checks execute arguments against LwM2M Core §5.4.2', () => {
    expect(parseExecuteArguments('')).toEqual({ ok: true, value: '' });
    expect(parseExecuteArguments("0='on',1,2='x:y'")).toEqual({ ok: true, value: "0='on',1,2='x:y'" });
    for (const bad of ['on', '10', "0='a b'", "0='it's'", '0,', '0=on']) expect(parseExecuteArguments(bad).ok, bad).toBe(false);
  });

  it('needs a path of the right depth for each operation, and says which', () => {
    expect(parsePath('3/0/4/', ['resource'])).toEqual({ ok: true, value: '/3/0/4' });
    expect(parsePath('', ['resource'], 'Execute')).toEqual({ ok: false, message: 'Execute needs a path: resource (/3/0/4).' });
    expect(parsePath('/3/0', ['resource'], 'Execute')).toEqual({ ok: false, message: 'Execute needs a path to a resource (/3/0/4).' });
    expect(parsePath('/3/x').ok).toBe(false);
    expect(parsePath('/3/0/1/2/3').ok).toBe(false);
    expect(parsePath('/70000').ok).toBe(false);
  });

  it('checks notification attributes: - removes one, pmin and pmax are whole seconds, pmax ≥ pmin, lt < gt', () => {
    expect(parseAttributes({ pmin: '1', pmax: '60', st: '0.5' })).toEqual({ ok: true, value: { pmin: '1', pmax: '60', st: '0.5' } });
    expect(parseAttributes({ gt: '-' })).toEqual({ ok: true, value: { gt: '' } });
    expect(parseAttributes({}).ok).toBe(false);
    expect(parseAttributes({ pmin: '1.5' }).ok).toBe(false);
    expect(parseAttributes({ pmin: '10', pmax: '5' }).ok).toBe(false);
    expect(parseAttributes({ gt: '5', lt: '10' }).ok).toBe(false);
    expect(parseAttributes({ st: '-1' }).ok).toBe(false);
  });

  it('lets the device choose an instance id when none is given', () => {
    expect(parseInstanceId('')).toEqual({ ok: true, value: undefined });
    expect(parseInstanceId('7')).toEqual({ ok: true, value: 7 });
    expect(parseInstanceId('65535').ok).toBe(false);
  });
});

describe('what the page shows', () => {
  it('writes addresses the way URLs do', () => {
    expect(formatAddress('2001:db8::1', 5683)).toEqual({ text: '[2001:db8::1]:5683', family: 'IPv6' });
    expect(formatAddress('fe80::1%eth0', 5683).text).toBe('[fe80::1%eth0]:5683');
    expect(formatAddress('192.0.2.7', 40000)).toEqual({ text: '192.0.2.7:40000', family: 'IPv4' });
  });

  it('puts errors in words, with the hub’s explanation when it adds one', () => {
    expect(describeError({ code: '4.04', error: 'device answered 4.04' })).toBe(
      'Not found: the device has no such object, instance or resource (4.04)',
    );
    expect(describeError({ code: '4.05', error: '/3/0 cannot be deleted' })).toBe(
      'Method not allowed: the device does not allow this operation here (4.05) — /3/0 cannot be deleted',
    );
    expect(describeError({ code: 'timeout', error: 'node1 did not answer GET /3/0/9' })).toBe(
      'Timeout: the device did not answer — node1 did not answer GET /3/0/9',
    );
    expect(describeError({ code: 'decode_error', error: 'bad TLV' })).toMatch(/^Decode error/);
    expect(describeError({ code: 'something_new', error: 'what the hub said' })).toBe('what the hub said');
  });

  it('shows opaque values as hex with their length', () => {
    expect(formatScalar(Buffer.from([1, 2, 255]).toString('base64'), 'opaque')).toBe('0x0102ff (3 B)');
    expect(formatScalar('', 'string')).toBe('(empty)');
  });
});
