package io.watchparty.loadtest;

import io.watchparty.client.RoomConnection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A host seeking forward a second at a time, as often as it is called, keeping the changes the
 * server accepted (in the order of their sequences) and when each was accepted.
 */
final class HostSeeks {
  /** An accepted seek: the sequence of its event, where it put the room, when it was accepted. */
  record Change(long sequence, long positionMs, long acceptedAtNanos) {}

  private final RoomConnection host;
  private final AtomicLong position = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final List<Change> accepted = new ArrayList<>();

  HostSeeks(RoomConnection host) {
    this.host = host;
  }

  /** Sends the next seek. */
  void seek() {
    long to = position.addAndGet(1_000);
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

  /** The first change accepted after {@code nanos}, in time. */
  java.util.Optional<Change> firstAcceptedAfter(long nanos) {
    synchronized (accepted) {
      return accepted.stream()
          .filter(c -> c.acceptedAtNanos() > nanos)
          .min(Comparator.comparingLong(Change::acceptedAtNanos));
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
