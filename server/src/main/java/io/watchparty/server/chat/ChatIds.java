package io.watchparty.server.chat;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.UUID;

/**
 * Message ids: time-based (version 1) UUIDs, which Cassandra orders by time as {@code timeuuid}.
 *
 * <p>Ids come from the server's clock (injected, so tests can move it), strictly increasing per
 * generator even within a millisecond (100-ns ticks, counted on when the clock stands still or
 * steps back), and unique across generators and servers by a random clock sequence and node.
 */
public final class ChatIds {
  /** 100-ns intervals from the start of the Gregorian calendar (1582-10-15) to the Unix epoch. */
  private static final long GREGORIAN_OFFSET = 0x01B21DD213814000L;

  private static final long TICKS_PER_MILLI = 10_000;

  private final long clockSequenceAndNode;

  @GuardedBy("this")
  private long lastTicks;

  public ChatIds() {
    SecureRandom random = new SecureRandom();
    long node = (random.nextLong() & 0xFFFF_FFFF_FFFFL) | 0x0100_0000_0000L; // multicast: random
    long clockSequence = random.nextInt(1 << 14);
    this.clockSequenceAndNode = 0x8000_0000_0000_0000L | (clockSequence << 48) | node;
  }

  /** The next id, for a message sent at {@code millis} (Unix epoch). */
  public UUID next(long millis) {
    return next(millis, Optional.empty());
  }

  /**
   * The next id, also later than {@code after}: a room's ids keep increasing across restarts and
   * servers even if this server's clock is behind the one that made {@code after}.
   */
  public synchronized UUID next(long millis, Optional<UUID> after) {
    long floor = after.map(id -> id.timestamp() - GREGORIAN_OFFSET + 1).orElse(0L);
    lastTicks = Math.max(Math.max(millis * TICKS_PER_MILLI, lastTicks + 1), floor);
    return new UUID(mostSignificantBits(lastTicks), clockSequenceAndNode);
  }

  /**
   * The id that Cassandra orders after every id of {@code millis} (as the driver's {@code
   * Uuids.endOf}): its last 100-ns tick, and the clock sequence and node that compare highest, as
   * Cassandra compares them byte by byte, signed.
   */
  public static UUID latestAt(long millis) {
    return new UUID(
        mostSignificantBits(millis * TICKS_PER_MILLI + TICKS_PER_MILLI - 1),
        0x7F7F_7F7F_7F7F_7F7FL);
  }

  /** Time low, time mid, version 1 and time high of a version-1 UUID at {@code ticks}. */
  private static long mostSignificantBits(long ticks) {
    long t = ticks + GREGORIAN_OFFSET;
    return (t << 32) | ((t & 0xFFFF_0000_0000L) >>> 16) | 0x1000L | ((t >>> 48) & 0x0FFFL);
  }

  /** When the message of this id was sent, in Unix epoch milliseconds. */
  public static long millis(UUID id) {
    return Math.floorDiv(id.timestamp() - GREGORIAN_OFFSET, TICKS_PER_MILLI);
  }

  /** The id's time in microseconds: the Cassandra write timestamp of the message. */
  public static long micros(UUID id) {
    return Math.floorDiv(id.timestamp() - GREGORIAN_OFFSET, 10);
  }

  /** A message id as a client sends it back, if it is one: a time-based UUID in canonical form. */
  public static Optional<UUID> parse(String id) {
    if (id.length() != 36) {
      return Optional.empty();
    }
    try {
      UUID uuid = UUID.fromString(id);
      return uuid.version() == 1 && uuid.variant() == 2 && uuid.toString().equals(id)
          ? Optional.of(uuid)
          : Optional.empty();
    } catch (IllegalArgumentException malformed) {
      return Optional.empty();
    }
  }
}
