package io.watchparty.proto;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * The one retry policy of the project (modelled on grpc-java's {@code ExponentialBackoffPolicy}):
 * the ceiling of attempt {@code n} is {@code min(cap, base x multiplier^n)}, and the delay is drawn
 * with full jitter, uniformly in {@code [0, ceiling]}, so that clients dropped together by one
 * failure do not come back together. It serves the client library's reconnects, the web bridge's
 * relay reconnects, a room's writes to Cassandra and the local node's restarts (which use the
 * ceiling itself: one node has nobody to spread out from).
 *
 * @param base the ceiling of the first retry
 * @param multiplier how much the ceiling grows per attempt, at least 1
 * @param cap the largest ceiling
 */
public record Backoff(Duration base, double multiplier, Duration cap) {
  public Backoff {
    if (base.isNegative() || base.isZero() || cap.compareTo(base) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 < base <= cap, got base " + base + " and cap " + cap);
    }
    if (!(multiplier >= 1)) {
      throw new IllegalArgumentException(
          "backoff multiplier must be at least 1, got " + multiplier);
    }
  }

  /** Doubling from {@code base} up to {@code cap}. */
  public static Backoff doubling(Duration base, Duration cap) {
    return new Backoff(base, 2, cap);
  }

  /** The ceiling of attempt {@code attempt} (0 = the first retry), in milliseconds. */
  public long ceilingMs(int attempt) {
    double ceiling = base.toMillis() * Math.pow(multiplier, Math.max(0, attempt));
    return (long) Math.min(cap.toMillis(), ceiling);
  }

  /**
   * The delay before attempt {@code attempt}: full jitter, with {@code draw} mapping a bound to a
   * uniform value in {@code [0, bound]} (tests pass a fixed one).
   */
  public long delayMs(int attempt, LongUnaryOperator draw) {
    return draw.applyAsLong(ceilingMs(attempt));
  }

  /** The delay before attempt {@code attempt}, drawn from {@link ThreadLocalRandom}. */
  public long delayMs(int attempt) {
    return delayMs(attempt, bound -> ThreadLocalRandom.current().nextLong(bound + 1));
  }
}
