import { describe, expect, it } from 'vitest';
import { DdfError, parseDdf } from '../../src/model/ddf-loader.js';

const item = (id: number, fields: string): string => `<Item ID="${id}">${fields}</Item>`;
const readableString = (id: number, name: string): string =>
  item(
    id,
    `<Name>${name}</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>` +
      `<Mandatory>Optional</Mandatory><Type>String</Type><RangeEnumeration></RangeEnumeration><Units></Units>` +
      `<Description>d</Description>`,
  );

function object(id: number, extra = '', items = readableString(0, 'Name0')): string {
  return `<Object ObjectType="MODefinition"><Name>Obj ${id}</Name><Description1>o</Description1>
    <ObjectID>${id}</ObjectID><ObjectURN>urn:oma:lwm2m:x:${id}</ObjectURN>${extra}
    <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
    <Resources>${items}</Resources><Description2></Description2></Object>`;
}

const ddf = (...objects: string[]): string => `<?xml version="1.0" encoding="UTF-8"?>\n<LWM2M>${objects.join('')}</LWM2M>`;

function reasonOf(xml: string): string {
  try {
    parseDdf(xml, 'bad.xml');
  } catch (error) {
    expect(error).toBeInstanceOf(DdfError);
    expect((error as DdfError).fileName).toBe('bad.xml');
    expect((error as DdfError).message).toContain('bad.xml');
    return (error as DdfError).reason;
  }
  throw new Error('expected a DdfError');
}

describe('parseDdf reads the schema variants', () => {
  it('defaults ObjectVersion and LWM2MVersion to 1.0 for DDF 1.0 files that lack them', () => {
    const [model] = parseDdf(ddf(object(3303)), 'a.xml');
    expect(model).toMatchObject({ id: 3303, version: '1.0', lwm2mVersion: '1.0', multiple: true, mandatory: false });
    expect(model?.urn).toBe('urn:oma:lwm2m:x:3303');
  });

  it('reads 1.1/1.2 versions and treats empty version elements as absent', () => {
    const [v11] = parseDdf(ddf(object(3, '<LWM2MVersion>1.1</LWM2MVersion><ObjectVersion>1.2</ObjectVersion>')), 'a');
    expect(v11).toMatchObject({ version: '1.2', lwm2mVersion: '1.1' });
    const [empty] = parseDdf(ddf(object(3, '<LWM2MVersion></LWM2MVersion><ObjectVersion/>')), 'a');
    expect(empty).toMatchObject({ version: '1.0', lwm2mVersion: '1.0' });
    const [bare] = parseDdf(ddf(object(3, '<ObjectVersion>2</ObjectVersion>')), 'a');
    expect(bare?.version).toBe('2.0');
  });

  it('reads every object of a file holding several', () => {
    const models = parseDdf(ddf(object(1), object(2), object(3)), 'a.xml');
    expect(models.map((model) => model.id)).toEqual([1, 2, 3]);
  });

  it('accepts a BOM, schemaLocation headers, namespace prefixes, comments and CDATA', () => {
    const xml =
      '\uFEFF<?xml version="1.0" encoding="utf-8"?><!-- licence -->' +
      '<lw:LWM2M xmlns:lw="urn:example" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xsi:noNamespaceSchemaLocation="http://www.openmobilealliance.org/tech/profiles/LWM2M.xsd">' +
      object(
        7,
        '',
        item(
          1,
          '<Name><![CDATA[Tx & Rx]]></Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>' +
            '<Mandatory>Mandatory</Mandatory><Type>Integer</Type><Description><![CDATA[a <b> c]]></Description>',
        ),
      ).replace(/<(\/?)Object/g, '<$1lw:Object') +
      '</lw:LWM2M>';
    const [model] = parseDdf(xml, 'a.xml');
    expect(model?.resources.get(1)).toMatchObject({ name: 'Tx & Rx', type: 'integer', description: 'a <b> c' });
  });

  it('is liberal with whitespace and the case of enum values', () => {
    const xml = ddf(
      object(
        9,
        '',
        item(
          5,
          '<Name>\n   Two\n  words  </Name><Operations> rw </Operations><MultipleInstances>MULTIPLE</MultipleInstances>' +
            '<Mandatory> mandatory</Mandatory><Type>unsigned integer</Type><RangeEnumeration> 0..7 </RangeEnumeration>' +
            '<Units> s </Units>',
        ) +
          item(6, '<Name>Go</Name><Operations>e</Operations><MultipleInstances>single</MultipleInstances><Mandatory>OPTIONAL</Mandatory>') +
          item(7, '<Name>T</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory><Type>OBJLNK</Type>'),
      ).replace('<ObjectID>9</ObjectID>', '<ObjectID>\n  9 \n</ObjectID>'),
    );
    const [model] = parseDdf(xml, 'a.xml');
    expect(model?.id).toBe(9);
    expect(model?.resources.get(5)).toEqual({
      id: 5,
      name: 'Two words',
      operations: 'RW',
      multiple: true,
      mandatory: true,
      type: 'unsignedInteger',
      rangeEnumeration: '0..7',
      units: 's',
    });
    expect(model?.resources.get(6)).toMatchObject({ operations: 'E', type: 'none', mandatory: false });
    expect(model?.resources.get(7)?.type).toBe('objlnk');
  });

  it('maps every DDF type and the empty type of executables', () => {
    const types = ['String', 'Integer', 'Unsigned Integer', 'Float', 'Boolean', 'Opaque', 'Time', 'Objlnk', 'Corelnk', ''];
    const items = types
      .map((type, id) =>
        item(id, `<Name>r${id}</Name><Operations>${type === '' ? 'E' : 'R'}</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory><Type>${type}</Type>`),
      )
      .join('');
    const [model] = parseDdf(ddf(object(1, '', items)), 'a.xml');
    expect([...(model?.resources.values() ?? [])].map((resource) => resource.type)).toEqual([
      'string',
      'integer',
      'unsignedInteger',
      'float',
      'boolean',
      'opaque',
      'time',
      'objlnk',
      'corelnk',
      'none',
    ]);
  });

  it('leaves empty optional fields out of the model', () => {
    const [model] = parseDdf(ddf(object(1).replace('<ObjectURN>urn:oma:lwm2m:x:1</ObjectURN>', '')), 'a.xml');
    expect(model).not.toHaveProperty('urn');
    expect(model?.resources.get(0)).not.toHaveProperty('units');
    expect(model?.resources.get(0)).not.toHaveProperty('rangeEnumeration');
  });
});

