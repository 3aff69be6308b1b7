/** Backpressure of one stream: the consumer's buffer tells the transport when Python must wait. */

/** What a transport does with the consumer's progress (one per attempt of the call). */
export interface FlowLink {
  /** A chunk reached the consumer's side; `buffered` chunks now wait there. */
  received(buffered: number): void;
  /** The consumer took a chunk; `buffered` chunks still wait. */
  taken(buffered: number): void;
}

/**
 * The buffer level of one `sp.stream()` consumer. The consumer reports each chunk it receives and
 * each one it takes; the transport running the call attaches a link that turns these into flow
 * control (pipe: credit frames; gRPC: pausing the response stream), so Python stops producing
 * while `highWaterMark` chunks wait on the host.
 */
export class StreamFlow {
  /** Chunks received and not yet taken by the consumer. */
  buffered = 0;
  /** True while Python waits (or is about to) for the consumer to take chunks. */
  held = false;
  /** Told when `held` changes (the pool's stats). */
  onHeld: ((held: boolean) => void) | undefined;
  #link: FlowLink | undefined;

  constructor(readonly highWaterMark: number) {}

  /** Set by the transport's link; false again when the call ends. */
  hold(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    this.onHeld?.(held);
  }

  /** The transport of the current attempt listens (a retried call attaches anew, replacing it). */
  attach(link: FlowLink): void {
    this.#link = link;
  }

  received(): void {
    this.#link?.received(++this.buffered);
  }

  taken(): void {
    this.#link?.taken(--this.buffered);
  }
}

/**
 * Pipe: Python may send `highWaterMark` chunks beyond those the host granted; the host grants
 * what the consumer took, half a window at a time (one small frame per `highWaterMark / 2`
 * chunks), so the host never holds more than `highWaterMark` chunks of the stream. Python is
 * held once it has sent all it may.
 */
export function creditLink(flow: StreamFlow, grant: (n: number) => void): FlowLink {
  const batch = Math.max(1, Math.floor(flow.highWaterMark / 2));
  let allowance = flow.highWaterMark; // chunks Python may still send
  let owed = 0;
  return {
    received() {
      if (--allowance <= 0) flow.hold(true);
    },
    taken() {
      if (++owed < batch) return;
      grant(owed);
      allowance += owed;
      owed = 0;
      if (allowance > 0) flow.hold(false);
    },
  };
}

/**
 * gRPC: the response stream is paused once `highWaterMark` chunks wait, and resumed when half of
 * them were taken; HTTP/2 flow control then stops Python, whose producer waits for each send.
 */
export function pauseLink(flow: StreamFlow, stream: { pause(): void; resume(): void }): FlowLink {
  const { highWaterMark } = flow;
  const low = Math.floor(highWaterMark / 2);
  let paused = false;
  return {
    received(buffered) {
      if (paused || buffered < highWaterMark) return;
      paused = true;
      stream.pause();
      flow.hold(true);
    },
    taken(buffered) {
      if (!paused || buffered > low) return;
      paused = false;
      stream.resume();
      flow.hold(false);
    },
  };
}
