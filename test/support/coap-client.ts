import { Method } from '../../src/coap/codes.js';
import { CoapEndpoint, type ReceivedResponse } from '../../src/coap/endpoint.js';
import { getStringOptions, OptionNumber } from '../../src/coap/options.js';
import type { Peer } from '../../src/coap/peer.js';

/**
 * A test LwM2M client speaking real CoAP over UDP, built on our own endpoint
 * (so it also exercises the request side of the CoAP layer).
 */
export class TestClient {
  private constructor(
    readonly endpoint: CoapEndpoint,
    readonly server: Peer,
  ) {}

  /** `family` 4 binds an IPv4 socket and talks to 127.0.0.1, 6 an IPv6 one talking to ::1. */
  static async connect(serverPort: number, family: 4 | 6 = 6): Promise<TestClient> {
    const endpoint = await CoapEndpoint.bind({
      host: family === 4 ? '127.0.0.1' : '::1',
      port: 0,
      transmission: { ackTimeoutMs: 200, ackRandomFactor: 1.5, maxRetransmit: 3 },
    });
    return new TestClient(endpoint, { address: family === 4 ? '127.0.0.1' : '::1', port: serverPort });
  }

  get port(): number {
    return this.endpoint.address().port;
  }

  request(method: number, path: string, query: string[] = [], payload?: string | Buffer): Promise<ReceivedResponse> {
    return this.endpoint.request(
      this.server,
      {
        method,
        uriPath: path.split('/').filter((s) => s !== ''),
        uriQuery: query,
        ...(payload !== undefined ? { payload: Buffer.from(payload) } : {}),
      },
      { timeoutMs: 5000 },
    );
  }

  /** Registers and returns the Location-Path (`rd/{id}`). */
  async register(query: string[], links = '</1/0>,</3/0>'): Promise<{ response: ReceivedResponse; location: string }> {
    const response = await this.request(Method.POST, 'rd', query, links);
    return { response, location: getStringOptions(response.options, OptionNumber.LOCATION_PATH).join('/') };
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}
