package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.servererrors.QueryValidationException;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.refusal.Failures;
import io.watchparty.server.room.Instances;
import io.watchparty.server.room.Playback;
import io.watchparty.server.room.RoomChange;
import io.watchparty.server.room.RoomMoved;
import io.watchparty.server.room.RoomOwner;
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
 * playback columns replaced), never a whole-row rewrite, so no nulls or collection tombstones are
 * written.
 *
 * <p>A room's row is written only under its owner's epoch: its creation is an insert if not exists
 * (epoch 1), a claim a lightweight transaction on the epoch read, and a room's changes one
 * single-partition batch conditional on the epoch ({@code IF owner_epoch = ?}), so an instance that
 * lost the room cannot change it. A conditional batch cannot span partitions: the rows that depend
 * on the room's (memberships in {@code rooms_by_user}, the directory's {@code public_rooms}) are
 * written after the room's batch was applied, with the room's write timestamps. A former owner can
 * therefore still land such a row if it was fenced between the two; the new owner's later writes
 * carry later timestamps and win.
 */
public final class CassandraRoomStore implements RoomStore {
  /** The directory lives in one partition: enough for tens of thousands of public rooms. */
  private static final int DIRECTORY_SHARD = 0;

  private final CqlSession session;
  private final RoomOwners owners;
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
  private final PreparedStatement claimRoom;
  private final PreparedStatement claimUnowned;
  private final PreparedStatement fence;
  private final PreparedStatement listPublic;
  private final PreparedStatement insertPublic;
  private final PreparedStatement deletePublic;
  private final PreparedStatement insertMembership;
  private final PreparedStatement deleteMembership;
  private final PreparedStatement listMemberships;
  private final PreparedStatement selectMembership;
  private final PreparedStatement insertAudience;
  private final PreparedStatement selectAudience;

  public CassandraRoomStore(CqlSession session) {
    this.session = session;
    this.owners = new RoomOwners(session);
    insertRoom =
        session.prepare(
            "INSERT INTO rooms (room_id, name, visibility, host_leave_policy, slow_mode_ms,"
                + " wait_for_buffering, host_user_id, host_display_name, invite_token, title_id,"
                + " duration_ms, playing, position_ms, effective_at_ms, rate, sequence, closed,"
                + " created_at_ms, owner_id, owner_address, owner_epoch)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?)"
                + " IF NOT EXISTS");
    selectRoom =
        session.prepare(
            "SELECT room_id, name, visibility, host_leave_policy, slow_mode_ms, wait_for_buffering,"
                + " host_user_id, host_display_name, invite_token, cohosts, banned, title_id,"
                + " duration_ms, playing, position_ms, effective_at_ms, rate, sequence, closed,"
                + " created_at_ms, owner_id, owner_address, owner_epoch FROM rooms WHERE room_id = ?");
    claimRoom =
        session.prepare(
            "UPDATE rooms SET owner_id = ?, owner_address = ?, owner_epoch = ? WHERE room_id = ?"
                + " IF owner_epoch = ?");
    claimUnowned =
        session.prepare(
            "UPDATE rooms SET owner_id = ?, owner_address = ?, owner_epoch = ? WHERE room_id = ?"
                + " IF owner_epoch = null");
    // The condition of a room's batch: it rewrites the epoch it checks.
    fence =
        session.prepare("UPDATE rooms SET owner_epoch = ? WHERE room_id = ? IF owner_epoch = ?");
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
    insertAudience =
        session.prepare(
            "INSERT INTO room_audience (room_id, owner_epoch, member_count) VALUES (?, ?, ?)");
    selectAudience =
        session.prepare("SELECT owner_epoch, member_count FROM room_audience WHERE room_id = ?");
  }

