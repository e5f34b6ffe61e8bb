package io.watchparty.bridge;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many event streams the bridge holds, in all and per user, against their limits. A user's
 * count changes only inside the map's atomic {@code compute} for that user, so a reservation can
 * never increment a count that a concurrent release has just removed: a user who closed every tab
 * has no slot left taken. Thread-safe.
 */
final class StreamSlots {
  private final int maxStreams;
  private final int userStreams;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> openPerUser = new ConcurrentHashMap<>();

  StreamSlots(int maxStreams, int userStreams) {
    this.maxStreams = maxStreams;
    this.userStreams = userStreams;
  }

  /** Takes a slot for one stream of {@code userId}; false, taking nothing, at either limit. */
  boolean reserve(String userId) {
    if (open.incrementAndGet() > maxStreams) {
      open.decrementAndGet();
      return false;
    }
    boolean[] taken = {false};
    openPerUser.compute(
        userId,
        (user, count) -> {
          int now = count == null ? 0 : count;
          if (now >= userStreams) {
            return count;
          }
          taken[0] = true;
          return now + 1;
        });
    if (!taken[0]) {
      open.decrementAndGet();
    }
    return taken[0];
  }

  /** Gives back the slot of one stream of {@code userId} that {@link #reserve} took. */
  void release(String userId) {
    openPerUser.computeIfPresent(userId, (user, count) -> count == 1 ? null : count - 1);
    open.decrementAndGet();
  }

  /** Streams open in all. */
  int open() {
    return open.get();
  }

  /** Streams of {@code userId} open. */
  int openOf(String userId) {
    return openPerUser.getOrDefault(userId, 0);
  }
}
