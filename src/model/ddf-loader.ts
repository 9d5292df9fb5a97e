/**
 * OMA Data Definition File (DDF) parser.
 *
 * The format is the `LWM2M` XML schema of the OMA LwM2M Registry
 * (LWM2M.xsd for 1.0, LWM2M-v1_1.xsd for 1.1/1.2, which added `LWM2MVersion`,
 * `ObjectVersion` and the `Unsigned Integer` / `Corelnk` types):
 *
 *   LWM2M > Object+ > (Name, Description1, ObjectID, ObjectURN, LWM2MVersion?,
 *                      ObjectVersion?, MultipleInstances, Mandatory,
 *                      Resources > Item[@ID]+, Description2)
 *   Item  > (Name, Operations, MultipleInstances, Mandatory, Type,
 *            RangeEnumeration, Units, Description)
 *
 * Real files drift from the schema (BOMs, missing RangeEnumeration, padded
 * names, enum values in other cases, vendor namespace prefixes), so reading is
 * liberal wherever the meaning stays unambiguous, and strict where a guess
 * would give codecs a wrong type.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ResourceType } from './node.js';
import type { ObjectModel, ResourceModel, ResourceOperations } from './object-model.js';

export class DdfError extends Error {
  override readonly name = 'DdfError';
  constructor(
    readonly fileName: string,
    readonly reason: string,
  ) {
    super(`${fileName}: ${reason}`);
  }
}

/** Object versions a DDF 1.0 file cannot state (LwM2M Core §7.2.2: absent means 1.0). */
const DEFAULT_VERSION = '1.0';

/** LwM2M Core §7.1: object and resource ids are 16-bit. */
const MAX_ID = 65535;

const ATTRIBUTE_PREFIX = '@_';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  // Vendor files sometimes qualify elements (`<lwm2m:Object>`); the schema has no namespace.
  removeNSPrefix: true,
  // Keep every value a string: parsing would turn ObjectVersion "1.0" into the number 1.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Parses one DDF file into the object definitions it holds. Throws DdfError. */
export function parseDdf(xmlText: string, fileName: string): ObjectModel[] {
  const fail: Fail = (reason) => {
    throw new DdfError(fileName, reason);
  };
  const text = xmlText.replace(/^\uFEFF/, '');
  if (text.trim() === '') fail('file is empty');

  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    fail(`malformed XML at line ${line}, column ${col}: ${msg}`);
  }
  let document: unknown;
  try {
    document = parser.parse(text);
  } catch (error) {
    fail(`malformed XML: ${error instanceof Error ? error.message : String(error)}`);
  }

  const root = findRoot(document, fail);
  if (root.name.toLowerCase() !== 'lwm2m') return fail(`root element is <${root.name}>, expected <LWM2M>`);
  if (!isElement(root.value)) return fail('<LWM2M> has no <Object> element');

  const objectElements = asList(child(root.value, 'Object'));
  if (objectElements.length === 0) fail('<LWM2M> has no <Object> element');

  const models: ObjectModel[] = [];
  const seen = new Set<string>();
  objectElements.forEach((element, index) => {
    const model = readObject(element, `<Object> #${index + 1}`, fail);
    const key = `${model.id}@${model.version}`;
    if (seen.has(key)) fail(`object ${model.id} version ${model.version} is defined twice`);
    seen.add(key);
    models.push(model);
  });
  return models;
}

type Fail = (reason: string) => never;

/** A parsed element: child elements and `@_`-prefixed attributes by name, text under `#text`. */
interface XmlElement {
  readonly [name: string]: unknown;
}

