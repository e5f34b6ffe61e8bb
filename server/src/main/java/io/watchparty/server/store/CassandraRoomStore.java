package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.servererrors.QueryValidationException;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.refusal.Failures;
import io.watchparty.server.room.Playback;
import io.watchparty.server.room.RoomChange;
import io.watchparty.server.room.RoomRecord;
import io.watchparty.server.room.RoomStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Rooms in Cassandra. Every change is a targeted write (a set element added or removed, the
 * playback columns replaced), never a whole-row rewrite, so concurrent changes do not undo each
 * other and no nulls or collection tombstones are written.
 */
public final class CassandraRoomStore implements RoomStore {
  /** The directory lives in one partition: enough for tens of thousands of public rooms. */
  private static final int DIRECTORY_SHARD = 0;

  private final CqlSession session;
  private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
  private final PreparedStatement insertRoom;
  private final PreparedStatement selectRoom;
  private final PreparedStatement updatePlayback;
  private final PreparedStatement addCohost;
  private final PreparedStatement removeCohost;
  private final PreparedStatement addBan;
  private final PreparedStatement removeBan;
  private final PreparedStatement updateHost;
  private final PreparedStatement updateInvite;
  private final PreparedStatement markClosed;
  private final PreparedStatement listPublic;
  private final PreparedStatement insertPublic;
  private final PreparedStatement deletePublic;
  private final PreparedStatement insertMembership;
  private final PreparedStatement deleteMembership;
  private final PreparedStatement listMemberships;
  private final PreparedStatement selectMembership;

  public CassandraRoomStore(CqlSession session) {
    this.session = session;
    insertRoom =
        session.prepare(
            "INSERT INTO rooms (room_id, name, visibility, host_leave_policy, slow_mode_ms,"
                + " wait_for_buffering, host_user_id, host_display_name, invite_token, title_id,"
                + " duration_ms, playing, position_ms, effective_at_ms, rate, sequence, closed,"
                + " created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?)");
    selectRoom =
        session.prepare(
            "SELECT room_id, name, visibility, host_leave_policy, slow_mode_ms, wait_for_buffering,"
                + " host_user_id, host_display_name, invite_token, cohosts, banned, title_id,"
                + " duration_ms, playing, position_ms, effective_at_ms, rate, sequence, closed,"
                + " created_at_ms FROM rooms WHERE room_id = ?");
    updatePlayback =
        session.prepare(
            "UPDATE rooms SET title_id = ?, duration_ms = ?, playing = ?, position_ms = ?,"
                + " effective_at_ms = ?, rate = ?, sequence = ? WHERE room_id = ?");
    addCohost = session.prepare("UPDATE rooms SET cohosts = cohosts + ? WHERE room_id = ?");
    removeCohost = session.prepare("UPDATE rooms SET cohosts = cohosts - ? WHERE room_id = ?");
    addBan = session.prepare("UPDATE rooms SET banned = banned + ? WHERE room_id = ?");
    removeBan = session.prepare("UPDATE rooms SET banned = banned - ? WHERE room_id = ?");
    updateHost =
        session.prepare(
            "UPDATE rooms SET host_user_id = ?, host_display_name = ? WHERE room_id = ?");
    updateInvite = session.prepare("UPDATE rooms SET invite_token = ? WHERE room_id = ?");
    markClosed = session.prepare("UPDATE rooms SET closed = true WHERE room_id = ?");
    listPublic = session.prepare("SELECT room_id FROM public_rooms WHERE shard = ?");
    insertPublic = session.prepare("INSERT INTO public_rooms (shard, room_id) VALUES (?, ?)");
    deletePublic = session.prepare("DELETE FROM public_rooms WHERE shard = ? AND room_id = ?");
    insertMembership =
        session.prepare("INSERT INTO rooms_by_user (user_id, room_id, since_ms) VALUES (?, ?, ?)");
    deleteMembership =
        session.prepare("DELETE FROM rooms_by_user WHERE user_id = ? AND room_id = ?");
    listMemberships = session.prepare("SELECT room_id FROM rooms_by_user WHERE user_id = ?");
    selectMembership =
        session.prepare("SELECT since_ms FROM rooms_by_user WHERE user_id = ? AND room_id = ?");
  }

  /**
   * Stores a new room (and lists it, if public). Completes once Cassandra has it. Written at the
   * room's creation time, the first of the room's write timestamps (see {@code Room}), so no later
   * change of the room can be older than its creation and be shadowed by it.
   */
  @Override
  public CompletionStage<Void> create(RoomRecord room) {
    Playback p = room.playback();
    long createdMicros = room.createdAtMs() * 1000;
    CompletionStage<AsyncResultSet> insert =
        session
            .executeAsync(
                insertRoom
                    .bind(
                        room.roomId(),
                        room.name(),
                        room.settings().getVisibility().name(),
                        room.settings().getHostLeavePolicy().name(),
                        room.settings().getSlowModeMs(),
                        room.settings().getWaitForBuffering(),
                        room.hostUserId(),
                        room.hostDisplayName(),
                        room.inviteToken().orElse(""),
                        p.titleId(),
                        p.durationMs(),
                        p.playing(),
                        p.positionMs(),
                        p.effectiveAtMs(),
                        p.rate(),
                        p.sequence(),
                        room.createdAtMs())
                    .setQueryTimestamp(createdMicros))
            .thenCompose(
                rs ->
                    // The host is in the party they made ("your parties").
                    session.executeAsync(
                        insertMembership
                            .bind(room.hostUserId(), room.roomId(), room.createdAtMs())
                            .setQueryTimestamp(createdMicros)));
    if (room.settings().getVisibility() != Visibility.PUBLIC) {
      return insert.thenApply(rs -> null);
    }
    return insert
        .thenCompose(
            rs ->
                session.executeAsync(
                    insertPublic
                        .bind(DIRECTORY_SHARD, room.roomId())
                        .setQueryTimestamp(createdMicros)))
        .thenApply(rs -> null);
  }

