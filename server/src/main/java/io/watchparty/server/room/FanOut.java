package io.watchparty.server.room;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One room event on its way to the room's streams: its frame (serialized once, the same bytes for
 * every stream) and how many streams have yet to take it. Each stream's writer calls {@link
 * #handedOver} once, after handing the frame to the transport or when it drops it (the stream fell
 * behind or ended); the last one records the event's fan-out time. One object per event, shared by
 * every stream: nothing is allocated or locked per frame.
 */
public final class FanOut {
  private final byte[] frame;
  private final long acceptedAtNanos;
  private final FanOutTimes times;

  /** Streams that have not taken the frame yet, plus one for the publisher until it is done. */
  private final AtomicInteger pending;

  /** An event for {@code streams} streams; its publisher hands over its own share when done. */
  public FanOut(byte[] frame, long acceptedAtNanos, int streams, FanOutTimes times) {
    this.frame = frame;
    this.acceptedAtNanos = acceptedAtNanos;
    this.times = times;
    this.pending = new AtomicInteger(streams + 1);
  }

  /** The event's frame, the same array for every stream: never to be changed. */
  public byte[] frame() {
    return frame;
  }

  /** One stream is done with this event: its frame is written to the transport, or dropped. */
  public void handedOver() {
    if (pending.decrementAndGet() == 0) {
      times.record(System.nanoTime() - acceptedAtNanos);
    }
  }
}
