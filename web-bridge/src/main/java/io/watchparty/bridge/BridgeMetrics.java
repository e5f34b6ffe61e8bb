package io.watchparty.bridge;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.watchparty.bridge.relay.RelayHub;
import io.watchparty.bridge.relay.RelayMetrics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bridge's Prometheus meters ({@code /observe/metrics}): SSE clients in all and in the busiest
 * rooms, upstream relay streams, resumes served exactly or by snapshot, slow browsers resynced and
 * closed, the deepest browser queue, events delivered, refusals by reason.
 */
final class BridgeMetrics implements RelayMetrics {
  private static final int BUSIEST_ROOMS = 10;

  private final MeterRegistry registry = Metrics.globalRegistry();
  private final Counter upstreamOpened =
      counter("watchparty_bridge_upstream_opened", "Upstream relay streams opened");
  private final Counter delivered =
      counter("watchparty_bridge_events_delivered", "Room events queued for browsers");
  private final Counter resumedExactly =
      counter(
          "watchparty_bridge_resumes_exact",
          "Last-Event-ID resumes answered with exactly the missed events");
  private final Counter resumedBySnapshot =
      counter(
          "watchparty_bridge_resumes_snapshot", "Last-Event-ID resumes answered with a snapshot");
  private final Counter resynced =
      counter(
          "watchparty_bridge_slow_resynced",
          "Slow browsers whose backlog was replaced by a snapshot");
  private final Counter closedTooSlow =
      counter("watchparty_bridge_slow_closed", "Browsers closed for reading nothing");
  private final Map<String, Counter> refusals = new ConcurrentHashMap<>();

  /** Registers the gauges that read the hub's state when scraped. */
  void watch(RelayHub hub) {
    registry.getOrCreate(
        Gauge.builder("watchparty_bridge_sse_clients", hub::viewerCount)
            .description("SSE streams open on this bridge"));
    registry.getOrCreate(
        Gauge.builder("watchparty_bridge_upstream_streams", hub::upstreamStreams)
            .description("Upstream relay streams open and joined"));
    registry.getOrCreate(
        Gauge.builder("watchparty_bridge_queue_depth_max", hub::deepestQueue)
            .description("Events waiting in the fullest browser queue"));
    for (int rank = 1; rank <= BUSIEST_ROOMS; rank++) {
      int index = rank - 1;
      // Ranked rather than labelled by room id: room ids would be an unbounded label set.
      registry.getOrCreate(
          Gauge.builder(
                  "watchparty_bridge_sse_clients_busiest_room",
                  () -> {
                    List<Map.Entry<String, Integer>> busiest = hub.busiestRooms(BUSIEST_ROOMS);
                    return busiest.size() > index ? busiest.get(index).getValue() : 0;
                  })
              .tags(List.of(Tag.create("rank", Integer.toString(rank))))
              .description("SSE streams of the rank-th busiest room"));
    }
  }

  /** A request refused with {@code reason} (the JSON body's {@code error}). */
  void refused(String reason) {
    refusals
        .computeIfAbsent(
            reason,
            r ->
                registry.getOrCreate(
                    Counter.builder("watchparty_bridge_refusals")
                        .tags(List.of(Tag.create("reason", r)))
                        .description("HTTP requests refused, by reason")))
        .increment();
  }

  private Counter counter(String name, String description) {
    return registry.getOrCreate(Counter.builder(name).description(description));
  }

  @Override
  public void upstreamOpened() {
    upstreamOpened.increment();
  }

  @Override
  public void delivered(int browsers) {
    delivered.increment(browsers);
  }

  @Override
  public void resumedExactly() {
    resumedExactly.increment();
  }

  @Override
  public void resumedBySnapshot() {
    resumedBySnapshot.increment();
  }

  @Override
  public void resynced() {
    resynced.increment();
  }

  /** A browser that accepted nothing for the stall timeout was closed. */
  void closedStalled() {
    closedTooSlow.increment();
  }
}
