package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Watchability;
import io.watchparty.server.catalog.LicenceWindow;
import io.watchparty.server.catalog.TitleAvailability;
import io.watchparty.server.refusal.RefusedException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Whether each watcher's region may watch the room's title under its licence windows: the admission
 * check, the notices to watchers whose right changes (a member on each of their streams, a relayed
 * viewer through the relays that serve them), and the timer that wakes the room at the title's next
 * licence boundary. Guarded by the room lock. It never looks anything up: the room reads the
 * title's availability before it takes the lock (a read may reach Cassandra) and hands the reading
 * in.
 */
final class RoomLicence {
  /**
   * How often a room re-reads its title's availability even when no window boundary is due, so that
   * changes made on another server (seen here after the cache refresh interval) reach the members
   * within about this interval more.
   */
  static final long RECHECK_MS = 30_000;

  private final RoomContext room;
  private final InstantSource clock;

  /** Re-reads the availability (outside the lock) and hands it back to {@link #recheck}. */
  private final Runnable check;

  private TitleAvailability current;
  private RoomTimers.Timer timer;

  RoomLicence(RoomContext room, TitleAvailability current, InstantSource clock, Runnable check) {
    this.room = room;
    this.current = current;
    this.clock = clock;
    this.check = check;
  }

  /** The availability of the title playing now, as last read. */
  TitleAvailability current() {
    return current;
  }

  boolean canWatch(String region) {
    return current.canWatch(region, clock.instant());
  }

  /** Refuses a viewer whose region may not watch the title now. */
  void requireWatchable(String region) {
    if (!canWatch(region)) {
      throw new RefusedException(
          ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION,
          "the title playing in this room is not available in your region (" + region + ")",
          Map.of(
              "title_id",
              current.titleId(),
              "region",
              region,
              "room_id",
              room.roomId().toString()));
    }
  }

  /** How many watchers here could not watch a title of {@code availability} now. */
  long unableToWatch(TitleAvailability availability) {
    Instant now = clock.instant();
    return room.watchers().stream().filter(w -> !availability.canWatch(w.region, now)).count();
  }

  /**
   * Takes a reading a join or a query brought along. Nearly always it is the one held (the same
   * cached value): only a changed one is worth a pass over every watcher, which under the lock of a
   * large room made each join cost the whole room. Time passing is {@link #recheck}'s concern.
   */
  void absorb(TitleAvailability reading) {
    if (!reading.equals(current)) {
      recheck(reading);
    }
  }

  /**
   * Takes a fresh reading of the current title's windows, by the time now, and tells every watcher
   * whose right changed. A reading of a title no longer playing is dropped: the switch brought its
   * own.
   */
  void recheck(TitleAvailability reading) {
    if (reading.titleId().equals(room.titleId())) {
      update(reading, false, this::tell);
    }
  }

  /**
   * The room switched to a title of {@code availability}: every member who cannot watch it is told
   * so (relays check a switch for their viewers themselves, with the catalog), and the timer
   * follows the new title's windows. Returns how many watchers cannot watch it.
   */
  long switched(TitleAvailability availability) {
    long unable =
        update(
            availability,
            true,
            (watcher, notice) -> {
              if (watcher instanceof Member) {
                tell(watcher, notice);
              }
            });
    schedule();
    return unable;
  }

  private long update(
      TitleAvailability availability,
      boolean titleChanged,
      BiConsumer<Watcher, Watchability> tell) {
    current = availability;
    Instant now = clock.instant();
    long unable = 0;
    for (Watcher watcher : room.watchers()) {
      boolean can = availability.canWatch(watcher.region, now);
      if (!can) {
        unable++;
      }
      if (can != watcher.canWatch || (titleChanged && !can)) {
        watcher.canWatch = can;
        tell.accept(watcher, notice(watcher.region));
      }
    }
    return unable;
  }

  /**
   * Someone who just arrived: records whether they may watch now. Told only if they may not and
   * were not shown that ({@code shown}: a member's snapshot is computed here, so it is true; a
   * relay's viewer saw the relay's own, maybe older, answer), since every later change is told
   * against what is recorded here.
   */
  void arrived(Watcher watcher, boolean shown) {
    watcher.canWatch = canWatch(watcher.region);
    if (!watcher.canWatch && !shown) {
      tell(watcher, notice(watcher.region));
    }
  }

  /**
   * A stream that resumed from the event log: per-connection notices are not in it, so the one that
   * matters is restated.
   */
  void resumed(Subscriber stream, String region) {
    room.deliver(
        stream, ServerMessage.newBuilder().setWatchability(notice(region)).build().toByteArray());
  }

  private void tell(Watcher watcher, Watchability notice) {
    if (watcher instanceof Member member) {
      byte[] frame = ServerMessage.newBuilder().setWatchability(notice).build().toByteArray();
      member.connections.forEach(stream -> room.deliver(stream, frame));
    } else {
      room.tellRelays(
          watcher.userId,
          ServerMessage.newBuilder()
              .setWatchability(notice.toBuilder().setUserId(watcher.userId))
              .build()
              .toByteArray());
    }
  }

  private Watchability notice(String region) {
    Instant now = clock.instant();
    boolean can = current.canWatch(region, now);
    var watchability =
        Watchability.newBuilder().setTitleId(current.titleId()).setCanWatch(can).setRegion(region);
    if (!can) {
      watchability.setReason(ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION.name());
      current
          .window(region)
          .flatMap(LicenceWindow::from)
          .filter(from -> from.isAfter(now))
          .ifPresent(from -> watchability.setAvailableFromMs(from.toEpochMilli()));
    }
    return watchability.build();
  }

  /** Starts the licence timer with the room's first viewer; it then runs until {@link #cancel}. */
  void watch() {
    if (timer == null) {
      schedule();
    }
  }

  /**
   * Runs the check at the title's next licence boundary, or after {@link #RECHECK_MS} if that comes
   * first; replaces the previous timer.
   */
  void schedule() {
    cancel();
    Instant now = clock.instant();
    long delay =
        current
            .nextChangeAfter(now)
            .map(boundary -> Math.min(RECHECK_MS, Duration.between(now, boundary).toMillis() + 1))
            .orElse(RECHECK_MS);
    timer = room.schedule(check, delay);
  }

  void cancel() {
    if (timer != null) {
      timer.cancel();
      timer = null;
    }
  }
}
