import type { Peer } from '../../coap/peer.js';
import type { LinkAttributeValue } from '../../codecs/link-format/index.js';
import type { Lwm2mPath } from '../../model/path.js';
import { isoTime } from '../../time.js';

/** One entry of the registration's object list: `</3/0>;ver=1.1` → path [3, 0], attributes { ver: '1.1' }. */
export interface ObjectLink {
  readonly path: Lwm2mPath;
  readonly attributes: Readonly<Record<string, LinkAttributeValue>>;
}

/** Transport bindings (LwM2M 1.1 Transport §6.2.1.1 `b`): U UDP, T TCP, S SMS, N Non-IP. */
export type Binding = string;

/**
 * What the server knows of a registered client (LwM2M Core §6.2.1). Plain data
 * with epoch-millisecond times, so that any store can serialise it as it is.
 */
export interface Registration {
  readonly id: string;
  readonly endpoint: string;
  /** Seconds (`lt`). */
  readonly lifetime: number;
  readonly lwm2mVersion: string;
  /** Transport letters without `Q` (`U`, `UQ` in 1.0 becomes `U` + queueMode). */
  readonly binding: Binding;
  readonly queueMode: boolean;
  readonly smsNumber?: string;
  /** Where requests to the client go: the source of its latest register or update. */
  readonly address: string;
  readonly port: number;
  /** Registered over DTLS (`coaps://`): requests go to it over its DTLS session, from the DTLS port. */
  readonly secure?: true;
  /** Alternate root path (`</lwm2m>;rt="oma.lwm2m"`), `/` by default. */
  readonly rootPath: string;
  readonly objectLinks: readonly ObjectLink[];
  /** Content formats announced with `ct` on the root link (LwM2M 1.1 Core §6.2.1). */
  readonly supportedContentFormats: readonly number[];
  /** Query parameters we do not interpret, kept as the client sent them. */
  readonly additionalAttributes: Readonly<Record<string, string>>;
  readonly registeredAt: number;
  readonly lastUpdate: number;
}

export function registrationPeer(registration: Registration): Peer {
  return registration.secure ? { address: registration.address, port: registration.port, secure: true } : { address: registration.address, port: registration.port };
}

/** Epoch ms at which the registration expires without an update (before any grace period). */
export function expiresAt(registration: Registration): number {
  return registration.lastUpdate + registration.lifetime * 1000;
}

/** The JSON shape of a registration in REST responses and MQTT messages. */
export interface RegistrationJson {
  endpoint: string;
  registrationId: string;
  lifetime: number;
  lwm2mVersion: string;
  binding: string;
  queueMode: boolean;
  smsNumber?: string;
  address: string;
  port: number;
  /** Present (true) when the client registered over DTLS (`coaps://`). */
  secure?: true;
  rootPath: string;
  objectLinks: { path: string; attributes: Record<string, LinkAttributeValue> }[];
  supportedContentFormats: number[];
  additionalAttributes: Record<string, string>;
  registeredAt: string;
  lastUpdate: string;
  expiresAt: string;
}

/**
 * Registrations with the same object list share one (interned) array, so its JSON shape is
 * built once per list, not once per registration and event; it is frozen because it is shared.
 */
const linksJson = new WeakMap<readonly ObjectLink[], RegistrationJson['objectLinks']>();

function objectLinksToJson(links: readonly ObjectLink[]): RegistrationJson['objectLinks'] {
  let json = linksJson.get(links);
  if (!json) {
    json = Object.freeze(links.map((link) => Object.freeze({ path: '/' + link.path.join('/'), attributes: Object.freeze({ ...link.attributes }) }))) as RegistrationJson['objectLinks'];
    linksJson.set(links, json);
  }
  return json;
}

export function registrationToJson(registration: Registration): RegistrationJson {
  return {
    endpoint: registration.endpoint,
    registrationId: registration.id,
    lifetime: registration.lifetime,
    lwm2mVersion: registration.lwm2mVersion,
    binding: registration.binding,
    queueMode: registration.queueMode,
    ...(registration.smsNumber !== undefined ? { smsNumber: registration.smsNumber } : {}),
    address: registration.address,
    port: registration.port,
    ...(registration.secure ? { secure: true as const } : {}),
    rootPath: registration.rootPath,
    objectLinks: objectLinksToJson(registration.objectLinks),
    supportedContentFormats: [...registration.supportedContentFormats],
    additionalAttributes: { ...registration.additionalAttributes },
    registeredAt: isoTime(registration.registeredAt),
    lastUpdate: isoTime(registration.lastUpdate),
    expiresAt: isoTime(expiresAt(registration)),
  };
}
