/**
 * One write to a subscriber's socket per event-loop turn, not one per MQTT packet.
 *
 * Aedes hands each delivery to the socket in a setImmediate of its own, and mqtt-packet corks
 * the socket only until the next tick, which Node runs between two immediates: so every packet
 * was a writev of its own (measured: 70 002 writevs for 69 000 notifications). Each is a syscall
 * that, on loopback, also runs the receiver's side of TCP and wakes it; the writevs were 31 % of
 * the hub's busy time when notifications were paced at 12 000/s, and 5 % once gathered.
 */
import type { Duplex, Writable } from 'node:stream';

/**
 * Corks `stream` at its first write of a turn and uncorks it once the turn's immediates have
 * run (setImmediate scheduled from an immediate runs in the next turn), so that what Aedes writes
 * in one turn leaves in one writev. An idle stream sends in the next turn, not later.
 *
 * Back-pressure is unchanged: a corked write still returns false once the buffer passes the
 * high-water mark, and 'drain' follows the uncorked writev. `end()` uncorks by itself.
 */
export function coalesceWrites(stream: Writable): void {
  const write = stream.write;
  let held = false;
  const release = () => {
    held = false;
    stream.uncork();
  };
  stream.write = function coalescedWrite(this: Writable, ...args: Parameters<Writable['write']>): boolean {
    if (!held && !stream.writableEnded && !stream.destroyed) {
      held = true;
      stream.cork();
      setImmediate(release);
    }
    return write.apply(this, args);
  } as Writable['write'];
}

/**
 * The same for MQTT over WebSocket, where it matters more: `ws`'s stream sends each write as a
 * WebSocket message of its own and has no `_writev`, so corking alone changed nothing, and
 * mqtt-packet's writes are pieces of a packet (a CONNACK arrived as four one-byte messages, a
 * PUBLISH as 4.5 on average). MQTT allows packets to span messages (3.1.1 §6), but a browser
 * then handles a message event, and the wire carries a frame header, for every piece. With a
 * `_writev` that joins what was held, a turn's packets leave in one binary message.
 */
export function coalesceWebSocketWrites(stream: Duplex): void {
  const writable = stream as Duplex & { _writev?: Duplex['_writev'] };
  writable._writev = (chunks, callback) => {
    // Writable hands strings over as Buffers (decodeStrings is on), so every chunk is one.
    const joined = Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer));
    stream._write(joined, chunks[0]?.encoding ?? 'utf8', callback);
  };
  coalesceWrites(stream);
}
