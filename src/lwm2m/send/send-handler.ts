/**
 * The LwM2M 1.1 Send operation (Core §6.4.7, Transport §6.4.5): a client POSTs
 * values to `/dp` in SenML, unasked. We answer 2.04 once they are decoded and on
 * the event bus.
 */
import type { Logger } from 'pino';
import type { Peer } from '../../coap/peer.js';
import { formatPeer } from '../../coap/peer.js';
import { ContentFormat, DecodeError } from '../../codecs/codec.js';
import { decodeSenmlRecords } from '../../codecs/senml/records.js';
import type { EventBus } from '../../events.js';
import type { ModelProvider } from '../../model/object-model.js';
import type { RegistrationStore } from '../../store/registration-store.js';

export type SendOutcome =
  | { readonly kind: 'accepted'; readonly records: number }
  | { readonly kind: 'not_registered' | 'unsupported_format' | 'bad_payload'; readonly message: string };

export class SendHandler {
  constructor(
    private readonly options: { store: RegistrationStore; events: EventBus; model: ModelProvider; logger: Logger; now?: () => number },
  ) {}

  async handle(peer: Peer, contentFormat: number | undefined, payload: Buffer): Promise<SendOutcome> {
    const registration = await this.options.store.getByPeer(peer);
    if (!registration) return { kind: 'not_registered', message: `no registration from ${formatPeer(peer)}` };
    const format = contentFormat ?? ContentFormat.SENML_CBOR;
    if (format !== ContentFormat.SENML_CBOR && format !== ContentFormat.SENML_JSON) {
      return { kind: 'unsupported_format', message: `Send takes SenML CBOR (112) or SenML JSON (110), not ${format}` };
    }
    const now = (this.options.now ?? Date.now)();
    try {
      // RFC 8428 §4.5.3: relative times are relative to when we received the pack.
      const records = decodeSenmlRecords(payload, format, this.options.model, { now: now / 1000 });
      this.options.events.emit('send', { registration, records, time: now });
      return { kind: 'accepted', records: records.length };
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.options.logger.warn({ endpoint: registration.endpoint, reason: error.message, raw: payload.toString('hex') }, 'undecodable Send payload');
      return { kind: 'bad_payload', message: error.message };
    }
  }
}
