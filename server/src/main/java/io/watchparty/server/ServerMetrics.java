package io.watchparty.server;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.TitleCatalog;
import io.watchparty.server.room.FanOutTimes;
import io.watchparty.server.room.RoomRegistry;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Registers the server's gauges with Helidon's global meter registry, which the observability port
 * exposes in Prometheus format: cache statistics of the catalog and of the availability matrix, the
 * rooms held in memory, and the rooms' fan-out times since the server started (the load test reads
 * the whole histogram from {@code /observe/fan-out} instead, to tell one run's share).
 */
final class ServerMetrics {
  private ServerMetrics() {}

  static void register(TitleCatalog catalog, AvailabilityMatrix availability, RoomRegistry rooms) {
    cache("titles", catalog::stats);
    cache("availability", availability::stats);
    gauge(
        "watchparty.catalog.cache.refresh.failures",
        "availability",
        availability,
        a -> a.refreshFailures());
    Metrics.globalRegistry()
        .getOrCreate(
            Gauge.builder("watchparty.rooms.loaded", rooms, r -> r.loadedRooms())
                .description("rooms held in memory by this server"));
    FanOutTimes fanOut = rooms.fanOutTimes();
    Metrics.globalRegistry()
        .getOrCreate(
            Gauge.builder("watchparty.room.fanout.events", fanOut, f -> f.count())
                .description("room events fanned out to at least one stream"));
    for (double quantile : new double[] {0.5, 0.99, 0.999, 1.0}) {
      Metrics.globalRegistry()
          .getOrCreate(
              Gauge.builder(
                      "watchparty.room.fanout.seconds",
                      fanOut,
                      f -> f.valueAtPercentile(quantile * 100) / 1e6)
                  .tags(Metrics.tags("quantile", Double.toString(quantile)))
                  .description(
                      "event numbered under the room lock to its frame handed to the transport"
                          + " for the room's last stream"));
    }
  }

  private static void cache(String name, Supplier<CacheStats> stats) {
    gauge("watchparty.catalog.cache.hit.ratio", name, stats, s -> s.get().hitRate());
    gauge("watchparty.catalog.cache.loads", name, stats, s -> s.get().loadCount());
    gauge("watchparty.catalog.cache.load.failures", name, stats, s -> s.get().loadFailureCount());
    gauge("watchparty.catalog.cache.evictions", name, stats, s -> s.get().evictionCount());
  }

  private static <T> void gauge(String name, String cache, T source, ToDoubleFunction<T> value) {
    Metrics.globalRegistry()
        .getOrCreate(Gauge.builder(name, source, value).tags(Metrics.tags("cache", cache)));
  }
}
