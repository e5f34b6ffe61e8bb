package io.watchparty.server;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.TitleCatalog;
import io.watchparty.server.room.RoomRegistry;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Registers the server's gauges with Helidon's global meter registry, which the observability port
 * exposes in Prometheus format: cache statistics of the catalog and of the availability matrix, and
 * the rooms held in memory.
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
