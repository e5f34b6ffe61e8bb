package io.watchparty.server.catalog;

import com.datastax.oss.driver.api.core.CqlSession;
import com.github.benmanes.caffeine.cache.Ticker;
import io.helidon.config.Config;
import io.watchparty.server.store.CassandraAvailabilityStore;
import io.watchparty.server.store.Storage;
import io.watchparty.server.store.StorageSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The availability check on the join path (warm cache), and a cold load of the whole demo matrix
 * (20 titles x 12 regions) from the real local Cassandra node. Run with {@code mvn -pl server
 * -Pbench test-compile exec:exec -Dbench.args=AvailabilityBenchmark}.
 */
@State(Scope.Benchmark)
public class AvailabilityBenchmark {
  private static final Instant NOW = Instant.now();

  private Storage storage;
  private CqlSession session;
  private AvailabilityMatrix warm;
  private String[] titles;
  private String[] regions;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    storage =
        Storage.open(StorageSettings.from(Config.create()).withKeyspace("watchparty_benchmark"));
    session = storage.session();
    warm = newMatrix();
    List<DemoCatalog.Entry> entries = DemoCatalog.availability(NOW);
    entries.forEach(
        e -> warm.set(e.titleId(), e.region(), e.window()).toCompletableFuture().join());
    warm.loadAll().toCompletableFuture().join();
    titles = DemoCatalog.titles().stream().map(Title::titleId).toArray(String[]::new);
    regions = new String[] {"US", "GB", "IT", "DE", "FR", "IN", "BR", "JP", "CA", "AU", "ES", "MX"};
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    storage.close();
  }

  private AvailabilityMatrix newMatrix() {
    return new AvailabilityMatrix(
        new CassandraAvailabilityStore(session),
        10_000,
        Duration.ofMinutes(1),
        Ticker.systemTicker(),
        ForkJoinPool.commonPool());
  }

  /** One join-path lookup: a title and a region, cycling through the whole matrix. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public boolean warmAvailabilityCheck() {
    int i = next++;
    return warm.of(titles[i % titles.length])
        .join()
        .canWatch(regions[(i / titles.length) % regions.length], NOW);
  }

  /** A cold cache filled with the whole matrix in one scan. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public int coldLoadOfWholeMatrix() {
    return newMatrix().loadAll().toCompletableFuture().join();
  }
}
