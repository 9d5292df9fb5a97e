/** A Server-Sent Events reader over fetch, for tests of /api/events. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  private done: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: client.controller.signal });
    if (!response.ok || !response.body) throw new Error(`SSE ${url}: HTTP ${response.status}`);
    client.done = client.pump(response.body);
    return client;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const data = fields.get('data');
          if (data === undefined) continue;
          this.events.push({ id: fields.get('id'), event: fields.get('event') ?? 'message', data: JSON.parse(data) as Record<string, unknown> });
          for (const wake of this.waiters.splice(0)) wake();
        }
      }
    } catch {
      // aborted by close()
    }
  }

  /** Waits until `count` events match (at most `timeoutMs`), then returns them. */
  async waitFor(predicate: (e: SseEvent) => boolean, count = 1, timeoutMs = 5000): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.events.filter(predicate);
      if (matching.length >= count) return matching;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} SSE events; have ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
