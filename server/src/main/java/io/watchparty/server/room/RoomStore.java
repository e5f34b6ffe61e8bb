package io.watchparty.server.room;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * Where rooms are kept between restarts (Cassandra in production, {@code store.CassandraRoomStore};
 * a map in the room's unit tests). Completions may run on the storage driver's I/O threads: the
 * room hops off them before it does any work of its own.
 */
public interface RoomStore {
  /**
   * Stores a new room, owned by {@code room.owner()} at epoch 1 (and lists it in the directory if
   * public).
   */
  CompletionStage<Void> create(RoomRecord room);

  /**
   * Claims a room for {@code claimant} if its stored owner's epoch is still {@code readEpoch} (0: a
   * room stored with no owner), writing the claimant with {@code readEpoch + 1}. Completes with the
   * owner storage holds afterwards: the claimant if the claim was applied, else the instance that
   * claimed it first.
   */
  CompletionStage<RoomOwner> claim(UUID roomId, Instances.Instance claimant, long readEpoch);

  /** The stored room, if there is one. */
  CompletionStage<Optional<RoomRecord>> find(UUID roomId);

  /**
   * The room's owner as Paxos settled it (a serial read, which completes any claim in progress);
   * empty if the room has none or does not exist.
   */
  CompletionStage<Optional<RoomOwner>> owner(UUID roomId);

  /** How many were present in a room when its owner of {@code epoch} counted. */
  record Audience(long epoch, long members) {}

  /**
   * Records how many are present in a room its owner of {@code epoch} serves, for the listings of
   * every instance (a room is in its owner's memory only). Not fenced: a count, not the room's
   * state; the epoch says whose count it is.
   */
  CompletionStage<Void> recordAudience(UUID roomId, long epoch, long members);

  /** The count a room's owner last recorded, unless it is too old to be kept. */
  CompletionStage<Optional<Audience>> audience(UUID roomId);

  /** The ids of all listed public rooms. */
  CompletionStage<List<UUID>> publicRoomIds();

  /** Whether {@code userId} is in the party of {@code roomId} (joined and did not leave). */
  CompletionStage<Boolean> isPartyMember(UUID roomId, String userId);

  /** The rooms {@code userId} is in (hosts, or joined and did not leave), closed ones included. */
  CompletionStage<List<UUID>> roomIdsOf(String userId);

  /**
   * Writes a room's changes, made by its owner of {@code epoch}: the room's own state only while
   * storage still holds that epoch (else it fails with {@link RoomMoved}), and what depends on it
   * (memberships, the directory) after. Completes when all are stored, or fails with the first
   * failure. Sent one after another by the room ({@link RoomWriter}), never concurrently, so they
   * are stored in the order they were made.
   */
  CompletionStage<Void> apply(UUID roomId, long epoch, List<RoomChange> changes);

  /**
   * Whether a write that failed this way may succeed if tried again (storage unreachable, a
   * timeout); false for one no retry can mend (a statement the store refuses).
   */
  boolean mayRetry(Throwable failure);

  /** Waits, at most {@code timeout}, for the writes in flight; false if some were still pending. */
  boolean awaitWrites(Duration timeout);
}