  @Override
  public CompletionStage<Optional<RoomRecord>> find(UUID roomId) {
    return session.executeAsync(selectRoom.bind(roomId)).thenApply(rs -> record(roomId, rs.one()));
  }

  private static Optional<RoomRecord> record(UUID roomId, Row row) {
    if (row == null) {
      return Optional.empty();
    }
    RoomSettings settings =
        RoomSettings.newBuilder()
            .setVisibility(Visibility.valueOf(row.getString("visibility")))
            .setHostLeavePolicy(HostLeavePolicy.valueOf(row.getString("host_leave_policy")))
            .setSlowModeMs(row.getLong("slow_mode_ms"))
            .setWaitForBuffering(row.getBoolean("wait_for_buffering"))
            .build();
    String invite = row.getString("invite_token");
    return Optional.of(
        new RoomRecord(
            roomId,
            row.getString("name"),
            settings,
            row.getString("host_user_id"),
            row.getString("host_display_name"),
            invite == null || invite.isEmpty() ? Optional.empty() : Optional.of(invite),
            row.getSet("cohosts", String.class),
            row.getSet("banned", String.class),
            new Playback(
                row.getString("title_id"),
                row.getLong("duration_ms"),
                row.getBoolean("playing"),
                row.getLong("position_ms"),
                row.getLong("effective_at_ms"),
                row.getDouble("rate"),
                row.getLong("sequence")),
            row.getBoolean("closed"),
            row.getLong("created_at_ms")));
  }

  @Override
  public CompletionStage<List<UUID>> publicRoomIds() {
    List<UUID> ids = new ArrayList<>();
    return EveryRow.of(
            session.executeAsync(listPublic.bind(DIRECTORY_SHARD)),
            row -> ids.add(row.getUuid("room_id")))
        .thenApply(done -> ids);
  }

  @Override
  public CompletionStage<Boolean> isPartyMember(UUID roomId, String userId) {
    return session
        .executeAsync(selectMembership.bind(userId, roomId))
        .thenApply(rs -> rs.one() != null);
  }

  @Override
  public CompletionStage<List<UUID>> roomIdsOf(String userId) {
    // A user is in a handful of parties: one page holds them.
    return session
        .executeAsync(listMemberships.bind(userId))
        .thenApply(
            rs -> {
              List<UUID> ids = new ArrayList<>();
              rs.currentPage().forEach(row -> ids.add(row.getUuid("room_id")));
              return ids;
            });
  }

  private List<BoundStatement> statements(UUID roomId, RoomChange change) {
    List<BoundStatement> writes =
        switch (change) {
          case RoomChange.PlaybackSaved(Playback p, long at) ->
              List.of(
                  updatePlayback.bind(
                      p.titleId(),
                      p.durationMs(),
                      p.playing(),
                      p.positionMs(),
                      p.effectiveAtMs(),
                      p.rate(),
                      p.sequence(),
                      roomId));
          case RoomChange.CohostSet(String userId, boolean cohost, long at) ->
              List.of((cohost ? addCohost : removeCohost).bind(Set.of(userId), roomId));
          case RoomChange.BanSet(String userId, boolean banned, long at) ->
              List.of((banned ? addBan : removeBan).bind(Set.of(userId), roomId));
          case RoomChange.HostSet(String userId, String displayName, long at) ->
              List.of(updateHost.bind(userId, displayName, roomId));
          case RoomChange.InviteSet(String token, long at) ->
              List.of(updateInvite.bind(token, roomId));
          case RoomChange.MembershipSet(String userId, boolean member, long since, long at) ->
              List.of(
                  member
                      ? insertMembership.bind(userId, roomId, since)
                      : deleteMembership.bind(userId, roomId));
          case RoomChange.Closed(long at) ->
              List.of(markClosed.bind(roomId), deletePublic.bind(DIRECTORY_SHARD, roomId));
        };
    return writes.stream().map(w -> w.setQueryTimestamp(change.writeMicros())).toList();
  }

  /**
   * Writes a room's changes. Each carries the write timestamp its room gave it when the change
   * happened, so their order in Cassandra is the order of the changes, whatever order they arrive
   * in. Completes when all are stored.
   */
  @Override
  public CompletionStage<Void> apply(UUID roomId, List<RoomChange> changes) {
    CompletableFuture<?>[] futures =
        changes.stream()
            .flatMap(change -> statements(roomId, change).stream())
            .map(w -> session.executeAsync(w).toCompletableFuture())
            .toArray(CompletableFuture[]::new);
    CompletableFuture<Void> all = CompletableFuture.allOf(futures);
    inFlight.add(all);
    all.whenComplete((v, failure) -> inFlight.remove(all));
    return all;
  }

  /**
   * Waits until the writes in flight are answered (stored or failed), for at most {@code timeout}:
   * playback changes are persisted in the background, and a stopping server should not drop the
   * last ones. False if some were still pending.
   */
  /**
   * The driver's own failures (no node reachable, timeouts, a closed connection) pass; a query the
   * node refuses as invalid, and anything that is not the driver's (a value that cannot be bound),
   * would fail the same way again.
   */
  @Override
  public boolean mayRetry(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    return cause instanceof DriverException && !(cause instanceof QueryValidationException);
  }

  @Override
  public boolean awaitWrites(Duration timeout) {
    try {
      CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new))
          .exceptionally(failure -> null) // failures were logged where the writes were made
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("unreachable: failures are absorbed", e);
    }
  }
}