describe('parseDdf rejects broken files with the file name and a reason', () => {
  it('malformed XML', () => {
    expect(reasonOf('<LWM2M><Object><Name>x</Name></LWM2M>')).toMatch(/malformed XML at line 1/);
    expect(reasonOf('')).toMatch(/empty/);
    expect(reasonOf('not xml at all')).toMatch(/malformed XML/);
  });

  it('a root other than LWM2M, or no Object', () => {
    expect(reasonOf('<DDFList><Item/></DDFList>')).toMatch(/root element is <DDFList>/);
    expect(reasonOf('<LWM2M></LWM2M>')).toMatch(/no <Object>/);
    expect(reasonOf(ddf(object(1)) + '<LWM2M/>')).toMatch(/more than one root/);
  });

  it('a missing or invalid ObjectID', () => {
    expect(reasonOf(ddf(object(1).replace('<ObjectID>1</ObjectID>', '')))).toMatch(/missing <ObjectID>/);
    expect(reasonOf(ddf(object(1).replace('<ObjectID>1</ObjectID>', '<ObjectID>x1</ObjectID>')))).toMatch(/not a decimal/);
    expect(reasonOf(ddf(object(70000)))).toMatch(/above 65535/);
  });

  it('an unknown Type, Operations or multiplicity, naming the resource', () => {
    const bad = (fields: string): string =>
      reasonOf(ddf(object(3, '', item(4, `<Name>Reboot</Name>${fields}`))));
    const valid = '<MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>';
    expect(bad(`<Operations>R</Operations>${valid}<Type>Strng</Type>`)).toBe(
      'object 3 (Obj 3), resource 4 (Reboot): unknown <Type> "Strng"',
    );
    expect(bad(`<Operations>RWX</Operations>${valid}<Type>String</Type>`)).toMatch(/<Operations> "RWX" is not one of/);
    expect(bad(`<Operations>R</Operations><MultipleInstances>Many</MultipleInstances><Mandatory>Optional</Mandatory><Type>String</Type>`)).toMatch(
      /<MultipleInstances> "Many"/,
    );
    expect(bad(`<Operations>R</Operations>${valid}`)).toMatch(/missing <Type>/);
  });

  it('duplicate resource ids and duplicate objects', () => {
    expect(reasonOf(ddf(object(1, '', readableString(0, 'a') + readableString(0, 'b'))))).toMatch(/resource 0 is defined twice/);
    expect(reasonOf(ddf(object(1), object(1)))).toMatch(/object 1 version 1.0 is defined twice/);
  });

  it('an Item without ID or name', () => {
    expect(reasonOf(ddf(object(1, '', '<Item><Name>x</Name></Item>')))).toMatch(/missing ID attribute/);
    expect(reasonOf(ddf(object(1, '', '<Item ID="2"><Operations>R</Operations></Item>')))).toMatch(/resource 2: missing <Name>/);
  });
});