  /**
   * Stores a new room owned by {@code room.owner()} (and lists it, if public). Completes once
   * Cassandra has it. The rows outside the room's own are written at the room's creation time, the
   * first of the room's write timestamps (see {@code RoomWriter}), so no later change can be older
   * than its creation and be shadowed by it.
   */
  @Override
  public CompletionStage<Void> create(RoomRecord room) {
    Playback p = room.playback();
    RoomOwner owner = room.owner().orElseThrow(() -> new IllegalArgumentException("no owner"));
    long createdMicros = room.createdAtMs() * 1000;
    CompletionStage<AsyncResultSet> insert =
        session
            .executeAsync(
                insertRoom.bind(
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
                    room.createdAtMs(),
                    owner.instanceId(),
                    owner.address(),
                    owner.epoch()))
            .thenCompose(
                rs -> {
                  if (!rs.wasApplied()) {
                    throw new IllegalStateException("room id " + room.roomId() + " is taken");
                  }
                  return
                  // The host is in the party they made ("your parties").
                  session.executeAsync(
                      insertMembership
                          .bind(room.hostUserId(), room.roomId(), room.createdAtMs())
                          .setQueryTimestamp(createdMicros));
                });
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
            row.getLong("created_at_ms"),
            RoomOwners.of(row)));
  }

  @Override
  public CompletionStage<RoomOwner> claim(
      UUID roomId, Instances.Instance claimant, long readEpoch) {
    long epoch = readEpoch + 1;
    BoundStatement claim =
        readEpoch == 0
            ? claimUnowned.bind(claimant.id(), claimant.address(), epoch, roomId)
            : claimRoom.bind(claimant.id(), claimant.address(), epoch, roomId, readEpoch);
    return session
        .executeAsync(claim)
        .thenCompose(
            rs ->
                rs.wasApplied()
                    ? CompletableFuture.completedFuture(
                        new RoomOwner(claimant.id(), claimant.address(), epoch))
                    // Not applied: another claim won.
                    : owners.current(roomId));
  }

  @Override
  public CompletionStage<Optional<RoomOwner>> owner(UUID roomId) {
    return owners.find(roomId);
  }

  @Override
  public CompletionStage<Void> recordAudience(UUID roomId, long epoch, long members) {
    return session.executeAsync(insertAudience.bind(roomId, epoch, members)).thenApply(rs -> null);
  }

  @Override
  public CompletionStage<Optional<Audience>> audience(UUID roomId) {
    return session
        .executeAsync(selectAudience.bind(roomId))
        .thenApply(
            rs ->
                Optional.ofNullable(rs.one())
                    .map(row -> new Audience(row.getLong(0), row.getLong(1))));
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

  /** The writes of the room's own row a change makes (in the room's conditional batch). */
  private List<BoundStatement> roomRow(UUID roomId, RoomChange change) {
    return switch (change) {
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
      case RoomChange.InviteSet(String token, long at) -> List.of(updateInvite.bind(token, roomId));
      case RoomChange.Closed(long at) -> List.of(markClosed.bind(roomId));
      case RoomChange.MembershipSet m -> List.of();
    };
  }

  /** The writes of other partitions a change makes, stamped with its write time. */
  private List<BoundStatement> dependents(UUID roomId, RoomChange change) {
    List<BoundStatement> writes =
        switch (change) {
          case RoomChange.MembershipSet(String userId, boolean member, long since, long at) ->
              List.of(
                  member
                      ? insertMembership.bind(userId, roomId, since)
                      : deleteMembership.bind(userId, roomId));
          case RoomChange.Closed(long at) -> List.of(deletePublic.bind(DIRECTORY_SHARD, roomId));
          case RoomChange.PlaybackSaved p -> List.of();
          case RoomChange.CohostSet c -> List.of();
          case RoomChange.BanSet b -> List.of();
          case RoomChange.HostSet h -> List.of();
          case RoomChange.InviteSet i -> List.of();
        };
    return writes.stream().map(w -> w.setQueryTimestamp(change.writeMicros())).toList();
  }

  /**
   * Writes a room's changes: first its own row, in one batch conditional on {@code epoch} (fails
   * with {@link RoomMoved} when another instance claimed the room since), then the rows that depend
   * on it, concurrently. Completes when all are stored. The room sends its writes one after another
   * ({@code RoomWriter}), so they are stored in the order they were made; a batch tried again after
   * a timeout sets the same values again.
   */
  @Override
  public CompletionStage<Void> apply(UUID roomId, long epoch, List<RoomChange> changes) {
    List<BoundStatement> row =
        changes.stream().flatMap(change -> roomRow(roomId, change).stream()).toList();
    // A change with no write of the room's row (a membership) still goes only while it is ours.
    BatchStatement batch =
        BatchStatement.newInstance(BatchType.UNLOGGED)
            .add(fence.bind(epoch, roomId, epoch))
            .addAll(row);
    CompletableFuture<Void> all =
        session
            .executeAsync(batch)
            .thenCompose(rs -> applied(roomId, rs))
            .thenCompose(
                stored ->
                    CompletableFuture.allOf(
                        changes.stream()
                            .flatMap(change -> dependents(roomId, change).stream())
                            .map(w -> session.executeAsync(w).toCompletableFuture())
                            .toArray(CompletableFuture[]::new)))
            .toCompletableFuture();
    inFlight.add(all);
    all.whenComplete((v, failure) -> inFlight.remove(all));
    return all;
  }

  /**
   * Done if the room's batch was applied; else fails with the owner that claimed the room since.
   */
  private CompletionStage<Void> applied(UUID roomId, AsyncResultSet rs) {
    if (rs.wasApplied()) {
      return CompletableFuture.completedFuture(null);
    }
    return owners.moved(roomId);
  }

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

  /**
   * Waits until the writes in flight are answered (stored or failed), for at most {@code timeout}:
   * playback changes are persisted in the background, and a stopping server should not drop the
   * last ones. False if some were still pending.
   */
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
