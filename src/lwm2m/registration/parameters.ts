/**
 * Pure parsing of what a Register or Update request carries (LwM2M Core §6.2.1,
 * §6.2.2; Transport §6.2.1.1 query parameters), with the spec's defaults for
 * the old clients that send nothing but `ep`.
 */
import { LinkFormatError, parseLinkFormat } from '../../codecs/link-format/index.js';
import { tryParsePath } from '../../model/path.js';
import type { ObjectLink } from './registration.js';

const NO_ATTRIBUTES: Readonly<Record<string, never>> = Object.freeze({});
const NO_FORMATS: readonly number[] = Object.freeze([]);

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** LwM2M Core §6.2.1: the lifetime defaults to 86400 s, the version to 1.0, the binding to U. */
export const DEFAULT_LIFETIME_S = 86_400;
export const DEFAULT_LWM2M_VERSION = '1.0';
export const DEFAULT_BINDING = 'U';
/** lt is a 32-bit unsigned number of seconds in the Server object (/1/x/1). */
const MAX_LIFETIME_S = 0xffffffff;
const MAX_ENDPOINT_LENGTH = 255;

export interface RegisterParameters {
  readonly endpoint: string;
  readonly lifetime: number;
  readonly lwm2mVersion: string;
  readonly binding: string;
  readonly queueMode: boolean;
  readonly smsNumber?: string;
  readonly additionalAttributes: Readonly<Record<string, string>>;
}

export interface UpdateParameters {
  readonly lifetime?: number;
  readonly binding?: string;
  readonly queueMode?: boolean;
  readonly smsNumber?: string;
}

export interface ObjectLinkList {
  readonly rootPath: string;
  readonly objectLinks: readonly ObjectLink[];
  readonly supportedContentFormats: readonly number[];
}

/** `['ep=node1', 'lt=60', 'Q']` → `{ ep: 'node1', lt: '60', Q: '' }`; the first of a repeated key wins. */
export function splitQuery(uriQuery: readonly string[]): Map<string, string> {
  const query = new Map<string, string>();
  for (const item of uriQuery) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!query.has(key)) query.set(key, eq < 0 ? '' : item.slice(eq + 1));
  }
  return query;
}

const REGISTER_KEYS = new Set(['ep', 'lt', 'lwm2m', 'b', 'sms', 'Q']);

export function parseRegisterQuery(uriQuery: readonly string[]): Parsed<RegisterParameters> {
  const query = splitQuery(uriQuery);
  const endpoint = query.get('ep');
  if (endpoint === undefined || endpoint === '') return fail('missing endpoint name (ep)');
  if (endpoint.length > MAX_ENDPOINT_LENGTH) return fail(`endpoint name longer than ${MAX_ENDPOINT_LENGTH} characters`);

  const lifetime = parseLifetime(query.get('lt'));
  if (!lifetime.ok) return lifetime;

  const requestedVersion = query.get('lwm2m') ?? DEFAULT_LWM2M_VERSION;
  // `lwm2m=1` is what some 1.0 clients send (and EMQX accepts): the same as 1.0.
  if (!/^1(\.\d+)?$/.test(requestedVersion)) return fail(`unsupported LwM2M version "${requestedVersion}" (lwm2m)`);
  const lwm2mVersion = requestedVersion === '1' ? '1.0' : requestedVersion;

  const binding = parseBinding(query.get('b'));
  if (!binding.ok) return binding;

  const additionalAttributes: Record<string, string> = {};
  for (const [key, value] of query) if (!REGISTER_KEYS.has(key)) additionalAttributes[key] = value;

  const smsNumber = query.get('sms');
  return ok({
    endpoint,
    lifetime: lifetime.value ?? DEFAULT_LIFETIME_S,
    lwm2mVersion,
    binding: binding.value?.transports ?? DEFAULT_BINDING,
    // LwM2M 1.1 Transport §6.2.1.1: `Q` alone flags queue mode; 1.0 wrote it into the binding (`UQ`).
    queueMode: query.has('Q') || (binding.value?.queueMode ?? false),
    ...(smsNumber !== undefined ? { smsNumber } : {}),
    additionalAttributes: Object.keys(additionalAttributes).length > 0 ? additionalAttributes : NO_ATTRIBUTES,
  });
}

export function parseUpdateQuery(uriQuery: readonly string[]): Parsed<UpdateParameters> {
  const query = splitQuery(uriQuery);
  const lifetime = parseLifetime(query.get('lt'));
  if (!lifetime.ok) return lifetime;
  const binding = parseBinding(query.get('b'));
  if (!binding.ok) return binding;
  const smsNumber = query.get('sms');
  return ok({
    ...(lifetime.value !== undefined ? { lifetime: lifetime.value } : {}),
    ...(binding.value !== undefined ? { binding: binding.value.transports, queueMode: binding.value.queueMode } : {}),
    ...(smsNumber !== undefined ? { smsNumber } : {}),
  });
}

