/**
 * A topic layout: how hub events become MQTT messages and how MQTT messages
 * become device commands. The bridge is the same for every layout; ours
 * (`lwm2m/{ep}/…`) and EMQX's LwM2M gateway layout (`--mqtt-compat emqx`) differ
 * only here. Layouts are pure: no I/O, no clock (times are passed in).
 */
import type { Lwm2mRecord } from '../codecs/senml/records.js';
import type { Lwm2mResponse } from '../lwm2m/device-api.js';
import type { Lwm2mRequestError } from '../lwm2m/errors.js';
import type { Registration } from '../lwm2m/registration/registration.js';
import type { Lwm2mNode } from '../model/node.js';
import type { ModelProvider } from '../model/object-model.js';
import type { Lwm2mPath } from '../model/path.js';

export interface OutgoingMessage {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  /** MQTT 5 Correlation Data to echo (request/response). */
  readonly correlationData?: Buffer;
  /**
   * Retained state that the registration store can rebuild (the registration itself):
   * the bridge republishes it at start (`storedState`), so the retained-message log
   * does not keep a copy.
   */
  readonly fromStore?: true;
}

export type CommandOp = 'read' | 'write' | 'execute' | 'create' | 'delete' | 'discover' | 'write-attributes' | 'observe' | 'cancel';

/** A device command, whatever layout it arrived in. */
export interface DeviceCommand {
  /** The caller's request id (`id`, EMQX `reqID`), echoed in the reply. */
  readonly id: string | undefined;
  readonly op: CommandOp;
  readonly path: string;
  /** Write/create: a value or node JSON (see src/http/node-json.ts); execute: the argument string. */
  readonly value?: unknown;
  /** Content format name (`tlv`, `senml-cbor`, …) or number. */
  readonly format?: string | number;
  /** Write-attributes: `{pmin: 10, pmax: 60}`. */
  readonly attributes?: Readonly<Record<string, number | null>>;
  /** Write: partial update instead of replace. */
  readonly partial?: boolean;
  /** Layout-specific context needed to shape the reply (EMQX `msgType`, original `data`, …). */
  readonly context?: Readonly<Record<string, unknown>>;
}

export type ParsedCommand =
  | { readonly ok: true; readonly endpoint: string; readonly command: DeviceCommand }
  /** The message could not be understood: reply with this error (when the endpoint is known). */
  | { readonly ok: false; readonly endpoint: string | undefined; readonly id: string | undefined; readonly error: string; readonly context?: Readonly<Record<string, unknown>> };

export type CommandOutcome =
  | { readonly ok: true; readonly response: Lwm2mResponse }
  | { readonly ok: false; readonly error: Lwm2mRequestError | Error; readonly code: string };

export type RegistrationEventName = 'registered' | 'updated' | 'deregistered' | 'expired' | 'awake' | 'sleeping';

export type ValueSource = 'read' | 'notify' | 'send';

export interface TopicLayout {
  /** Topic filters the bridge subscribes to for commands. */
  commandFilters(): string[];
  /** Understands a message published on one of the command filters. */
  parseCommand(topic: string, payload: Buffer): ParsedCommand;
  /** The reply to a command (ignoring MQTT 5 response topics, which the bridge handles). */
  reply(endpoint: string, command: DeviceCommand | undefined, id: string | undefined, outcome: CommandOutcome | { ok: false; error: string; code: string }, model: ModelProvider): OutgoingMessage;
  /** Retained messages describing a stored registration, republished at start into a broker that forgot them. */
  storedState?(registration: Registration): OutgoingMessage[];
  /** Messages for a registration lifecycle event. `time` is epoch ms. */
  registrationEvent(name: RegistrationEventName, registration: Registration, time: number): OutgoingMessage[];
  /** Messages for values read, notified (observation) or sent by a client. */
  values(registration: Registration, source: ValueSource, path: Lwm2mPath, node: Lwm2mNode, time: number, model: ModelProvider, observationId?: string): OutgoingMessage[];
  /** Messages for the records of a Send (LwM2M 1.1). */
  sent(registration: Registration, records: readonly Lwm2mRecord[], time: number, model: ModelProvider): OutgoingMessage[];
}
