import type { Peer } from '../coap/peer.js';
import type { Registration } from '../lwm2m/registration/registration.js';

/** The fields an update (LwM2M Core §6.2.2) or a change of peer address may change. */
export type RegistrationChanges = Partial<
  Pick<Registration, 'lifetime' | 'binding' | 'queueMode' | 'smsNumber' | 'objectLinks' | 'address' | 'port' | 'secure' | 'lastUpdate'>
>;

/**
 * Where registrations live. Asynchronous throughout, and written in terms of
 * plain data, so that file and Redis stores fit behind the same interface.
 */
export interface RegistrationStore {
  /** Stores a new registration, replacing (and returning) any earlier one of the same endpoint. */
  add(registration: Registration): Promise<Registration | undefined>;
  /** Applies changes to the registration with this id; undefined when there is none. */
  update(id: string, changes: RegistrationChanges): Promise<{ previous: Registration; current: Registration } | undefined>;
  /** Removes and returns the registration with this id. */
  remove(id: string): Promise<Registration | undefined>;
  getById(id: string): Promise<Registration | undefined>;
  getByEndpoint(endpoint: string): Promise<Registration | undefined>;
  getByPeer(peer: Peer): Promise<Registration | undefined>;
  list(): AsyncIterable<Registration>;
  /**
   * For stores shared by several hub instances (Redis): atomically removes and returns
   * registrations whose `lastUpdate + lifetime * 1000 + graceMs` is at or before `now`,
   * at most `limit`, each to exactly one caller. Stores without it are expired by each
   * instance's own scheduler.
   */
  claimExpired?(now: number, graceMs: number, limit: number): Promise<Registration[]>;
  count(): Promise<number>;
  /** Flushes what is pending and releases resources. */
  close(): Promise<void>;
}
