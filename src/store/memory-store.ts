import { peerKey, type Peer } from '../coap/peer.js';
import type { Registration } from '../lwm2m/registration/registration.js';
import type { RegistrationChanges, RegistrationStore } from './registration-store.js';

/** Registrations in memory, indexed by id, endpoint and peer address. */
export class MemoryRegistrationStore implements RegistrationStore {
  private readonly byId = new Map<string, Registration>();
  private readonly idByEndpoint = new Map<string, string>();
  private readonly idByPeer = new Map<string, string>();

  async add(registration: Registration): Promise<Registration | undefined> {
    return this.addNow(registration);
  }

  /** `add` without the promise, for replaying a log of 100 000 records. */
  addNow(registration: Registration): Registration | undefined {
    const previousId = this.idByEndpoint.get(registration.endpoint);
    const previous = previousId === undefined ? undefined : this.removeNow(previousId);
    this.byId.set(registration.id, registration);
    this.idByEndpoint.set(registration.endpoint, registration.id);
    this.idByPeer.set(peerKey(registration), registration.id);
    return previous;
  }

  async update(id: string, changes: RegistrationChanges): Promise<{ previous: Registration; current: Registration } | undefined> {
    return this.updateNow(id, changes);
  }

  /** `update` without the promise (log replay). */
  updateNow(id: string, changes: RegistrationChanges): { previous: Registration; current: Registration } | undefined {
    const previous = this.byId.get(id);
    if (!previous) return undefined;
    const current: Registration = { ...previous, ...changes };
    this.byId.set(id, current);
    const oldPeer = peerKey(previous);
    const newPeer = peerKey(current);
    if (oldPeer !== newPeer) {
      if (this.idByPeer.get(oldPeer) === id) this.idByPeer.delete(oldPeer);
      this.idByPeer.set(newPeer, id);
    }
    return { previous, current };
  }

  async remove(id: string): Promise<Registration | undefined> {
    return this.removeNow(id);
  }

  async getById(id: string): Promise<Registration | undefined> {
    return this.byId.get(id);
  }

  async getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    const id = this.idByEndpoint.get(endpoint);
    return id === undefined ? undefined : this.byId.get(id);
  }

  async getByPeer(peer: Peer): Promise<Registration | undefined> {
    const id = this.idByPeer.get(peerKey(peer));
    return id === undefined ? undefined : this.byId.get(id);
  }

  async *list(): AsyncIterable<Registration> {
    yield* [...this.byId.values()];
  }

  async count(): Promise<number> {
    return this.byId.size;
  }

  async close(): Promise<void> {}

  /** `remove` without the promise (log replay). */
  removeNow(id: string): Registration | undefined {
    const registration = this.byId.get(id);
    if (!registration) return undefined;
    this.byId.delete(id);
    if (this.idByEndpoint.get(registration.endpoint) === id) this.idByEndpoint.delete(registration.endpoint);
    const key = peerKey(registration);
    if (this.idByPeer.get(key) === id) this.idByPeer.delete(key);
    return registration;
  }
}
