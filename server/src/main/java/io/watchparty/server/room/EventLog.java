package io.watchparty.server.room;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The last {@code capacity} events of a room, by sequence, for resuming clients. Not thread-safe:
 * guarded by the room's lock.
 */
final class EventLog {
  private final byte[][] frames;

  /** The first sequence recorded since this log was created (a restart starts a new log). */
  private final long firstRecorded;

  private long lastSequence;

  EventLog(int capacity, long lastSequence) {
    if (capacity < 1) {
      throw new IllegalArgumentException("event log capacity must be positive, got " + capacity);
    }
    this.frames = new byte[capacity][];
    this.firstRecorded = lastSequence + 1;
    this.lastSequence = lastSequence;
  }

  /** Records the event with the next sequence number. */
  void append(long sequence, byte[] frame) {
    if (sequence != lastSequence + 1) {
      throw new IllegalStateException(
          "expected sequence " + (lastSequence + 1) + ", got " + sequence);
    }
    frames[slot(sequence)] = frame;
    lastSequence = sequence;
  }

  long lastSequence() {
    return lastSequence;
  }

  /**
   * The events after {@code seen}, in order; empty if some of them are no longer held, or if {@code
   * seen} is not a sequence this room has issued: then the client needs a snapshot.
   */
  Optional<List<byte[]>> after(long seen) {
    long oldestHeld = Math.max(firstRecorded, lastSequence - frames.length + 1);
    if (seen > lastSequence || seen < oldestHeld - 1) {
      return Optional.empty();
    }
    List<byte[]> missed = new ArrayList<>((int) (lastSequence - seen));
    for (long s = seen + 1; s <= lastSequence; s++) {
      missed.add(frames[slot(s)]);
    }
    return Optional.of(missed);
  }

  private int slot(long sequence) {
    return (int) (sequence % frames.length);
  }
}
