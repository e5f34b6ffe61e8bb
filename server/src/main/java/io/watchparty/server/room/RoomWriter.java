package io.watchparty.server.room;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one room's changes behind it (the rule in {@code room.proto}: a command is applied and
 * announced at once, and Cassandra follows). Changes are stamped under the room lock with
 * increasing write timestamps, so Cassandra applies them in the order they happened even though
 * they are written concurrently, and a write that failed is retried with backoff until it is
 * stored: being timestamped, a retry never undoes a later change. While writes wait, only the
 * newest playback state is kept, since each one replaces the last. Completions run on {@code
 * executor}, never on the storage driver's I/O threads. Thread-safe.
 */
final class RoomWriter {
  private static final Logger log = LoggerFactory.getLogger(RoomWriter.class);
  static final long FIRST_RETRY_MS = 200;
  static final long MAX_RETRY_MS = 10_000;

  /** A change (or another write of the room's, e.g. its chat's) and when it is stored. */
  private record Pending(
      String what, Supplier<CompletionStage<?>> write, CompletableFuture<Void> stored) {}

  private final UUID roomId;
  private final RoomStore store;
  private final InstantSource clock;
  private final ScheduledExecutorService scheduler;
  private final Executor executor;

  @GuardedBy("this")
  private long lastWriteMicros;

  @GuardedBy("this")
  private final List<Pending> unsent = new ArrayList<>();

  @GuardedBy("this")
  private final List<CompletableFuture<Void>> unstored = new ArrayList<>();

  @GuardedBy("this")
  private Pending unsentPlayback;

  @GuardedBy("this")
  private long retryMs;

  RoomWriter(
      UUID roomId,
      RoomStore store,
      long createdAtMs,
      InstantSource clock,
      ScheduledExecutorService scheduler,
      Executor executor) {
    this.roomId = roomId;
    this.store = store;
    this.clock = clock;
    this.scheduler = scheduler;
    this.executor = executor;
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
        pending.stored().thenRun(() -> replaced.complete(null));
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
    Pending pending = new Pending(what, write, new CompletableFuture<>());
    unsent.add(pending);
    unstored.add(pending.stored());
    pending.stored().thenRun(() -> forget(pending.stored()));
    return pending;
  }

  private synchronized void forget(CompletableFuture<Void> stored) {
    unstored.remove(stored);
  }

  /** Completes once everything recorded so far is stored (after retries, if Cassandra failed). */
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
    written.whenCompleteAsync((done, failure) -> written(pending, failure), executor);
  }

  private void written(Pending pending, Throwable failure) {
    long delayMs;
    synchronized (this) {
      if (failure == null) {
        retryMs = 0;
      } else {
        retryMs = retryMs == 0 ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, retryMs * 2);
      }
      delayMs = retryMs;
    }
    if (failure == null) {
      pending.stored().complete(null);
      return;
    }
    log.warn(
        "Room {}: could not store {} ({}); retrying in {} ms, the room goes on",
        roomId,
        pending.what(),
        failure.toString(),
        delayMs);
    scheduler.schedule(() -> executor.execute(() -> send(pending)), delayMs, TimeUnit.MILLISECONDS);
  }
}
