package io.watchparty.loadtest;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * Everything one run against one target measured. Latencies are in microseconds; CPU times in
 * nanoseconds over the measured window (first command to the last viewer having the last one), -1
 * where the process was not given.
 *
 * @param target "baseline", "sse-baseline" (the bare SSE fan-out, standing for the bridge) or
 *     "platform"
 * @param joinSeconds from the first gRPC viewer's join to the last one's snapshot
 * @param seconds the measured window
 * @param deliveries frames the gRPC viewers received in the window
 * @param sseDeliveries events the SSE tabs received in the window
 * @param fanOut server side, command received to the last frame handed to gRPC: the baseline's
 *     (warm-up included), the platform's from its observe port over the window (with --observe)
 * @param sideLoads churn, reaction bursts and slow viewers, apart from the viewers above
 */
record RunResult(
    String target,
    double joinSeconds,
    double seconds,
    long deliveries,
    long sseDeliveries,
    Histogram each,
    Histogram last,
    Optional<Histogram> fanOut,
    Chat chat,
    Cpu cpu,
    GrpcCompleteness grpc,
    Optional<Sse> sse,
    Optional<Sync> sync,
    Map<String, Long> errors,
    List<TimelinePoint> timeline,
    Memory memory,
    SideLoadResult sideLoads) {

  RunResult withFanOut(Optional<Histogram> value) {
    return new RunResult(
        target,
        joinSeconds,
        seconds,
        deliveries,
        sseDeliveries,
        each,
        last,
        value,
        chat,
        cpu,
        grpc,
        sse,
        sync,
        errors,
        timeline,
        memory,
        sideLoads);
  }

  double deliveriesPerSecond() {
    return deliveries / seconds;
  }

  /** Whether every gRPC viewer and SSE tab got every event in order (or a resync). */
  boolean complete() {
    return grpc.failed() == 0
        && grpc.differingFrames() == 0
        && sideLoads.complete()
        && sse.map(s -> s.completeness().failed() == 0).orElse(true);
  }

  record Chat(long sent, long acknowledged, Histogram sendToAck, Histogram sendToDeliver) {}

  /** CPU used in the window: this generator's, and the given processes'. */
  record Cpu(long generatorNanos, long serverNanos, long bridgeNanos, long cassandraNanos) {}

  /**
   * The reading gRPC viewers' streams.
   *
   * @param notJoined never got their snapshot
   * @param closed the server ended their stream
   * @param behind never got their room's last command
   * @param disordered a gap or an out-of-order frame
   * @param resyncs snapshots that replaced a backlog (allowed: they say what was skipped)
   * @param differingFrames playback events whose bytes differed from another viewer's
   * @param stalledJoined stalled viewers (which never read) that got their snapshot
   */
  record GrpcCompleteness(
      int viewers,
      int complete,
      int notJoined,
      int closed,
      int behind,
      int disordered,
      long gaps,
      long outOfOrder,
      long resyncs,
      long differingFrames,
      int stalled,
      int stalledJoined) {
    int failed() {
      return viewers - complete;
    }
  }

  record SseCompleteness(
      int tabs,
      int complete,
      long missing,
      int tabsMissing,
      long duplicates,
      long resyncs,
      Map<String, Integer> failures) {
    int failed() {
      return tabs - complete;
    }
  }

  record Sse(
      long streaming,
      double connectSeconds,
      Histogram each,
      Histogram last,
      SseCompleteness completeness) {}

  /**
   * Playback sync error between the simulated players: each one's position minus the first's, at
   * sampled instants where all of them play, in microseconds.
   */
  record Sync(int players, Histogram errorMicros, List<SyncPoint> timeline) {}

  /** The worst player's error at one sampled instant, {@code seconds} into the sampling. */
  record SyncPoint(double seconds, double worstErrorMs) {}

  /** Deliveries per second over the preceding sampling interval, at {@code seconds} into it. */
  record TimelinePoint(double seconds, double grpcPerSecond, double ssePerSecond) {}

  /**
   * Memory per idle connection, in bytes (-1: not measured): live heap after a full GC, and the
   * resident set's growth (which also holds direct buffers and the heap G1 keeps committed, so an
   * upper bound), from before the viewers joined to after; gRPC streams first, then SSE tabs.
   *
   * @param serverHeapPerStream server, per gRPC stream (viewers, stalled and slow)
   * @param bridgeHeapPerStream bridge, per SSE tab
   * @param serverHeapPerSseTab server, per SSE tab (a relayed viewer: the bridge holds one upstream
   *     stream per room)
   * @param serverRssPerStream server RSS, per gRPC stream
   * @param bridgeRssPerStream bridge RSS, per SSE tab
   */
  record Memory(
      double serverHeapPerStream,
      double bridgeHeapPerStream,
      double serverHeapPerSseTab,
      double serverRssPerStream,
      double bridgeRssPerStream) {}
}