function parseLifetime(raw: string | undefined): Parsed<number | undefined> {
  if (raw === undefined) return ok(undefined);
  if (!/^\d{1,10}$/.test(raw)) return fail(`lifetime (lt) must be a whole number of seconds, got "${raw}"`);
  const lifetime = Number(raw);
  if (lifetime < 1 || lifetime > MAX_LIFETIME_S) return fail(`lifetime (lt) must be between 1 and ${MAX_LIFETIME_S} s, got ${raw}`);
  return ok(lifetime);
}

/**
 * `parse` remembering its results for up to `limit` distinct inputs (then forgetting them all
 * at once): clients of one kind send the same binding and the same object list, so each is
 * parsed once, and the result (frozen, for object lists) is shared across registrations.
 */
function remembering<T>(limit: number, parse: (raw: string) => T): (raw: string) => T {
  const known = new Map<string, T>();
  return (raw) => {
    let parsed = known.get(raw);
    if (parsed === undefined) {
      parsed = parse(raw);
      if (known.size >= limit) known.clear();
      known.set(raw, parsed);
    }
    return parsed;
  };
}

const parseKnownBinding = remembering(64, parseBindingUncached);

/** 1.0: U, UQ, S, SQ, US, UQS; 1.1+: any of U T S N (Q deprecated but still seen). */
function parseBinding(raw: string | undefined): Parsed<{ transports: string; queueMode: boolean } | undefined> {
  return raw === undefined ? ok(undefined) : parseKnownBinding(raw);
}

function parseBindingUncached(raw: string): Parsed<{ transports: string; queueMode: boolean } | undefined> {
  const upper = raw.toUpperCase();
  if (!/^[UTSNQ]+$/.test(upper) || upper === 'Q') return fail(`binding (b) must be made of U, T, S, N and Q, got "${raw}"`);
  const transports = [...new Set(upper.replace(/Q/g, ''))].join('');
  return ok({ transports, queueMode: upper.includes('Q') });
}

/**
 * LwM2M Core §6.2.1: the payload lists object (instance) links, optionally led by
 * a root link `</path>;rt="oma.lwm2m"` that sets an alternate path and may carry
 * `ct` with the content formats the client supports. Links without the leading
 * slash (`<3/0>`, older clients) are accepted; links that are no LwM2M path are skipped.
 */
export const parseObjectLinks: (body: string) => Parsed<ObjectLinkList> = remembering(1024, parseObjectLinksUncached);

function parseObjectLinksUncached(body: string): Parsed<ObjectLinkList> {
  let links;
  try {
    links = parseLinkFormat(body);
  } catch (error) {
    if (error instanceof LinkFormatError) return fail(`payload is not link-format: ${error.message}`);
    throw error;
  }
  let rootPath = '/';
  let supportedContentFormats: readonly number[] = NO_FORMATS;
  const rootLink = links.find((link) => link.attributes['rt'] === 'oma.lwm2m');
  if (rootLink) {
    rootPath = normaliseRootPath(rootLink.uri);
    const ct = rootLink.attributes['ct'];
    if (typeof ct === 'string') {
      supportedContentFormats = ct
        .split(/\s+/)
        .filter((code) => /^\d+$/.test(code))
        .map(Number);
    }
  }
  const objectLinks: ObjectLink[] = [];
  for (const link of links) {
    if (link === rootLink) continue;
    let uri = link.uri.startsWith('/') ? link.uri : `/${link.uri}`;
    if (rootPath !== '/' && (uri === rootPath || uri.startsWith(`${rootPath}/`))) uri = uri.slice(rootPath.length) || '/';
    const path = tryParsePath(uri);
    if (path === undefined || path.length === 0 || path.length > 2) continue;
    // Most links carry no attribute: they share one frozen empty object (a registration store may hold 100 000 of them).
    const attributes = Object.keys(link.attributes).length > 0 ? Object.freeze(link.attributes) : NO_ATTRIBUTES;
    objectLinks.push(Object.freeze({ path: Object.freeze(path), attributes }));
  }
  return ok(Object.freeze({ rootPath, objectLinks: Object.freeze(objectLinks), supportedContentFormats: Object.freeze(supportedContentFormats) }));
}

function normaliseRootPath(uri: string): string {
  const withSlash = uri.startsWith('/') ? uri : `/${uri}`;
  return withSlash.length > 1 && withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
