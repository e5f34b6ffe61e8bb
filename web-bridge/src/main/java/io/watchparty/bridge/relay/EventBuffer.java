package io.watchparty.bridge.relay;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;

/**
 * The last room events the relay received, as the frames browsers were sent, so that a browser that
 * reconnects with {@code Last-Event-ID} gets exactly what it missed. Bounded: the oldest frames
 * make way, and a gap older than the buffer is answered with a snapshot instead. Not thread-safe:
 * its relay's lock guards it.
 */
final class EventBuffer {
  private final int capacity;
  private final ArrayDeque<Outgoing.Event> frames;

  EventBuffer(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
    this.frames = new ArrayDeque<>(Math.min(capacity, 1024));
  }

  /** Appends the next frame; sequences must increase. */
  void add(Outgoing.Event frame) {
    if (!frames.isEmpty() && frame.id() <= frames.peekLast().id()) {
      throw new IllegalArgumentException(
          "sequence " + frame.id() + " is not after " + frames.peekLast().id());
    }
    if (frames.size() == capacity) {
      frames.removeFirst();
    }
    frames.addLast(frame);
  }

  /** Forgets everything: after a fresh snapshot, the frames before it are not a contiguous log. */
  void clear() {
    frames.clear();
  }

  /**
   * The frames after {@code lastSeen}, when they are all still here and {@code lastSeen} is a
   * sequence of this room's log up to {@code current}; empty when it cannot say (a snapshot is
   * due).
   */
  Optional<List<Outgoing.Event>> after(long lastSeen, long current) {
    if (lastSeen == current) {
      return Optional.of(List.of());
    }
    if (lastSeen > current || frames.isEmpty() || frames.peekFirst().id() > lastSeen + 1) {
      return Optional.empty();
    }
    return Optional.of(frames.stream().filter(f -> f.id() > lastSeen).toList());
  }
}
