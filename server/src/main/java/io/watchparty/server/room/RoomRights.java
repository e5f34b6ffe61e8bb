package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Watchability;
import io.watchparty.server.RefusedException;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.LicenceWindow;
import io.watchparty.server.catalog.TitleAvailability;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Who in one room may watch its current title, by the availability matrix: the admission check, the
 * notices to members whose right changes, and the timer that wakes the room at the title's next
 * licence boundary. Guarded by the room's lock, like the room; lookups under the lock find the
 * title in the cache because the room {@linkplain #warm warms} it just before.
 */
final class RoomRights {
  /**
   * How often a room re-reads its title's availability even when no window boundary is due, so that
   * changes made on another server (seen here after the cache refresh interval) reach the members
   * within about this interval more.
   */
  static final long RECHECK_MS = 30_000;

  private final UUID roomId;
  private final AvailabilityMatrix availability;
  private final InstantSource clock;
  private final ScheduledExecutorService timers;
  private ScheduledFuture<?> timer;

  RoomRights(
      UUID roomId,
      AvailabilityMatrix availability,
      InstantSource clock,
      ScheduledExecutorService timers) {
    this.roomId = roomId;
    this.availability = availability;
    this.clock = clock;
    this.timers = timers;
  }

  /** Loads a title's availability into the cache: outside the room lock, as it may read storage. */
  TitleAvailability warm(String titleId) {
    return availability.of(titleId);
  }

  boolean canWatch(String titleId, String region) {
    return availability.canWatch(titleId, region, clock.instant());
  }

  /** Refuses a viewer whose region may not watch the title now. */
  void requireWatchable(String titleId, String region) {
    if (!canWatch(titleId, region)) {
      throw new RefusedException(
          ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION,
          "the title playing in this room is not available in your region (" + region + ")",
          Map.of("title_id", titleId, "region", region, "room_id", roomId.toString()));
    }
  }

  /** How many of {@code members} cannot watch {@code titleId} now. */
  long unableToWatch(String titleId, Collection<Member> members) {
    TitleAvailability rights = availability.of(titleId);
    Instant now = clock.instant();
    return members.stream().filter(m -> !rights.canWatch(m.region, now)).count();
  }

  /**
   * Tells members whose right to watch {@code titleId} changed (after a title change: every member
   * who cannot watch it), through {@code tell}. Returns how many members cannot watch it.
   */
  long reevaluate(
      String titleId,
      Collection<Member> members,
      boolean titleChanged,
      BiConsumer<Member, byte[]> tell) {
    TitleAvailability rights = availability.of(titleId);
    Instant now = clock.instant();
    long unable = 0;
    for (Member member : members) {
      boolean can = rights.canWatch(member.region, now);
      if (!can) {
        unable++;
      }
      if (can != member.canWatch || (titleChanged && !can)) {
        member.canWatch = can;
        tell.accept(member, frame(rights, member.region, now));
      }
    }
    return unable;
  }

  /** The per-connection Watchability notice for a viewer of {@code region}. */
  byte[] frame(String titleId, String region) {
    return frame(availability.of(titleId), region, clock.instant());
  }

  private static byte[] frame(TitleAvailability rights, String region, Instant now) {
    boolean can = rights.canWatch(region, now);
    var watchability =
        Watchability.newBuilder().setTitleId(rights.titleId()).setCanWatch(can).setRegion(region);
    if (!can) {
      watchability.setReason(ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION.name());
      rights
          .window(region)
          .flatMap(LicenceWindow::from)
          .filter(from -> from.isAfter(now))
          .ifPresent(from -> watchability.setAvailableFromMs(from.toEpochMilli()));
    }
    return ServerMessage.newBuilder().setWatchability(watchability).build().toByteArray();
  }

  /**
   * Runs {@code check} at the title's next licence boundary, or after {@link #RECHECK_MS} if that
   * comes first; replaces the previous timer.
   */
  void schedule(String titleId, Runnable check) {
    cancel();
    Instant now = clock.instant();
    long delay =
        availability
            .of(titleId)
            .nextChangeAfter(now)
            .map(boundary -> Math.min(RECHECK_MS, Duration.between(now, boundary).toMillis() + 1))
            .orElse(RECHECK_MS);
    timer = timers.schedule(check, delay, TimeUnit.MILLISECONDS);
  }

  boolean scheduled() {
    return timer != null;
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
