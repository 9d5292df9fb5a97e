/**
 * Who may register, update and de-register as an endpoint name: the check
 * between the transport's security context and the security store.
 *
 * The LwM2M Register operation answers 4.03 Forbidden when "the Endpoint Client
 * Name registration in the LwM2M Server is not allowed"; a PSK identity stands
 * for one client, so a DTLS client may only act as the endpoint its identity
 * is bound to. The same rules as Leshan's SecurityChecker, plus
 * `--allow-unsecured` for endpoints without credentials:
 *
 * | arrived over | the endpoint has an entry                         | no entry                                  |
 * |--------------|---------------------------------------------------|-------------------------------------------|
 * | DTLS (PSK)   | allowed if the identity is the entry's, else 4.03 | 4.03                                      |
 * | plain CoAP   | 4.03 (it must use DTLS)                           | allowed if `--allow-unsecured`, else 4.03 |
 *
 * Update and de-register are checked the same way, against the endpoint of the
 * registration they name, and must come over the transport the registration was
 * made on: a plain-UDP update of a DTLS registration (a forged source that
 * guessed the id) is refused, and so is a DTLS update from a session of another
 * identity. The store is read at every request, so a changed or deleted entry
 * takes effect at the client's next update.
 */
import type { TransportSecurity } from '../../coap/transport.js';
import type { SecurityEntry, SecurityStore } from '../../store/security-store.js';
import type { Registration } from '../registration/registration.js';

export type { TransportSecurity };

export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** A request refused by the policy: the dispatcher answers 4.03 Forbidden with the reason. */
export interface Forbidden {
  readonly forbidden: string;
}

export function isForbidden(outcome: object | undefined): outcome is Forbidden {
  return outcome !== undefined && 'forbidden' in outcome;
}

/**
 * The decision for one endpoint, from its entry (or none) and the request's context.
 * The reasons go back to the client as the 4.03 diagnostic, so they say what to
 * do without telling a plain-UDP stranger whether the endpoint has credentials.
 */
export function decide(
  entry: Pick<SecurityEntry, 'identity'> | undefined,
  security: TransportSecurity | undefined,
  allowUnsecured: boolean,
): PolicyDecision {
  if (security) {
    if (entry?.identity === security.pskIdentity) return { allowed: true };
    return { allowed: false, reason: 'PSK identity not bound to this endpoint name' };
  }
  if (!entry && allowUnsecured) return { allowed: true };
  return { allowed: false, reason: 'unsecured registration refused: use DTLS (coaps)' };
}

export interface RegistrationPolicyOptions {
  readonly securityStore: Pick<SecurityStore, 'get'>;
  /** `--allow-unsecured`: endpoints without an entry may use plain CoAP. */
  readonly allowUnsecured: boolean;
}

export class RegistrationPolicy {
  private readonly store: Pick<SecurityStore, 'get'>;
  private readonly allowUnsecured: boolean;

  constructor(options: RegistrationPolicyOptions) {
    this.store = options.securityStore;
    this.allowUnsecured = options.allowUnsecured;
  }

  /** May a request in this security context (none: plain CoAP) register as `endpoint`? */
  async check(endpoint: string, security: TransportSecurity | undefined): Promise<PolicyDecision> {
    return decide(await this.store.get(endpoint), security, this.allowUnsecured);
  }

  /** May it update or de-register this registration? Same check, and over the transport the registration used. */
  async checkExisting(
    registration: Pick<Registration, 'endpoint' | 'secure'>,
    security: TransportSecurity | undefined,
  ): Promise<PolicyDecision> {
    if ((registration.secure === true) !== (security !== undefined)) {
      return {
        allowed: false,
        reason: `registration was made over ${registration.secure ? 'DTLS' : 'plain CoAP'}: update it the same way or register again`,
      };
    }
    return this.check(registration.endpoint, security);
  }
}
