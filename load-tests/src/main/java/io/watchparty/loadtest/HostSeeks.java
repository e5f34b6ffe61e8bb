package io.watchparty.loadtest;

import io.watchparty.client.RoomConnection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A host seeking forward a second at a time (back to the start after 10 minutes, so that a long run
 * stays inside the title), as often as it is called, keeping the changes the server accepted (in
 * the order of their sequences) and when each was accepted.
 */
final class HostSeeks {
  /** An accepted seek: the sequence of its event, where it put the room, when it was accepted. */
  record Change(long sequence, long positionMs, long acceptedAtNanos) {}

  private static final long WRAP_MS = 600_000;

  private final RoomConnection host;
  private final AtomicLong position = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final List<Change> accepted = new ArrayList<>();

  HostSeeks(RoomConnection host) {
    this.host = host;
  }

  /** Sends the next seek: a second on, within the first 10 minutes (every demo title is longer). */
  void seek() {
    long to = position.addAndGet(1_000) % WRAP_MS;
    inFlight.incrementAndGet();
    host.seek(to)
        .whenComplete(
            (result, failure) -> {
              if (failure == null) {
                synchronized (accepted) {
                  accepted.add(new Change(result.getSequence(), to, System.nanoTime()));
                }
              } else {
                refused.incrementAndGet();
              }
              inFlight.decrementAndGet();
            });
  }

  /** The accepted changes so far, in the order of their sequences. */
  List<Change> accepted() {
    synchronized (accepted) {
      return accepted.stream().sorted(Comparator.comparingLong(Change::sequence)).toList();
    }
  }

  /**
   * The first change accepted by an owner of a later epoch than {@code epoch} (a sequence carries
   * its owner's epoch in its high 32 bits): the first one the next owner accepted.
   */
  java.util.Optional<Change> firstAcceptedAfterEpoch(long epoch) {
    synchronized (accepted) {
      return accepted.stream()
          .filter(c -> (c.sequence() >>> 32) > epoch)
          .min(Comparator.comparingLong(Change::acceptedAtNanos));
    }
  }

  /** The epoch of the newest change accepted so far (0 before any). */
  long epoch() {
    synchronized (accepted) {
      return accepted.stream().mapToLong(c -> c.sequence() >>> 32).max().orElse(0);
    }
  }

  /** Seeks sent that have no answer yet. */
  int inFlight() {
    return inFlight.get();
  }

  /** Seeks that failed (the connection dropped before their result, mostly). */
  int refused() {
    return refused.get();
  }
}
