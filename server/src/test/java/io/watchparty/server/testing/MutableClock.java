package io.watchparty.server.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server clock that stands still until a test moves it, so that server times (effective times,
 * snapshot times, pong times) can be asserted exactly.
 */
public final class MutableClock extends Clock {
  private final AtomicLong millis;

  private MutableClock(long millis) {
    this.millis = new AtomicLong(millis);
  }

  /** A clock standing at the current wall-clock millisecond. */
  public static MutableClock atNow() {
    return new MutableClock(System.currentTimeMillis());
  }

  /** A clock standing at {@code instant}. */
  public static MutableClock at(Instant instant) {
    return new MutableClock(instant.toEpochMilli());
  }

  public void advance(Duration by) {
    millis.addAndGet(by.toMillis());
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
