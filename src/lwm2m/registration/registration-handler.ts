/**
 * The LwM2M registration interface (Core §6.2): register, update, deregister,
 * and expiry when a lifetime passes without an update. Transport-independent:
 * the CoAP dispatcher turns requests into these calls.
 */
import type { Logger } from 'pino';
import type { Peer } from '../../coap/peer.js';
import type { EventBus } from '../../events.js';
import { randomBytesPooled } from '../../random.js';
import type { Forbidden, RegistrationPolicy, TransportSecurity } from '../security/registration-policy.js';
import type { RegistrationChanges, RegistrationStore } from '../../store/registration-store.js';
import { ExpiryScheduler } from './expiry-scheduler.js';
import type { ObjectLinkList, RegisterParameters, UpdateParameters } from './parameters.js';
import { expiresAt, type Registration } from './registration.js';

/** How often a shared store is asked for expired registrations, and how many at a time. */
const CLAIM_INTERVAL_MS = 500;
const CLAIM_BATCH = 500;

export interface RegistrationHandlerOptions {
  readonly store: RegistrationStore;
  readonly events: EventBus;
  readonly logger: Logger;
  /** Extra time after `lastUpdate + lifetime` before a registration is removed, for updates in flight. */
  readonly expiryGraceMs: number;
  /** Who may act as an endpoint name (security store, `--allow-unsecured`); everyone without one. */
  readonly policy?: RegistrationPolicy;
  readonly now?: () => number;
}

export class RegistrationHandler {
  private readonly store: RegistrationStore;
  private readonly events: EventBus;
  private readonly logger: Logger;
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly expiry: ExpiryScheduler;
  private readonly policy: RegistrationPolicy | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private claiming = false;

  constructor(options: RegistrationHandlerOptions) {
    this.store = options.store;
    this.events = options.events;
    this.logger = options.logger;
    this.graceMs = options.expiryGraceMs;
    this.now = options.now ?? Date.now;
    this.policy = options.policy;
    this.expiry = new ExpiryScheduler((id, deadline) => void this.expire(id, deadline), this.now);
  }

  /**
   * Schedules the expiry of registrations already in the store (after a restart); past ones expire at once.
   * A shared store (claimExpired) is polled instead: each expired registration is claimed by one instance.
   */
  async start(): Promise<void> {
    if (this.store.claimExpired) {
      this.claimTimer = setInterval(() => void this.claimExpired(), CLAIM_INTERVAL_MS);
      this.claimTimer.unref();
      return;
    }
    // A restart's stored registrations are scheduled at once: one heap built, one timer armed.
    const stored: { id: string; deadline: number }[] = [];
    for await (const registration of this.store.list()) stored.push({ id: registration.id, deadline: expiresAt(registration) + this.graceMs });
    this.expiry.scheduleAll(stored);
  }

  stop(): void {
    this.expiry.stop();
    clearInterval(this.claimTimer);
  }

  private async claimExpired(): Promise<void> {
    if (this.claiming || !this.store.claimExpired) return;
    this.claiming = true;
    try {
      for (;;) {
        const expired = await this.store.claimExpired(this.now(), this.graceMs, CLAIM_BATCH);
        for (const registration of expired) {
          this.logger.debug({ endpoint: registration.endpoint, id: registration.id }, 'expired');
          this.events.emit('expired', { registration });
        }
        if (expired.length < CLAIM_BATCH) break;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'expiry claim failed');
    } finally {
      this.claiming = false;
    }
  }

  /** `security`: the DTLS session the request came over, none over plain CoAP. */
  async register(peer: Peer, params: RegisterParameters, links: ObjectLinkList, security?: TransportSecurity): Promise<Registration | Forbidden> {
    const refused = await this.refusal(params.endpoint, security, 'register');
    if (refused) return refused;
    const now = this.now();
    const registration: Registration = {
      id: await this.newRegistrationId(),
      endpoint: params.endpoint,
      lifetime: params.lifetime,
      lwm2mVersion: params.lwm2mVersion,
      binding: params.binding,
      queueMode: params.queueMode,
      ...(params.smsNumber !== undefined ? { smsNumber: params.smsNumber } : {}),
      address: peer.address,
      port: peer.port,
      ...(peer.secure ? { secure: true } : {}),
      rootPath: links.rootPath,
      objectLinks: links.objectLinks,
      supportedContentFormats: links.supportedContentFormats,
      additionalAttributes: params.additionalAttributes,
      registeredAt: now,
      lastUpdate: now,
    };
    // LwM2M Core §6.2.1: a client registering again with the same endpoint name replaces its registration.
    const replaced = await this.store.add(registration);
    if (replaced) this.expiry.cancel(replaced.id);
    this.scheduleExpiry(registration);
    this.logger.debug({ endpoint: registration.endpoint, id: registration.id, replaced: replaced?.id }, 'registered');
    this.events.emit('registered', replaced ? { registration, replaced } : { registration });
    return registration;
  }

