/** Typed failures of requests to devices; REST and MQTT map each kind to their own error codes. */
import { formatPath, type Lwm2mPath } from '../model/path.js';

export type Lwm2mErrorKind =
  | 'not_registered'
  | 'timeout'
  | 'sleeping'
  | 'reset'
  /** RFC 7959: a block-wise transfer broke off (which block, which peer and why are in the message). */
  | 'block_transfer'
  | 'decode_error'
  | 'bad_request'
  | 'unsupported_format'
  | 'stopped';

export class Lwm2mRequestError extends Error {
  override readonly name = 'Lwm2mRequestError';
  constructor(
    readonly kind: Lwm2mErrorKind,
    readonly endpoint: string,
    message: string,
    readonly path?: Lwm2mPath,
    /** The undecodable payload, for `decode_error`. */
    readonly raw?: Buffer,
    /** The content format of `raw`. */
    readonly contentFormat?: number,
  ) {
    super(`${endpoint}${path ? ` ${formatPath(path)}` : ''}: ${message}`);
  }
}
