/**
 * Routes CoAP requests from LwM2M clients to the interface they belong to, in
 * one visible switch. Everything the LwM2M layer needs from CoAP is the
 * IncomingRequest / OutgoingResponse pair.
 */
import type { Logger } from 'pino';
import { Method, methodName, ResponseCode } from '../coap/codes.js';
import type { IncomingRequest, OutgoingResponse, RequestHandler } from '../coap/endpoint.js';
import { OptionNumber, stringOption } from '../coap/options.js';
import { formatPeer } from '../coap/peer.js';
import { parseObjectLinks, parseRegisterQuery, parseUpdateQuery, type ObjectLinkList } from './registration/parameters.js';
import type { RegistrationHandler } from './registration/registration-handler.js';
import { isForbidden } from './security/registration-policy.js';
import type { SendHandler } from './send/send-handler.js';

const REGISTRATION_ROOT = 'rd';
const SEND_ROOT = 'dp';

export function createLwm2mDispatcher(registrations: RegistrationHandler, sends: SendHandler, logger: Logger): RequestHandler {
  return async (request) => {
    const [root, id, ...rest] = request.uriPath;
    if (root === SEND_ROOT && id === undefined) {
      if (request.method !== Method.POST) return methodNotAllowed(request);
      return send(request, sends);
    }
    if (root !== REGISTRATION_ROOT || rest.length > 0) {
      return diagnostic(ResponseCode.NOT_FOUND, `no resource at /${request.uriPath.join('/')}`);
    }
    if (id === undefined) {
      if (request.method !== Method.POST) return methodNotAllowed(request);
      return register(request, registrations, logger);
    }
    switch (request.method) {
      case Method.POST:
        return update(request, id, registrations);
      case Method.DELETE:
        return deregister(request, id, registrations);
      default:
        return methodNotAllowed(request);
    }
  };
}

/** LwM2M Transport §6.2.1.1 Register: POST /rd?ep=…, answered 2.01 with Location-Path rd/{id}. */
async function register(request: IncomingRequest, registrations: RegistrationHandler, logger: Logger): Promise<OutgoingResponse> {
  const params = parseRegisterQuery(request.uriQuery);
  if (!params.ok) return diagnostic(ResponseCode.BAD_REQUEST, params.error);
  const links = readObjectLinks(request);
  if (!links.ok) return diagnostic(ResponseCode.BAD_REQUEST, links.error);
  const registration = await registrations.register(request.peer, params.value, links.value ?? emptyLinks(), request.security);
  if (isForbidden(registration)) return diagnostic(ResponseCode.FORBIDDEN, registration.forbidden);
  logger.debug({ endpoint: registration.endpoint, peer: formatPeer(request.peer) }, 'register accepted');
  return {
    code: ResponseCode.CREATED,
    options: [stringOption(OptionNumber.LOCATION_PATH, REGISTRATION_ROOT), stringOption(OptionNumber.LOCATION_PATH, registration.id)],
  };
}

/** LwM2M Transport §6.2.1.2 Update: POST /rd/{id}?lt=…&b=…&sms=…, with an optional new object list. */
async function update(request: IncomingRequest, id: string, registrations: RegistrationHandler): Promise<OutgoingResponse> {
  const params = parseUpdateQuery(request.uriQuery);
  if (!params.ok) return diagnostic(ResponseCode.BAD_REQUEST, params.error);
  const links = readObjectLinks(request);
  if (!links.ok) return diagnostic(ResponseCode.BAD_REQUEST, links.error);
  const updated = await registrations.update(id, request.peer, params.value, links.value, request.security);
  if (!updated) return diagnostic(ResponseCode.NOT_FOUND, `no registration ${id}`);
  if (isForbidden(updated)) return diagnostic(ResponseCode.FORBIDDEN, updated.forbidden);
  return { code: ResponseCode.CHANGED };
}

/** LwM2M Transport §6.2.1.3 De-register: DELETE /rd/{id}. */
async function deregister(request: IncomingRequest, id: string, registrations: RegistrationHandler): Promise<OutgoingResponse> {
  const removed = await registrations.deregister(id, request.security);
  if (!removed) return diagnostic(ResponseCode.NOT_FOUND, `no registration ${id}`);
  if (isForbidden(removed)) return diagnostic(ResponseCode.FORBIDDEN, removed.forbidden);
  return { code: ResponseCode.DELETED };
}

/** LwM2M Transport §6.4.5 Send: POST /dp with SenML, answered 2.04. */
async function send(request: IncomingRequest, sends: SendHandler): Promise<OutgoingResponse> {
  const outcome = await sends.handle(request.peer, request.contentFormat, request.payload);
  switch (outcome.kind) {
    case 'accepted':
      return { code: ResponseCode.CHANGED };
    case 'not_registered':
      return diagnostic(ResponseCode.NOT_FOUND, outcome.message);
    case 'unsupported_format':
      return diagnostic(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, outcome.message);
    case 'bad_payload':
      return diagnostic(ResponseCode.BAD_REQUEST, outcome.message);
  }
}

/** Refuses bad UTF-8 rather than replacing it; one decoder serves every request (decode() keeps no state). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** An absent payload is no object list (a keep-alive update, or an old client's bare register). */
function readObjectLinks(request: IncomingRequest): { ok: true; value: ObjectLinkList | undefined } | { ok: false; error: string } {
  if (request.payload.length === 0) return { ok: true, value: undefined };
  let text: string;
  try {
    text = strictUtf8.decode(request.payload);
  } catch {
    return { ok: false, error: 'payload is not UTF-8 link-format' };
  }
  const parsed = parseObjectLinks(text);
  return parsed.ok ? { ok: true, value: parsed.value } : parsed;
}

function emptyLinks(): ObjectLinkList {
  return { rootPath: '/', objectLinks: [], supportedContentFormats: [] };
}

function methodNotAllowed(request: IncomingRequest): OutgoingResponse {
  return diagnostic(ResponseCode.METHOD_NOT_ALLOWED, `${methodName(request.method)} not allowed on /${request.uriPath.join('/')}`);
}

/** RFC 7252 §5.5.2: an error response may carry a human-readable diagnostic payload. */
function diagnostic(code: number, message: string): OutgoingResponse {
  return { code, payload: message };
}
