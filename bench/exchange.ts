/**
 * The load generators' client side of CoAP: prebuilt CON requests, one exchange
 * outstanding per client, answers matched by message id, retransmission as a
 * client would (a fixed 2 s here: the generator measures, it does not back off).
 */
import { encodeMessage, MessageType } from '../src/coap/message.js';
import { OptionNumber, stringOption } from '../src/coap/options.js';

const RETRANSMIT_AFTER_MS = 2000;
const MAX_ATTEMPTS = 5;

/** A CON request whose token is its message id. */
export function request(
  messageId: number,
  method: number,
  uriPath: readonly string[],
  uriQuery: readonly string[],
  payload: string,
): Buffer {
  return encodeMessage({
    type: MessageType.CON,
    code: method,
    messageId,
    token: Buffer.from([messageId >> 8, messageId & 0xff]),
    options: [
      ...uriPath.map((s) => stringOption(OptionNumber.URI_PATH, s)),
      ...uriQuery.map((q) => stringOption(OptionNumber.URI_QUERY, q)),
    ],
    payload: Buffer.from(payload),
  });
}

export interface Exchanger {
  /** Sends `bytes` (a CON request) and resolves with the datagram answering its message id, or undefined after the last retransmission. */
  exchange(bytes: Buffer): Promise<Buffer | undefined>;
  /** Hands a received datagram to the exchange waiting for it. */
  receive(datagram: Buffer): void;
}

/** One exchange at a time over `send` (a UDP socket or a DTLS session); `onRetransmit` counts. */
export function oneAtATime(send: (bytes: Buffer) => void, onRetransmit: () => void = () => {}): Exchanger {
  let waiting: { id: number; resolve: (reply: Buffer) => void } | undefined;
  return {
    receive(datagram) {
      if (waiting && datagram.length >= 4 && datagram.readUInt16BE(2) === waiting.id) {
        const w = waiting;
        waiting = undefined;
        w.resolve(datagram);
      }
    },
    exchange: (bytes) =>
      new Promise((resolve) => {
        let timer: NodeJS.Timeout;
        let attempts = 0;
        const attempt = () => {
          send(bytes);
          timer = setTimeout(() => {
            if (++attempts >= MAX_ATTEMPTS) {
              waiting = undefined;
              resolve(undefined);
              return;
            }
            onRetransmit();
            attempt();
          }, RETRANSMIT_AFTER_MS);
        };
        waiting = {
          id: bytes.readUInt16BE(2),
          resolve: (reply) => {
            clearTimeout(timer);
            resolve(reply);
          },
        };
        attempt();
      }),
  };
}
