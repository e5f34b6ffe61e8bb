package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final Ticker ticker = nanos::get;

  private void advance(Duration by) {
    nanos.addAndGet(by.toNanos());
  }

  /** The retry delay the refusal of {@code userId}'s next acquire names, in ms. */
  private static long refusedRetryMs(RateLimiter limiter, String userId) {
    RefusedException refused = null;
    try {
      limiter.acquire(userId);
    } catch (RefusedException e) {
      refused = e;
    }
    assertThat(refused).as("acquire for %s is refused", userId).isNotNull();
    assertThat(refused.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
    assertThat(refused.details()).containsOnlyKeys("retry_after_ms");
    return Long.parseLong(refused.details().get("retry_after_ms"));
  }

  @Test
  void allowsTheBurstThenRefusesWithTheWait() {
    RateLimiter limiter = new RateLimiter("commands", 5, 3, ticker);

    limiter.acquire("alice");
    limiter.acquire("alice");
    limiter.acquire("alice");

    assertThatThrownBy(() -> limiter.acquire("alice"))
        .isInstanceOfSatisfying(
            RefusedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
              assertThat(e.details())
                  .containsExactlyEntriesOf(java.util.Map.of("retry_after_ms", "200"));
            })
        .hasMessage("too many commands; retry in 200 ms");
  }

  @Test
  void waitingTheAnnouncedDelayAllowsExactlyOneMore() {
    RateLimiter limiter = new RateLimiter("commands", 5, 3, ticker);
    for (int i = 0; i < 3; i++) {
      limiter.acquire("alice");
    }
    long retryMs = refusedRetryMs(limiter, "alice");

    advance(Duration.ofMillis(retryMs));
    limiter.acquire("alice");

    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(200);
  }

  @Test
  void retryDelayIsRoundedUpSoThatWaitingItIsEnough() {
    // 1/3 s is 333.33 ms: a client told 333 ms would be refused again.
    RateLimiter limiter = new RateLimiter("messages", 3, 1, ticker);
    limiter.acquire("bob");

    long retryMs = refusedRetryMs(limiter, "bob");
    assertThat(retryMs).isEqualTo(334);

    advance(Duration.ofMillis(retryMs));
    limiter.acquire("bob");
  }

  @Test
  void waitingLessThanTheDelayIsRefusedWithTheRemainder() {
    RateLimiter limiter = new RateLimiter("commands", 5, 1, ticker);
    limiter.acquire("alice");

    advance(Duration.ofMillis(150));

    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(50);
  }

  @Test
  void retryDelayIsAtLeastOneMillisecond() {
    RateLimiter limiter = new RateLimiter("reactions", 1_000_000, 1, ticker);
    limiter.acquire("alice");

    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(1);
  }

  @Test
  void slowRatesGiveLongDelays() {
    RateLimiter limiter = new RateLimiter("messages", 0.1, 1, ticker);
    limiter.acquire("alice");

    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(10_000);
    advance(Duration.ofMillis(9_999));
    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(1);
    advance(Duration.ofMillis(1));
    limiter.acquire("alice");
  }

  @Test
  void usersHaveTheirOwnBuckets() {
    RateLimiter limiter = new RateLimiter("commands", 5, 2, ticker);
    limiter.acquire("alice");
    limiter.acquire("alice");
    refusedRetryMs(limiter, "alice");

    limiter.acquire("bob");
    limiter.acquire("bob");

    assertThat(refusedRetryMs(limiter, "bob")).isEqualTo(200);
    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(200);
  }

  @Test
  void aLongPauseRefillsNoMoreThanTheBurst() {
    RateLimiter limiter = new RateLimiter("commands", 5, 3, ticker);
    for (int i = 0; i < 3; i++) {
      limiter.acquire("alice");
    }

    // 900 ms would refill 4.5 tokens; the bucket holds 3 (and is still cached: it expires after 1
    // s).
    advance(Duration.ofMillis(900));
    for (int i = 0; i < 3; i++) {
      limiter.acquire("alice");
    }
    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(200);

    advance(Duration.ofHours(1));
    for (int i = 0; i < 3; i++) {
      limiter.acquire("alice");
    }
    assertThat(refusedRetryMs(limiter, "alice")).isEqualTo(200);
  }
}
