/**
 * RFC 7252 §4.5: a CON or NON message repeated with the same message ID from the
 * same endpoint within EXCHANGE_LIFETIME is a duplicate. It is processed once;
 * a duplicate CON gets the same response again, byte for byte.
 *
 * Every entry lives for the same lifetime, so the Map's insertion order is also
 * expiry order and a sweep only ever looks at entries that are due.
 */
export type DuplicateEntry =
  /** First copy still being processed: later copies are ignored (the sender retransmits). */
  | { readonly state: 'processing'; readonly receivedAt: number }
  | { readonly state: 'answered'; readonly receivedAt: number; readonly reply: Buffer | undefined };

export class DuplicateCache {
  private readonly entries = new Map<string, DuplicateEntry>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): DuplicateEntry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.receivedAt >= this.lifetimeMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  markProcessing(key: string): void {
    this.sweep();
    this.entries.set(key, { state: 'processing', receivedAt: this.now() });
  }

  /** Records what was sent back (or `undefined` when nothing was: a NON request we answered with NON). */
  markAnswered(key: string, reply: Buffer | undefined): void {
    const entry = this.entries.get(key);
    // Replacing the value of an existing key keeps its place in the insertion order.
    this.entries.set(key, { state: 'answered', receivedAt: entry?.receivedAt ?? this.now(), reply });
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  sweep(): void {
    const deadline = this.now() - this.lifetimeMs;
    for (const [key, entry] of this.entries) {
      if (entry.receivedAt > deadline) break;
      this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
