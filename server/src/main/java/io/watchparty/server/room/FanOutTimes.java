package io.watchparty.server.room;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The server-side fan-out time of room events, in microseconds: from the instant an event is
 * numbered under the room lock (a command accepted, a chat message stored, a presence change) to
 * the instant its frame was handed to the transport for the last of the room's streams. One sample
 * per event that had at least one stream. Recording is wait-free and allocates nothing (an
 * HdrHistogram {@link Recorder}, which the stream writers share); only readers take this object's
 * lock.
 */
public final class FanOutTimes {
  /** Longer fan-outs are recorded as this (the transport would have been stuck for a minute). */
  static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(1);

  private static final int DIGITS = 3;

  private final Recorder recorder = new Recorder(HIGHEST_MICROS, DIGITS);

  @GuardedBy("this")
  private final Histogram total = new Histogram(HIGHEST_MICROS, DIGITS);

  @GuardedBy("this")
  private Histogram interval;

  void record(long nanos) {
    recorder.recordValue(Math.clamp(nanos / 1_000, 0, HIGHEST_MICROS));
  }

  /** Every event recorded since the server started: a copy, which the caller may change. */
  public synchronized Histogram total() {
    return collected().copy();
  }

  /** The value at {@code percentile} (0 to 100) of every event recorded, in microseconds. */
  public synchronized long valueAtPercentile(double percentile) {
    return collected().getValueAtPercentile(percentile);
  }

  /** How many events were recorded. */
  public synchronized long count() {
    return collected().getTotalCount();
  }

  @GuardedBy("this")
  private Histogram collected() {
    interval = recorder.getIntervalHistogram(interval);
    total.add(interval);
    return total;
  }
}
