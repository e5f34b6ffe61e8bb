package io.watchparty.server.room;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.watchparty.proto.Backoff;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one room's changes behind it (the rule in {@code room.proto}: a command is applied and
 * announced at once, and Cassandra follows). Changes are stamped under the room lock with
 * increasing write timestamps, so Cassandra applies them in the order they happened even though
 * they are written concurrently, and a write that failed is retried with the room's backoff ({@link
 * RoomConfig#writeRetry}), on the room's timers, until it is stored: being timestamped, a retry
 * never undoes a later change. A write is tried at most {@link RoomConfig#writeAttempts} times, and
 * only once when the store says no retry can mend its failure; then it fails for good, logged as an
 * error, and whoever waits for it is told. While writes wait, only the newest playback state is
 * kept, since each one replaces the last. Completions run on {@code executor}, never on the storage
 * driver's I/O threads. Thread-safe.
 */
final class RoomWriter {
  private static final Logger log = LoggerFactory.getLogger(RoomWriter.class);

  /**
   * A change (or another write of the room's, e.g. its chat's), when it is stored, and how many
   * times it was tried.
   */
  private record Pending(
      String what, Supplier<CompletionStage<?>> write, CompletableFuture<Void> stored, int tries) {
    Pending tried() {
      return new Pending(what, write, stored, tries + 1);
    }
  }

  private final UUID roomId;
  private final RoomStore store;
  private final InstantSource clock;
  private final RoomTimers timers;
  private final Executor executor;
  private final Backoff retry;
  private final int attempts;

  @GuardedBy("this")
  private long lastWriteMicros;

  @GuardedBy("this")
  private final List<Pending> unsent = new ArrayList<>();

  @GuardedBy("this")
  private final List<CompletableFuture<Void>> unstored = new ArrayList<>();

  @GuardedBy("this")
  private Pending unsentPlayback;

  RoomWriter(
      UUID roomId,
      RoomStore store,
      long createdAtMs,
      InstantSource clock,
      RoomTimers timers,
      Executor executor,
      RoomConfig config) {
    this.roomId = roomId;
    this.store = store;
    this.clock = clock;
    this.timers = timers;
    this.executor = executor;
    this.retry = config.writeRetry();
    this.attempts = config.writeAttempts();
    // The room was stored at its creation time: every later write must be newer.
    this.lastWriteMicros = createdAtMs * 1000;
  }

  /** Records a change, stamped with the room's next write timestamp. Under the room lock. */
  synchronized void add(LongFunction<RoomChange> change) {
    lastWriteMicros = Math.max(lastWriteMicros + 1, clock.millis() * 1000);
    RoomChange stamped = change.apply(lastWriteMicros);
    Pending pending =
        record(stamped.getClass().getSimpleName(), () -> store.apply(roomId, List.of(stamped)));
    if (stamped instanceof RoomChange.PlaybackSaved) {
      if (unsentPlayback != null && unsent.remove(unsentPlayback)) {
        // Replaced before it was sent: it counts as stored when its replacement is.
        CompletableFuture<Void> replaced = unsentPlayback.stored();
        pending
            .stored()
            .whenComplete(
                (stored, failed) -> {
                  if (failed == null) {
                    replaced.complete(null);
                  } else {
                    replaced.completeExceptionally(failed);
                  }
                });
      }
      unsentPlayback = pending;
    }
  }

  /**
   * Records another write of the room's state (its chat's moderation), sent and retried like the
   * room's own; it must be idempotent (timestamped). Under the room lock.
   */
  synchronized void addWrite(String what, Supplier<CompletionStage<?>> write) {
    record(what, write);
  }

  @GuardedBy("this")
  private Pending record(String what, Supplier<CompletionStage<?>> write) {
    Pending pending = new Pending(what, write, new CompletableFuture<>(), 0);
    unsent.add(pending);
    unstored.add(pending.stored());
    // Stored, or failed for good: either way nothing is left to wait for.
    pending.stored().whenComplete((stored, failed) -> forget(pending.stored()));
    return pending;
  }

  private synchronized void forget(CompletableFuture<Void> stored) {
    unstored.remove(stored);
  }

  /**
   * Completes once everything recorded so far is stored (after retries, if Cassandra failed), or
   * fails with the first write that failed for good.
   */
  synchronized CompletionStage<Void> whenStored() {
    return CompletableFuture.allOf(unstored.toArray(CompletableFuture[]::new));
  }

  /** Sends what was recorded; called once the room lock is released. */
  void flush() {
    List<Pending> batch;
    synchronized (this) {
      batch = List.copyOf(unsent);
      unsent.clear();
      unsentPlayback = null;
    }
    batch.forEach(this::send);
  }

  /** Whether every recorded change is stored (a room retires only then). */
  synchronized boolean idle() {
    return unstored.isEmpty() && unsent.isEmpty();
  }

  private void send(Pending pending) {
    CompletionStage<?> written;
    try {
      written = pending.write().get();
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    written.whenCompleteAsync((done, failure) -> written(pending.tried(), failure), executor);
  }

  private void written(Pending pending, Throwable failure) {
    if (failure == null) {
      pending.stored().complete(null);
      return;
    }
    if (!store.mayRetry(failure) || pending.tries() >= attempts) {
      log.error(
          "Room {}: could not store {} after {} attempt(s) ({}); giving it up, the room goes on",
          roomId,
          pending.what(),
          pending.tries(),
          failure.toString());
      pending
          .stored()
          .completeExceptionally(
              new RefusedException(
                  ErrorReason.STORAGE_UNAVAILABLE,
                  "the change could not be stored; the room goes on without it in storage"));
      return;
    }
    long delayMs = retry.delayMs(pending.tries() - 1);
    log.warn(
        "Room {}: could not store {} ({}); retrying in {} ms (attempt {} of {}), the room goes on",
        roomId,
        pending.what(),
        failure.toString(),
        delayMs,
        pending.tries() + 1,
        attempts);
    timers.schedule(() -> send(pending), delayMs);
  }
}
