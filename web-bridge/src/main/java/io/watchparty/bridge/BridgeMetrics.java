package io.watchparty.bridge;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Meter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.watchparty.bridge.relay.RelayHub;
import io.watchparty.bridge.relay.RelayMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The bridge's Prometheus meters ({@code /observe/metrics}): SSE clients in all and in the busiest
 * rooms, upstream relay streams, resumes served exactly or by snapshot, slow browsers resynced and
 * closed, the deepest browser queue, events delivered, rooms followed to their new owner, refusals
 * by reason.
 *
 * <p>Every meter carries the tag {@code bridge}, this bridge's id, and is removed when the bridge
 * closes: Helidon backs its registries with Micrometer's one global registry, where a bridge
 * started after another in the same JVM (a restart in the tests, two bridges of one process) got
 * the first one's meters back, gauges still reading the closed bridge's state.
 */
final class BridgeMetrics implements RelayMetrics, AutoCloseable {
  private static final int BUSIEST_ROOMS = 10;

  private final MeterRegistry registry = Metrics.globalRegistry();
  private final String bridge = UUID.randomUUID().toString().substring(0, 8);
  private final List<Meter> meters = new CopyOnWriteArrayList<>();
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
  private final Counter roomMoves =
      counter(
          "watchparty_bridge_room_moves",
          "Rooms followed to the server instance that owns them now (refusals ROOM_MOVED)");
  private final Map<String, Counter> refusals = new ConcurrentHashMap<>();

  /** Registers the gauges that read the hub's state when scraped. */
  void watch(RelayHub hub) {
    register(
        Gauge.builder("watchparty_bridge_sse_clients", hub::viewerCount)
            .tags(tags())
            .description("SSE streams open on this bridge"));
    register(
        Gauge.builder("watchparty_bridge_upstream_streams", hub::upstreamStreams)
            .tags(tags())
            .description("Upstream relay streams open and joined"));
    register(
        Gauge.builder("watchparty_bridge_queue_depth_max", hub::deepestQueue)
            .tags(tags())
            .description("Events waiting in the fullest browser queue"));
    for (int rank = 1; rank <= BUSIEST_ROOMS; rank++) {
      int index = rank - 1;
      // Ranked rather than labelled by room id: room ids would be an unbounded label set.
      register(
          Gauge.builder(
                  "watchparty_bridge_sse_clients_busiest_room",
                  () -> {
                    List<Map.Entry<String, Integer>> busiest = hub.busiestRooms(BUSIEST_ROOMS);
                    return busiest.size() > index ? busiest.get(index).getValue() : 0;
                  })
              .tags(tags("rank", Integer.toString(rank)))
              .description("SSE streams of the rank-th busiest room"));
    }
  }

  /** A request refused with {@code reason} (the JSON body's {@code error}). */
  void refused(String reason) {
    refusals
        .computeIfAbsent(
            reason,
            r ->
                register(
                    Counter.builder("watchparty_bridge_refusals")
                        .tags(tags("reason", r))
                        .description("HTTP requests refused, by reason")))
        .increment();
  }

  private Counter counter(String name, String description) {
    return register(Counter.builder(name).tags(tags()).description(description));
  }

  private <M extends Meter, B extends Meter.Builder<B, M>> M register(B builder) {
    M meter = registry.getOrCreate(builder);
    meters.add(meter);
    return meter;
  }

  /** The tag {@code bridge}, then the given name/value pair. */
  private List<Tag> tags(String... nameAndValue) {
    List<Tag> tags = new ArrayList<>(List.of(Tag.create("bridge", bridge)));
    for (int i = 0; i + 1 < nameAndValue.length; i += 2) {
      tags.add(Tag.create(nameAndValue[i], nameAndValue[i + 1]));
    }
    return tags;
  }

  /** Removes this bridge's meters: a closed bridge reports nothing. */
  @Override
  public void close() {
    meters.forEach(registry::remove);
    meters.clear();
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

  @Override
  public void roomMoved() {
    roomMoves.increment();
  }

  /** A browser that accepted nothing for the stall timeout was closed. */
  void closedStalled() {
    closedTooSlow.increment();
  }
}
