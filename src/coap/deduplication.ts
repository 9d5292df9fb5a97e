/**
 * RFC 7252 §4.5: a CON or NON message repeated with the same message ID from the
 * same endpoint within its lifetime (EXCHANGE_LIFETIME for CON, NON_LIFETIME for NON)
 * is a duplicate. It is processed once; a duplicate CON gets the same response again,
 * byte for byte.
 *
 * Every message a hub receives is remembered for minutes (NON notifications excepted: the
 * Observe order drops their copies, see UnmatchedResponseHandler), so an entry must be small.
 * Per peer, a Map from the numeric message ID to what is remembered (a marker, or the reply's
 * bytes); arrival order, for expiry, in parallel typed arrays used as a ring. No key string and
 * no object per message: about 50 B per entry (38 B of heap, 10 B of typed arrays), 266 B before.
 *
 * Every entry lives for the same lifetime, so arrival order is also expiry order and a
 * sweep only ever looks at entries that are due.
 */
export type DuplicateEntry =
  /** First copy still being processed: later copies are ignored (the sender retransmits). */
  | { readonly state: 'processing' }
  | { readonly state: 'answered'; readonly reply: Buffer | undefined };

/** Being processed, answered with nothing (a NON, or a notification we took), or answered with these bytes. */
const PROCESSING = 0;
const ANSWERED = 1;
type Remembered = typeof PROCESSING | typeof ANSWERED | Buffer;

interface PeerMessages {
  readonly peer: string;
  readonly byId: Map<number, Remembered>;
}

const INITIAL_CAPACITY = 1024;

export class DuplicateCache {
  private readonly peers = new Map<string, PeerMessages>();
  /** The ring: arrival time, message ID and peer of each remembered message, oldest at `head`. */
  private times = new Float64Array(INITIAL_CAPACITY);
  private ids = new Uint16Array(INITIAL_CAPACITY);
  private owners: (PeerMessages | undefined)[] = new Array<PeerMessages | undefined>(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
  private entries = 0;

  constructor(
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries;
  }

  get(peer: string, messageId: number): DuplicateEntry | undefined {
    this.sweep();
    const remembered = this.peers.get(peer)?.byId.get(messageId);
    if (remembered === undefined) return undefined;
    if (remembered === PROCESSING) return { state: 'processing' };
    return { state: 'answered', reply: remembered === ANSWERED ? undefined : remembered };
  }

  markProcessing(peer: string, messageId: number): void {
    this.sweep();
    this.remember(peer, messageId, PROCESSING);
  }

  /** Records what was sent back (or `undefined` when nothing was: a NON request we answered with NON). */
  markAnswered(peer: string, messageId: number, reply: Buffer | undefined): void {
    this.remember(peer, messageId, reply ?? ANSWERED);
  }

  sweep(): void {
    const deadline = this.now() - this.lifetimeMs;
    const capacity = this.times.length;
    while (this.count > 0 && (this.times[this.head] as number) <= deadline) {
      const owner = this.owners[this.head] as PeerMessages;
      if (owner.byId.delete(this.ids[this.head] as number)) this.entries--;
      if (owner.byId.size === 0) this.peers.delete(owner.peer);
      this.owners[this.head] = undefined;
      this.head = (this.head + 1) % capacity;
      this.count--;
    }
  }

  clear(): void {
    this.peers.clear();
    this.owners.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.entries = 0;
  }

  private remember(peer: string, messageId: number, what: Remembered): void {
    let owner = this.peers.get(peer);
    if (!owner) {
      owner = { peer, byId: new Map() };
      this.peers.set(peer, owner);
    }
    const known = owner.byId.has(messageId);
    owner.byId.set(messageId, what);
    if (known) return; // answered after processing: same entry, same place in the ring
    this.entries++;
    this.push(owner, messageId);
  }

  private push(owner: PeerMessages, messageId: number): void {
    if (this.count === this.times.length) this.grow();
    const at = (this.head + this.count) % this.times.length;
    this.times[at] = this.now();
    this.ids[at] = messageId;
    this.owners[at] = owner;
    this.count++;
  }

  /** Doubles the ring, oldest first. */
  private grow(): void {
    const capacity = this.times.length;
    const times = new Float64Array(capacity * 2);
    const ids = new Uint16Array(capacity * 2);
    const owners = new Array<PeerMessages | undefined>(capacity * 2);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % capacity;
      times[i] = this.times[from] as number;
      ids[i] = this.ids[from] as number;
      owners[i] = this.owners[from];
    }
    this.times = times;
    this.ids = ids;
    this.owners = owners;
    this.head = 0;
  }
}
