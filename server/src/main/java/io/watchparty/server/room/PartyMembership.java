package io.watchparty.server.room;

import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;

/**
 * Who is in the party ("your parties"): a user is in from their first join until they leave for
 * good, are kicked or banned; a dropped connection, and the end of its grace period, keep them in.
 * A party member comes back to a private room without its invite, as the host and co-hosts do.
 *
 * <p>Membership is stored write-behind ({@link RoomChange.MembershipSet}), so this instance
 * remembers what it decided and answers from that first; storage answers for everyone else (a
 * member of an earlier instance of the room, or of another server's). Confined to the room's lock,
 * except {@link #storedMember}, which reads storage and is called outside it.
 */
final class PartyMembership {
  private final UUID roomId;
  private final RoomWriter writer;
  private final InstantSource clock;
  private final BiFunction<UUID, String, CompletionStage<Boolean>> stored;

  /**
   * At most this many decisions are kept, the newest: the write of an older one is long stored by
   * then, and storage answers for its user. (It kept every user who ever joined the room.)
   */
  static final int REMEMBERED_DECISIONS = 10_000;

  private final Map<String, Boolean> decided =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > REMEMBERED_DECISIONS;
        }
      };

  PartyMembership(
      UUID roomId,
      RoomWriter writer,
      InstantSource clock,
      BiFunction<UUID, String, CompletionStage<Boolean>> stored) {
    this.roomId = roomId;
    this.writer = writer;
    this.clock = clock;
    this.stored = stored;
  }

  /** {@code userId} joined the party (their first connection, or a relay started serving them). */
  void joined(String userId) {
    decide(userId, true);
    long since = clock.millis();
    writer.add(at -> new RoomChange.MembershipSet(userId, true, since, at));
  }

  /** {@code userId} left the party for good (left, kicked, banned). */
  void left(String userId) {
    decide(userId, false);
    writer.add(at -> new RoomChange.MembershipSet(userId, false, 0, at));
  }

  private void decide(String userId, boolean member) {
    decided.remove(userId); // the newest decision goes last, the last to be forgotten
    decided.put(userId, member);
  }

  /** How many decisions are kept. */
  int remembered() {
    return decided.size();
  }

  /** What this instance decided about {@code userId}, if anything. Under the lock. */
  Optional<Boolean> decided(String userId) {
    return Optional.ofNullable(decided.get(userId));
  }

  /**
   * Whether storage lists {@code userId} in the party. Reads Cassandra: never under the lock, and
   * its completion may run on a driver thread.
   */
  CompletionStage<Boolean> storedMember(String userId) {
    return stored.apply(roomId, userId);
  }
}
