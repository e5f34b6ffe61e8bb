package io.watchparty.server.room;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.time.Duration;
import java.util.Map;

/**
 * Per-user token buckets. Buckets of users who have been quiet for a while are forgotten, so memory
 * stays bounded by the number of active users.
 */
public final class RateLimiter {
  private final String what;
  private final double perNano;
  private final int burst;
  private final Ticker ticker;
  private final Cache<String, Bucket> buckets;

  public RateLimiter(String what, double perSecond, int burst, Ticker ticker) {
    this.what = what;
    this.perNano = perSecond / 1e9;
    this.burst = burst;
    this.ticker = ticker;
    long refillNanos = (long) Math.ceil(burst / perNano);
    this.buckets =
        Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofNanos(Math.max(refillNanos, 1_000_000_000L)))
            .ticker(ticker)
            .build();
  }

  /** Takes one token for {@code userId}, or refuses with RATE_LIMITED and the retry delay. */
  public void acquire(String userId) {
    Bucket bucket = buckets.get(userId, id -> new Bucket(burst, ticker.read()));
    long waitNanos;
    synchronized (bucket) {
      long now = ticker.read();
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updatedNanos) * perNano);
      bucket.updatedNanos = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return;
      }
      waitNanos = (long) Math.ceil((1 - bucket.tokens) / perNano);
    }
    // Rounded up: a client that waits exactly retry_after_ms must find a token.
    long retryMs = Math.max(1, Math.ceilDiv(waitNanos, 1_000_000L));
    throw new RefusedException(
        ErrorReason.RATE_LIMITED,
        "too many " + what + "; retry in " + retryMs + " ms",
        Map.of("retry_after_ms", Long.toString(retryMs)));
  }

  private static final class Bucket {
    double tokens;
    long updatedNanos;

    Bucket(double tokens, long updatedNanos) {
      this.tokens = tokens;
      this.updatedNanos = updatedNanos;
    }
  }
}
