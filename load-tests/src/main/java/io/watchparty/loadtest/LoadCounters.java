package io.watchparty.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/** What many threads of one run record at once: cheap adders and concurrent histograms. */
final class LoadCounters {
  /** Frames received by gRPC viewers (every kind). */
  final LongAdder deliveries = new LongAdder();

  /** Events received by SSE tabs (those with an id). */
  final LongAdder sseDeliveries = new LongAdder();

  final LongAdder chatSent = new LongAdder();
  final LongAdder chatAcknowledged = new LongAdder();

  private final Histogram chatAck = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
  private final Histogram chatDeliver = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
  private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();

  void error(String kind) {
    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  void recordChatAck(long nanos) {
    chatAcknowledged.increment();
    chatAck.recordValue(micros(nanos, chatAck));
  }

  void recordChatDelivery(long nanos) {
    chatDeliver.recordValue(micros(nanos, chatDeliver));
  }

  Histogram chatAck() {
    return chatAck.copy();
  }

  Histogram chatDeliver() {
    return chatDeliver.copy();
  }

  /** Errors by kind, sorted by kind. */
  Map<String, Long> errors() {
    var sorted = new TreeMap<String, Long>();
    errors.forEach((kind, count) -> sorted.put(kind, count.sum()));
    return sorted;
  }

  private static long micros(long nanos, Histogram into) {
    return Math.min(Math.max(0, nanos / 1000), into.getHighestTrackableValue());
  }
}