  /** Returns undefined when the id is unknown (4.04). */
  async update(id: string, peer: Peer, params: UpdateParameters, links?: ObjectLinkList, security?: TransportSecurity): Promise<Registration | Forbidden | undefined> {
    if (this.policy) {
      const registration = await this.store.getById(id);
      if (!registration) return undefined;
      const refused = await this.refusal(registration, security, 'update');
      if (refused) return refused;
    }
    const changes: RegistrationChanges = {
      ...params,
      // The client may have moved (NAT rebinding, new address): requests follow its latest source.
      address: peer.address,
      port: peer.port,
      // An update over DTLS moves the requests to its session. (One over plain UDP cannot unset it: the
      // registration check refuses an update over another transport than the registration's.)
      ...(peer.secure ? { secure: true } : {}),
      lastUpdate: this.now(),
      ...(links ? { objectLinks: links.objectLinks } : {}),
    };
    const result = await this.store.update(id, changes);
    if (!result) return undefined;
    this.scheduleExpiry(result.current);
    this.logger.debug({ endpoint: result.current.endpoint, id }, 'updated');
    this.events.emit('updated', { registration: result.current, previous: result.previous });
    return result.current;
  }

  /** Returns undefined when the id is unknown (4.04). */
  async deregister(id: string, security?: TransportSecurity): Promise<Registration | Forbidden | undefined> {
    if (this.policy) {
      const current = await this.store.getById(id);
      if (!current) return undefined;
      const refused = await this.refusal(current, security, 'deregister');
      if (refused) return refused;
    }
    const registration = await this.store.remove(id);
    if (!registration) return undefined;
    this.expiry.cancel(id);
    this.logger.debug({ endpoint: registration.endpoint, id }, 'deregistered');
    this.events.emit('deregistered', { registration });
    return registration;
  }

  /** The policy's answer for a new registration of an endpoint, or for a request on an existing registration. */
  private async refusal(subject: string | Registration, security: TransportSecurity | undefined, operation: string): Promise<Forbidden | undefined> {
    if (!this.policy) return undefined;
    const decision = typeof subject === 'string' ? await this.policy.check(subject, security) : await this.policy.checkExisting(subject, security);
    if (decision.allowed) return undefined;
    const endpoint = typeof subject === 'string' ? subject : subject.endpoint;
    // debug, not warn: a misconfigured device retries for ever and must not flood the log.
    this.logger.debug({ endpoint, operation, pskIdentity: security?.pskIdentity, reason: decision.reason }, 'registration refused');
    return { forbidden: decision.reason };
  }

  private scheduleExpiry(registration: Registration): void {
    if (this.store.claimExpired) return;
    this.expiry.schedule(registration.id, expiresAt(registration) + this.graceMs);
  }

  private async expire(id: string, deadline: number): Promise<void> {
    try {
      const current = await this.store.getById(id);
      // An update may have landed between the timer and now: only a registration still due is removed.
      if (!current || expiresAt(current) + this.graceMs > deadline) return;
      const removed = await this.store.remove(id);
      if (!removed) return;
      this.logger.debug({ endpoint: removed.endpoint, id }, 'expired');
      this.events.emit('expired', { registration: removed });
    } catch (error) {
      this.logger.error({ err: error, id }, 'expiry failed');
    }
  }

  /** Short ids (8 characters, 48 random bits) keep Location-Path and every update small on 802.15.4. */
  private async newRegistrationId(): Promise<string> {
    for (;;) {
      const id = randomBytesPooled(6).toString('base64url');
      if (!(await this.store.getById(id))) return id;
    }
  }
}
