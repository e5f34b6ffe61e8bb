package io.watchparty.server.room;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.watchparty.proto.Backoff;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.Failures;
import io.watchparty.server.refusal.RefusedException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one room's changes behind it (the rule in {@code room.proto}: a command is applied and
 * announced at once, and Cassandra follows), as the room's owner of one epoch ({@link RoomOwner}).
 *
 * <p>Writes go one after another: what the room recorded while a write was out is sent together
 * once it is stored, so storage applies the room's changes in the order they happened (the room's
 * own row is written under a condition on the owner's epoch, which rules out write timestamps of
 * our own). Changes are still stamped with increasing timestamps under the room lock, which the
 * writes outside the room's row use. A write that failed is retried with the room's backoff ({@link
 * RoomConfig#writeRetry}) on the room's timers, before anything recorded after it: it is tried at
 * most {@link RoomConfig#writeAttempts} times, and only once when the store says no retry can mend
 * its failure; then it fails for good, logged as an error, whoever waits for it is told, and the
 * writes after it go on. While writes wait, only the newest playback state is kept, since each one
 * replaces the last.
 *
 * <p>A write refused because another instance owns the room now ({@link RoomMoved}) ends the
 * writer: every write waiting fails with {@code ROOM_MOVED}, and the room is told to let go.
 * Completions run on {@code executor}, never on the storage driver's I/O threads. Thread-safe.
 */
final class RoomWriter {
  private static final Logger log = LoggerFactory.getLogger(RoomWriter.class);

  /**
   * A change of the room's, or another write of the room's (its chat's moderation), and when it is
   * stored.
   */
  private record Pending(
      String what,
      Optional<RoomChange> change,
      Optional<Supplier<CompletionStage<?>>> write,
      CompletableFuture<Void> stored) {}

  /** Pending writes sent together, and how many times they were tried. */
  private record Batch(List<Pending> pending, int tries) {
    Batch tried() {
      return new Batch(pending, tries + 1);
    }

    String what() {
      return pending.size() == 1
          ? pending.getFirst().what()
          : pending.size() + " changes (" + pending.getFirst().what() + ", ...)";
    }
  }

  private final UUID roomId;
  private final RoomStore store;
  private final long epoch;
  private final InstantSource clock;
  private final RoomTimers timers;
  private final Executor executor;
  private final Backoff retry;
  private final int attempts;
  private final Consumer<RoomOwner> moved;

  @GuardedBy("this")
  private long lastWriteMicros;

  /** Recorded under the room lock, not yet handed to {@link #flush}. */
  @GuardedBy("this")
  private final List<Pending> unsent = new ArrayList<>();

  /** Flushed, waiting for the write out to be stored. */
  @GuardedBy("this")
  private final List<Pending> queued = new ArrayList<>();

  /** Whether a write is out (sent, or waiting to be retried). */
  @GuardedBy("this")
  private boolean writing;

  @GuardedBy("this")
  private final List<CompletableFuture<Void>> unstored = new ArrayList<>();

  @GuardedBy("this")
  private Pending unsentPlayback;

  /** Set once storage said another instance owns the room: nothing is written any more. */
  @GuardedBy("this")
  private RoomOwner movedTo;

  @GuardedBy("this")
  private boolean stopping;

  /**
   * @param epoch the epoch of this instance's ownership of the room
   * @param moved told once, on the executor, when storage refuses a write for a newer owner
   */
  RoomWriter(
      UUID roomId,
      RoomStore store,
      long epoch,
      long createdAtMs,
      InstantSource clock,
      RoomTimers timers,
      Executor executor,
      RoomConfig config,
      Consumer<RoomOwner> moved) {
    this.roomId = roomId;
    this.store = store;
    this.epoch = epoch;
    this.clock = clock;
    this.timers = timers;
    this.executor = executor;
    this.retry = config.writeRetry();
    this.attempts = config.writeAttempts();
    this.moved = moved;
    // The room was stored at its creation time: every later write must be newer.
    this.lastWriteMicros = createdAtMs * 1000;
  }

  /** Records a change, stamped with the room's next write timestamp. Under the room lock. */
  synchronized void add(LongFunction<RoomChange> change) {
    lastWriteMicros = Math.max(lastWriteMicros + 1, clock.millis() * 1000);
    RoomChange stamped = change.apply(lastWriteMicros);
    Pending pending =
        record(
            new Pending(
                stamped.getClass().getSimpleName(),
                Optional.of(stamped),
                Optional.empty(),
                new CompletableFuture<>()));
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
   * Records another write of the room's state (its chat's moderation), sent and retried with the
   * room's own, after the room's row; it must be idempotent (timestamped). Under the room lock.
   */
  synchronized void addWrite(String what, Supplier<CompletionStage<?>> write) {
    record(new Pending(what, Optional.empty(), Optional.of(write), new CompletableFuture<>()));
  }

  @GuardedBy("this")
  private Pending record(Pending pending) {
    if (movedTo != null) {
      pending.stored().completeExceptionally(movedTo.movedHere(roomId));
      return pending;
    }
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

  /** Sends what was recorded, once the write out is stored; called after the room lock. */
  void flush() {
    synchronized (this) {
      queued.addAll(unsent);
      unsent.clear();
      unsentPlayback = null;
    }
    sendNext();
  }

  /** Whether every recorded change is stored (a room retires only then). */
  synchronized boolean idle() {
    return unstored.isEmpty() && unsent.isEmpty() && queued.isEmpty() && !writing;
  }

  /** Sends everything queued as one write, unless a write is out already. */
  private void sendNext() {
    Batch batch;
    synchronized (this) {
      if (writing || queued.isEmpty()) {
        return;
      }
      writing = true;
      batch = new Batch(List.copyOf(queued), 0);
      queued.clear();
    }
    send(batch);
  }

  private void send(Batch batch) {
    CompletionStage<?> written;
    try {
      written = write(batch.pending());
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    written.whenCompleteAsync((done, failure) -> written(batch.tried(), failure), executor);
  }

  /** The room's changes (its row under the owner's epoch), then its other writes. */
  private CompletionStage<?> write(List<Pending> pending) {
    List<RoomChange> changes = pending.stream().flatMap(p -> p.change().stream()).toList();
    CompletionStage<Void> room =
        changes.isEmpty()
            ? CompletableFuture.completedFuture(null)
            : store.apply(roomId, epoch, changes);
    return room.thenCompose(
        stored ->
            CompletableFuture.allOf(
                pending.stream()
                    .flatMap(p -> p.write().stream())
                    .map(w -> w.get().toCompletableFuture())
                    .toArray(CompletableFuture[]::new)));
  }

  private void written(Batch batch, Throwable completion) {
    if (completion == null) {
      batch.pending().forEach(p -> p.stored().complete(null));
      wrote();
      return;
    }
    Throwable failure = Failures.unwrap(completion);
    if (failure instanceof RoomMoved refused) {
      letGo(Optional.of(batch), refused.owner());
      return;
    }
    if (!store.mayRetry(failure) || batch.tries() >= attempts) {
      log.error(
          "Room {}: could not store {} after {} attempt(s) ({}); giving it up, the room goes on",
          roomId,
          batch.what(),
          batch.tries(),
          failure.toString());
      RefusedException unstored =
          new RefusedException(
              ErrorReason.STORAGE_UNAVAILABLE,
              "the change could not be stored; the room goes on without it in storage");
      batch.pending().forEach(p -> p.stored().completeExceptionally(unstored));
      wrote();
      return;
    }
    long delayMs = retry.delayMs(batch.tries() - 1);
    log.warn(
        "Room {}: could not store {} ({}); retrying in {} ms (attempt {} of {}), the room goes on",
        roomId,
        batch.what(),
        failure.toString(),
        delayMs,
        batch.tries() + 1,
        attempts);
    timers.schedule(() -> send(batch), delayMs);
  }

  /** The write out is settled: the next one may go. */
  private void wrote() {
    synchronized (this) {
      writing = false;
    }
    sendNext();
  }

  /**
   * Refuses a change once another instance owns the room (the client goes there), or while the room
   * is being handed to another instance ({@link #stopTaking}).
   */
  synchronized void requireOwned() {
    if (movedTo != null) {
      throw movedTo.movedHere(roomId);
    }
    if (stopping) {
      throw new RefusedException(
          ErrorReason.SERVER_SHUTTING_DOWN,
          "the server is handing this room to another instance; reconnect");
    }
  }

  /** Refuses every change from now on: the room is handed to another instance once stored. */
  synchronized void stopTaking() {
    stopping = true;
  }

  /** The epoch of this instance's ownership, under which every write is made. */
  long epoch() {
    return epoch;
  }

  /**
   * Another instance owns the room, as a write outside this writer (the chat's) found: nothing more
   * is written, and the room is told (once). A write of this writer still out settles as storage
   * answers it.
   */
  void lostTo(RoomOwner owner) {
    letGo(Optional.empty(), owner);
  }

  /**
   * Another instance owns the room ({@code refused} the write out, if storage refused it): nothing
   * more is written, what waits fails with {@code ROOM_MOVED}, and the room is told, once.
   */
  private void letGo(Optional<Batch> refused, RoomOwner owner) {
    List<Pending> dropped = new ArrayList<>(refused.map(Batch::pending).orElse(List.of()));
    boolean first;
    RoomOwner owns;
    synchronized (this) {
      first = movedTo == null;
      if (first) {
        movedTo = owner;
      }
      owns = movedTo;
      dropped.addAll(queued);
      dropped.addAll(unsent);
      queued.clear();
      unsent.clear();
      unsentPlayback = null;
      if (refused.isPresent()) {
        writing = false;
      }
    }
    RefusedException refusal = owns.movedHere(roomId);
    dropped.forEach(p -> p.stored().completeExceptionally(refusal));
    if (first) {
      log.info(
          "Room {}: instance {} owns it now (epoch {}, ours was {}); letting it go",
          roomId,
          owner.instanceId(),
          owner.epoch(),
          epoch);
      moved.accept(owner);
    }
  }
}
