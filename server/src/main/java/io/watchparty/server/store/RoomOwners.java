package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.watchparty.server.room.RoomMoved;
import io.watchparty.server.room.RoomOwner;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * Who owns a room, read from its row as Paxos settled it (a serial read, which first completes any
 * claim still in progress): after a conditional write was refused, to name the owner that refused
 * it; and before a write a conditional batch cannot fence, to confirm the writer still owns the
 * room (see {@code V008__chat_fenced.cql}).
 */
final class RoomOwners {
  private final CqlSession session;
  private final PreparedStatement select;

  RoomOwners(CqlSession session) {
    this.session = session;
    this.select =
        session.prepare("SELECT owner_id, owner_address, owner_epoch FROM rooms WHERE room_id = ?");
  }

  /**
   * The owner a row of {@code rooms} names, if it names one (rooms stored before owners do not).
   */
  static Optional<RoomOwner> of(Row row) {
    if (row.isNull("owner_epoch")) {
      return Optional.empty();
    }
    return Optional.of(
        new RoomOwner(
            row.getString("owner_id"), row.getString("owner_address"), row.getLong("owner_epoch")));
  }

  /** The room's owner now, if it has one. */
  CompletionStage<Optional<RoomOwner>> find(UUID roomId) {
    return session
        .executeAsync(select.bind(roomId).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_SERIAL))
        .thenApply(found -> Optional.ofNullable(found.one()).flatMap(RoomOwners::of));
  }

  /** The room's owner now; fails if the room has none (a write was fenced, so it has one). */
  CompletionStage<RoomOwner> current(UUID roomId) {
    return find(roomId)
        .thenApply(
            owner ->
                owner.orElseThrow(
                    () -> new IllegalStateException("room " + roomId + " has no owner")));
  }

  /**
   * Completes if the owner of {@code epoch} still owns the room; else fails with {@link RoomMoved}.
   */
  CompletionStage<Void> confirm(UUID roomId, long epoch) {
    return current(roomId)
        .thenAccept(
            owner -> {
              if (owner.epoch() != epoch) {
                throw new RoomMoved(owner);
              }
            });
  }

  /** Fails with {@link RoomMoved}, naming the room's owner now. */
  <T> CompletionStage<T> moved(UUID roomId) {
    return current(roomId)
        .thenApply(
            owner -> {
              throw new RoomMoved(owner);
            });
  }
}
