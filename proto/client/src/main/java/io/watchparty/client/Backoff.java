package io.watchparty.client;

import java.util.function.LongUnaryOperator;

/**
 * Reconnect delays: exponential with full jitter (a uniform draw in [0, min(cap, base x 2^n)]), so
 * that clients dropped together by one failure do not come back together.
 */
record Backoff(long baseMs, long capMs) {
  Backoff {
    if (baseMs <= 0 || capMs < baseMs) {
      throw new IllegalArgumentException(
          "backoff needs 0 < base <= cap, got base " + baseMs + " ms and cap " + capMs + " ms");
    }
  }

  /**
   * The delay before attempt {@code attempt} (0 = the first reconnect); {@code draw} maps a bound
   * to a uniform value in [0, bound].
   */
  long delayMs(int attempt, LongUnaryOperator draw) {
    long ceiling = capMs;
    if (attempt < 40) {
      ceiling = Math.min(capMs, baseMs << Math.min(attempt, 40));
      if (ceiling <= 0) {
        ceiling = capMs; // overflow
      }
    }
    return draw.applyAsLong(ceiling);
  }
}
