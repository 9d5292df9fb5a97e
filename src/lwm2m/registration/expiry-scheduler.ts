/**
 * When each registration expires, with one timer for all of them.
 *
 * A binary min-heap of (deadline, id) with lazy deletion: rescheduling or
 * cancelling only changes the id's current deadline in a map, and stale heap
 * entries are dropped when they surface. Every operation is O(log n); nothing
 * ever scans all registrations.
 */
export interface Entry {
  readonly deadline: number;
  readonly id: string;
}

/** setTimeout takes at most 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ExpiryScheduler {
  private readonly heap: Entry[] = [];
  private readonly deadlines = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;

  constructor(
    private readonly onExpire: (id: string, deadline: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.deadlines.size;
  }

  schedule(id: string, deadline: number): void {
    this.deadlines.set(id, deadline);
    this.push({ deadline, id });
    if (this.heap.length > 4 * this.deadlines.size + 64) this.compact();
    if (deadline < this.armedFor) this.arm();
  }

  /** Many at once (a restart's stored registrations): the heap is built in O(n) and one timer armed. */
  scheduleAll(entries: readonly Entry[]): void {
    for (const entry of entries) {
      this.deadlines.set(entry.id, entry.deadline);
      this.heap.push(entry);
    }
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.arm();
  }

  cancel(id: string): void {
    this.deadlines.delete(id);
  }

  deadlineOf(id: string): number | undefined {
    return this.deadlines.get(id);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    const first = this.heap[0];
    if (!first) return;
    this.armedFor = first.deadline;
    const delay = Math.min(Math.max(first.deadline - this.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    const now = this.now();
    for (let top = this.heap[0]; top && top.deadline <= now; top = this.heap[0]) {
      this.pop();
      if (this.deadlines.get(top.id) !== top.deadline) continue; // rescheduled or cancelled since
      this.deadlines.delete(top.id);
      this.onExpire(top.id, top.deadline);
    }
    this.arm();
  }

  /** Drops stale entries when updates have left the heap much larger than the live set. */
  private compact(): void {
    const live = this.heap.filter((entry) => this.deadlines.get(entry.id) === entry.deadline);
    this.heap.length = 0;
    for (const entry of live) this.push(entry);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry).deadline <= entry.deadline) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    this.siftDown(0);
  }

  /** Moves the entry at `i` down until neither child is earlier. */
  private siftDown(i: number): void {
    const heap = this.heap;
    const entry = heap[i] as Entry;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as Entry).deadline < (heap[left] as Entry).deadline ? right : left;
      if ((heap[child] as Entry).deadline >= entry.deadline) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = entry;
  }
}