function isElement(value: unknown): value is XmlElement {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function findRoot(document: unknown, fail: Fail): { name: string; value: unknown } {
  if (!isElement(document)) return fail('no root element');
  // Comments, declarations and processing instructions are dropped by the parser options;
  // the validator lets several top-level elements through, XML does not.
  const names = Object.keys(document).filter((name) => !name.startsWith('?') && !name.startsWith('#'));
  const [name, ...others] = names;
  if (name === undefined) return fail('no root element');
  if (others.length > 0 || Array.isArray(document[name])) return fail('more than one root element');
  return { name, value: document[name] };
}

/** Element names are matched case-insensitively: hand-written files spell `LwM2MVersion` too. */
function child(element: XmlElement, name: string): unknown {
  if (Object.hasOwn(element, name)) return element[name];
  const lower = name.toLowerCase();
  const key = Object.keys(element).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : element[key];
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Text content of a child element: undefined when absent. An element carrying
 * markup inside (`<Description>a <b>b</b></Description>`) yields its direct text.
 */
function childText(element: XmlElement, name: string, where: string, fail: Fail): string | undefined {
  const value = child(element, name);
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return fail(`${where}: <${name}> appears ${value.length} times`);
  if (typeof value === 'string') return value.trim();
  if (isElement(value)) {
    const text = value['#text'];
    return typeof text === 'string' ? text.trim() : '';
  }
  return String(value).trim();
}

function requiredText(element: XmlElement, name: string, where: string, fail: Fail): string {
  const value = childText(element, name, where, fail);
  return value === undefined ? fail(`${where}: missing <${name}>`) : value;
}

function optionalText(element: XmlElement, name: string, where: string, fail: Fail): string | undefined {
  const value = childText(element, name, where, fail);
  return value === undefined || value === '' ? undefined : value;
}

/** Names are shown in UIs and used as MQTT topic labels: one line, single spaces. */
function cleanName(value: string): string {
  return value.replace(/\s+/g, ' ');
}

function parseId(raw: string | undefined, what: string, where: string, fail: Fail): number {
  if (raw === undefined || raw === '') return fail(`${where}: missing ${what}`);
  if (!/^[0-9]+$/.test(raw)) return fail(`${where}: ${what} "${raw}" is not a decimal number`);
  const id = Number(raw);
  if (id > MAX_ID) return fail(`${where}: ${what} ${id} is above ${MAX_ID}`);
  return id;
}

/** `X.Y` per LwM2M Core §7.2.2; a bare major (`2`) is read as `2.0`, empty as the default. */
function parseVersion(raw: string | undefined, what: string, where: string, fail: Fail): string {
  if (raw === undefined || raw === '') return DEFAULT_VERSION;
  if (/^[0-9]+$/.test(raw)) return `${Number(raw)}.0`;
  if (/^[0-9]+(\.[0-9]+)+$/.test(raw)) return raw;
  return fail(`${where}: ${what} "${raw}" is not a version like 1.0`);
}

interface Choices<T> {
  /** What the schema allows, for error messages. */
  readonly expected: string;
  /** Accepted spellings, lower-cased. */
  readonly values: Readonly<Record<string, T>>;
}

function parseChoice<T>(raw: string | undefined, what: string, choices: Choices<T>, where: string, fail: Fail): T {
  if (raw === undefined) return fail(`${where}: missing <${what}>`);
  const choice = choices.values[raw.toLowerCase()];
  return choice ?? fail(`${where}: <${what}> "${raw}" is not one of ${choices.expected}`);
}

const MULTIPLICITY: Choices<boolean> = { expected: 'Single, Multiple', values: { single: false, multiple: true } };
const MANDATORY: Choices<boolean> = { expected: 'Mandatory, Optional', values: { mandatory: true, optional: false } };

const OPERATIONS: Choices<ResourceOperations> = {
  expected: 'R, W, RW, E or empty',
  values: { '': '', r: 'R', w: 'W', rw: 'RW', wr: 'RW', e: 'E' },
};

/**
 * DDF `Type` values (LwM2M Core Appendix C), keyed by their lower-cased spelling
 * without blanks so that `Unsigned Integer`, `unsignedInteger` and `UNSIGNED_INTEGER` agree.
 * The empty type is what the schema prescribes for executable resources; a few
 * registry files also leave it empty on readable resources, which then carry no
 * typed value either.
 */
const TYPES: Readonly<Record<string, ResourceType>> = {
  '': 'none',
  none: 'none',
  string: 'string',
  integer: 'integer',
  unsignedinteger: 'unsignedInteger',
  float: 'float',
  boolean: 'boolean',
  opaque: 'opaque',
  time: 'time',
  objlnk: 'objlnk',
  corelnk: 'corelnk',
};

function parseType(raw: string | undefined, operations: ResourceOperations, where: string, fail: Fail): ResourceType {
  // Hand-written files omit <Type> on executables; for anything else a guess would mistype values.
  if (raw === undefined) return operations === 'E' ? 'none' : fail(`${where}: missing <Type>`);
  const type = TYPES[raw.toLowerCase().replace(/[\s_-]+/g, '')];
  return type ?? fail(`${where}: unknown <Type> "${raw}"`);
}

function readObject(element: unknown, position: string, fail: Fail): ObjectModel {
  if (!isElement(element)) return fail(`${position}: empty <Object> element`);
  const id = parseId(childText(element, 'ObjectID', position, fail), '<ObjectID>', position, fail);
  const nameText = requiredText(element, 'Name', `object ${id}`, fail);
  if (nameText === '') fail(`object ${id}: empty <Name>`);
  const name = cleanName(nameText);
  const where = `object ${id} (${name})`;

  const version = parseVersion(childText(element, 'ObjectVersion', where, fail), '<ObjectVersion>', where, fail);
  const lwm2mVersion = parseVersion(childText(element, 'LWM2MVersion', where, fail), '<LWM2MVersion>', where, fail);
  const multiple = parseChoice(childText(element, 'MultipleInstances', where, fail), 'MultipleInstances', MULTIPLICITY, where, fail);
  const mandatory = parseChoice(childText(element, 'Mandatory', where, fail), 'Mandatory', MANDATORY, where, fail);
  const urn = optionalText(element, 'ObjectURN', where, fail);
  const description = optionalText(element, 'Description1', where, fail);

  const resources = new Map<number, ResourceModel>();
  const resourcesElement = child(element, 'Resources');
  if (Array.isArray(resourcesElement)) fail(`${where}: <Resources> appears ${resourcesElement.length} times`);
  // An object without resources is odd but harmless (the schema's Item+ is not worth rejecting a file for).
  const items = isElement(resourcesElement) ? asList(child(resourcesElement, 'Item')) : [];
  items.forEach((item, index) => {
    const resource = readItem(item, where, index, fail);
    if (resources.has(resource.id)) fail(`${where}: resource ${resource.id} is defined twice`);
    resources.set(resource.id, resource);
  });

  return {
    id,
    name,
    version,
    lwm2mVersion,
    multiple,
    mandatory,
    ...(urn !== undefined && { urn }),
    ...(description !== undefined && { description }),
    resources,
  };
}

function readItem(element: unknown, objectWhere: string, index: number, fail: Fail): ResourceModel {
  const position = `${objectWhere}, <Item> #${index + 1}`;
  if (!isElement(element)) return fail(`${position}: <Item> has no content`);
  const rawId = child(element, `${ATTRIBUTE_PREFIX}ID`);
  const id = parseId(typeof rawId === 'string' ? rawId.trim() : undefined, 'ID attribute', position, fail);
  const nameText = requiredText(element, 'Name', `${objectWhere}, resource ${id}`, fail);
  if (nameText === '') fail(`${objectWhere}, resource ${id}: empty <Name>`);
  const name = cleanName(nameText);
  const where = `${objectWhere}, resource ${id} (${name})`;

  const rawOperations = childText(element, 'Operations', where, fail);
  const operations = parseChoice(
    rawOperations === undefined ? undefined : rawOperations.replace(/\s+/g, ''),
    'Operations',
    OPERATIONS,
    where,
    fail,
  );
  const multiple = parseChoice(childText(element, 'MultipleInstances', where, fail), 'MultipleInstances', MULTIPLICITY, where, fail);
  const mandatory = parseChoice(childText(element, 'Mandatory', where, fail), 'Mandatory', MANDATORY, where, fail);
  const type = parseType(childText(element, 'Type', where, fail), operations, where, fail);
  const rangeEnumeration = optionalText(element, 'RangeEnumeration', where, fail);
  const units = optionalText(element, 'Units', where, fail);
  const description = optionalText(element, 'Description', where, fail);

  return {
    id,
    name,
    operations,
    multiple,
    mandatory,
    type,
    ...(rangeEnumeration !== undefined && { rangeEnumeration }),
    ...(units !== undefined && { units }),
    ...(description !== undefined && { description }),
  };
}
