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
import java.util.Collection;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * Whether each member's region may watch the room's title under its licence windows: the admission
 * check, the notices to members whose right changes, and the timer that wakes the room at the
 * title's next licence boundary. Guarded by the room lock. It never looks anything up: the room
 * reads the title's availability before it takes the lock (a read may reach Cassandra) and hands
 * the value in.
 */
final class RoomLicence {
  /**
   * How often a room re-reads its title's availability even when no window boundary is due, so that
   * changes made on another server (seen here after the cache refresh interval) reach the members
   * within about this interval more.
   */
  static final long RECHECK_MS = 30_000;

  private final UUID roomId;
  private final InstantSource clock;
  private final RoomTimers timers;
  private TitleAvailability current;
  private RoomTimers.Timer timer;

  RoomLicence(UUID roomId, TitleAvailability current, InstantSource clock, RoomTimers timers) {
    this.roomId = roomId;
    this.current = current;
    this.clock = clock;
    this.timers = timers;
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
          Map.of("title_id", current.titleId(), "region", region, "room_id", roomId.toString()));
    }
  }

  /** How many viewers of {@code regions} could not watch a title of {@code availability} now. */
  long unableToWatch(TitleAvailability availability, Collection<String> regions) {
    Instant now = clock.instant();
    return regions.stream().filter(region -> !availability.canWatch(region, now)).count();
  }

  /**
   * Takes a newer reading (or a new title's availability) and tells members whose right to watch
   * changed (after a title change: every member who cannot watch it), through {@code tell}. Returns
   * how many members cannot watch.
   */
  long update(
      TitleAvailability availability,
      Collection<? extends Watcher> watchers,
      boolean titleChanged,
      BiConsumer<Watcher, Watchability> tell) {
    current = availability;
    Instant now = clock.instant();
    long unable = 0;
    for (Watcher watcher : watchers) {
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
  void arrived(Watcher watcher, boolean shown, BiConsumer<Watcher, Watchability> tell) {
    watcher.canWatch = canWatch(watcher.region);
    if (!watcher.canWatch && !shown) {
      tell.accept(watcher, notice(watcher.region));
    }
  }

  /** The per-connection Watchability notice for a viewer of {@code region}. */
  byte[] frame(String region) {
    return ServerMessage.newBuilder().setWatchability(notice(region)).build().toByteArray();
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

  /**
   * Runs {@code check} at the title's next licence boundary, or after {@link #RECHECK_MS} if that
   * comes first; replaces the previous timer.
   */
  void schedule(Runnable check) {
    cancel();
    Instant now = clock.instant();
    long delay =
        current
            .nextChangeAfter(now)
            .map(boundary -> Math.min(RECHECK_MS, Duration.between(now, boundary).toMillis() + 1))
            .orElse(RECHECK_MS);
    timer = timers.schedule(check, delay);
  }

  boolean scheduled() {
    return timer != null;
  }

  void cancel() {
    if (timer != null) {
      timer.cancel();
      timer = null;
    }
  }
}
