package io.watchparty.server.room;

import io.watchparty.server.refusal.RefusedException;

/**
 * Where a room sends the frames of one stream: implemented by the transport (the gRPC outbox).
 * Frames are serialized {@code ServerMessage}s. The room calls every method under its lock, so none
 * may block: each queues, or writes to a transport that is ready to take the frame at once.
 */
public interface StreamSink {
  /** Queues a frame; false (and nothing queued) when the receiver is a whole queue behind. */
  boolean offer(byte[] frame);

  /**
   * Queues a room event's frame, as {@link #offer(byte[])}, and calls {@link FanOut#handedOver}
   * exactly once, whatever it returns: once the frame is handed to the transport, or when it is
   * dropped (not queued, or dropped with the backlog). This default is for a sink whose {@code
   * offer} is the write.
   */
  default boolean offer(FanOut event) {
    try {
      return offer(event.frame());
    } finally {
      event.handedOver();
    }
  }

  /**
   * Queues an answer to the receiver's own request (a command's result, a pong), which the receiver
   * waits for by its request id: unlike a room event, a snapshot does not stand for it, so no
   * resync drops it. A receiver that leaves a whole queue of answers unread is refused.
   */
  void reply(byte[] frame);

  /**
   * Drops the backlog of a receiver that fell behind, except the answers to its requests, and
   * queues a snapshot after them.
   */
  void resetTo(byte[] snapshot);

  /** Ends the stream once the frames already queued are written (a leave, the room's end). */
  void finish();

  /** Ends the stream at once with a refusal (kick, ban, refused join), dropping the backlog. */
  void refuse(RefusedException refusal);

  /** Frames waiting to be written. */
  int backlog();

  /** How often the receiver fell behind and was resynchronized from a snapshot. */
  long resyncs();
}
