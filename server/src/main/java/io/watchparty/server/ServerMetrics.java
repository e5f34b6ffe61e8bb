package io.watchparty.server;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.TitleCatalog;
import io.watchparty.server.room.FanOutTimes;
import io.watchparty.server.room.RoomRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Registers the server's gauges with Helidon's meter registry, which the observability port exposes
 * in Prometheus format: cache statistics of the catalog and of the availability matrix, the rooms
 * held in memory, and the rooms' fan-out times since the server started (the load test reads the
 * whole histogram from {@code /observe/fan-out} instead, to tell one run's share).
 *
 * <p>Every meter carries the tag {@code server}, the server's {@linkplain WatchPartyServer#id()
 * id}: Helidon 4.5 backs every registry it makes with Micrometer's one global registry, where a
 * second server's gauge of the same name and tags would be the first server's.
 */
final class ServerMetrics {
  private ServerMetrics() {}

  static void register(
      String server, TitleCatalog catalog, AvailabilityMatrix availability, RoomRegistry rooms) {
    cache(server, "titles", catalog::stats);
    cache(server, "availability", availability::stats);
    register(
        gauge(
            server,
            "watchparty.catalog.cache.refresh.failures",
            availability,
            a -> a.refreshFailures(),
            "cache",
            "availability"));
    register(
        gauge(server, "watchparty.rooms.loaded", rooms, r -> r.loadedRooms())
            .description("rooms held in memory by this server"));
    FanOutTimes fanOut = rooms.fanOutTimes();
    register(
        gauge(server, "watchparty.room.fanout.events", fanOut, f -> f.count())
            .description("room events fanned out to at least one stream"));
    for (double quantile : new double[] {0.5, 0.99, 0.999, 1.0}) {
      register(
          gauge(
                  server,
                  "watchparty.room.fanout.seconds",
                  fanOut,
                  f -> f.valueAtPercentile(quantile * 100) / 1e6,
                  "quantile",
                  Double.toString(quantile))
              .description(
                  "event numbered under the room lock to its frame handed to the transport for"
                      + " the room's last stream"));
    }
  }

  /** The tags of one of this server's meters: {@code server}, then the given name/value pairs. */
  static List<Tag> tags(String server, String... more) {
    List<Tag> tags = new ArrayList<>(List.of(Tag.create("server", server)));
    for (int i = 0; i + 1 < more.length; i += 2) {
      tags.add(Tag.create(more[i], more[i + 1]));
    }
    return tags;
  }

  private static void cache(String server, String name, Supplier<CacheStats> stats) {
    register(
        gauge(
            server,
            "watchparty.catalog.cache.hit.ratio",
            stats,
            s -> s.get().hitRate(),
            "cache",
            name));
    register(
        gauge(
            server,
            "watchparty.catalog.cache.loads",
            stats,
            s -> s.get().loadCount(),
            "cache",
            name));
    register(
        gauge(
            server,
            "watchparty.catalog.cache.load.failures",
            stats,
            s -> s.get().loadFailureCount(),
            "cache",
            name));
    register(
        gauge(
            server,
            "watchparty.catalog.cache.evictions",
            stats,
            s -> s.get().evictionCount(),
            "cache",
            name));
  }

  private static <T> Gauge.Builder<Double> gauge(
      String server, String name, T source, ToDoubleFunction<T> value, String... tags) {
    return Gauge.builder(name, source, value).tags(tags(server, tags));
  }

  private static void register(Gauge.Builder<Double> gauge) {
    Metrics.globalRegistry().getOrCreate(gauge);
  }
}
