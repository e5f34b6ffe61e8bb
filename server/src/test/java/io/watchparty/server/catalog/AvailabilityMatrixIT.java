package io.watchparty.server.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.github.benmanes.caffeine.cache.Ticker;
import io.watchparty.server.store.CassandraAvailabilityStore;
import io.watchparty.server.testing.CapturedLog;
import io.watchparty.server.testing.CassandraExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The cache in front of the availability matrix, on the real node, with an injected ticker and a
 * direct executor so refreshes happen deterministically.
 */
@ExtendWith(CassandraExtension.class)
class AvailabilityMatrixIT {
  private static final Duration REFRESH = Duration.ofMinutes(1);
  private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");

  private final CqlSession session;
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = nanos::get;

  AvailabilityMatrixIT(CqlSession session) {
    this.session = session;
  }

  private AvailabilityMatrix matrix(CqlSession on) {
    return new AvailabilityMatrix(
        new CassandraAvailabilityStore(on), 1_000, REFRESH, ticker, Runnable::run);
  }

  @Test
  void warmLookupsDoNotTouchCassandra() {
    AvailabilityMatrix matrix = matrix(session);
    matrix.set("warm-title", "GB", LicenceWindow.ALWAYS).toCompletableFuture().join();
    assertThat(canWatch(matrix, "warm-title", "GB", NOW)).isTrue();
    long loads = matrix.stats().loadCount();
    for (int i = 0; i < 1_000; i++) {
      assertThat(canWatch(matrix, "warm-title", "GB", NOW)).isTrue();
      assertThat(canWatch(matrix, "warm-title", "JP", NOW)).isFalse();
    }
    assertThat(matrix.stats().loadCount()).isEqualTo(loads);
    assertThat(matrix.stats().hitCount()).isGreaterThanOrEqualTo(2_000);
  }

  @Test
  void changesMadeElsewhereArriveAfterTheRefreshInterval() {
    AvailabilityMatrix here = matrix(session);
    AvailabilityMatrix otherServer = matrix(session);
    here.set("refresh-title", "GB", LicenceWindow.ALWAYS).toCompletableFuture().join();
    assertThat(canWatch(otherServer, "refresh-title", "GB", NOW)).isTrue();

    here.clear("refresh-title", "GB")
        .toCompletableFuture()
        .join(); // through "here": the other server's cache is stale
    assertThat(canWatch(here, "refresh-title", "GB", NOW)).isFalse();
    assertThat(canWatch(otherServer, "refresh-title", "GB", NOW)).isTrue();

    nanos.addAndGet(REFRESH.plusSeconds(1).toNanos());
    otherServer.of("refresh-title"); // the first read after the interval starts the refresh
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !canWatch(otherServer, "refresh-title", "GB", NOW));
  }

  @Test
  void aFailedRefreshKeepsServingThePreviousValueAndCountsIt() {
    Node node = session.getMetadata().getNodes().values().iterator().next();
    CqlSession doomed =
        CqlSession.builder()
            .addContactEndPoint(node.getEndPoint())
            .withLocalDatacenter(node.getDatacenter())
            .withKeyspace(session.getKeyspace().orElseThrow())
            .build();
    AvailabilityMatrix matrix = matrix(doomed);
    matrix
        .set(
            "failing-title",
            "IT",
            new LicenceWindow(Optional.empty(), Optional.of(NOW.plus(Duration.ofDays(1)))))
        .toCompletableFuture()
        .join();
    assertThat(canWatch(matrix, "failing-title", "IT", NOW)).isTrue();

    doomed.close(); // Cassandra unreachable from now on, for this matrix
    nanos.addAndGet(REFRESH.plusSeconds(1).toNanos());

    // Caffeine reports each failed refresh with a stack trace through java.util.logging (the
    // server's Main routes it to logback, which keeps Caffeine at ERROR); the failures provoked
    // here are counted below instead of printed.
    java.util.logging.Logger caffeine =
        java.util.logging.Logger.getLogger("com.github.benmanes.caffeine");
    java.util.logging.Level before = caffeine.getLevel();
    caffeine.setLevel(java.util.logging.Level.SEVERE);
    try (CapturedLog log = CapturedLog.of(AvailabilityMatrix.class)) {
      assertThat(canWatch(matrix, "failing-title", "IT", NOW)).isTrue(); // starts the refresh
      await().atMost(Duration.ofSeconds(20)).until(() -> matrix.refreshFailures() >= 1);
      assertThat(canWatch(matrix, "failing-title", "IT", NOW)).isTrue();
      assertThat(log.at(Level.WARN))
          .isNotEmpty()
          .allSatisfy(
              e ->
                  assertThat(e.getFormattedMessage())
                      .startsWith("Refreshing the availability of 'failing-title' failed")
                      .endsWith("serving the previous value"));
    } finally {
      caffeine.setLevel(before);
    }
    assertThat(matrix.refreshFailures()).isGreaterThanOrEqualTo(1);
    assertThat(matrix.stats().loadFailureCount()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void windowsOpenAndCloseAtTheirBounds() {
    AvailabilityMatrix matrix = matrix(session);
    Instant opens = NOW.plus(Duration.ofDays(2));
    Instant closes = NOW.plus(Duration.ofDays(9));
    matrix
        .set("window-title", "FR", new LicenceWindow(Optional.of(opens), Optional.of(closes)))
        .toCompletableFuture()
        .join();
    TitleAvailability rights = matrix.of("window-title").join();
    assertThat(rights.canWatch("FR", NOW)).isFalse();
    assertThat(rights.canWatch("FR", opens)).isTrue();
    assertThat(rights.canWatch("FR", closes.minusMillis(1))).isTrue();
    assertThat(rights.canWatch("FR", closes)).isFalse();
    assertThat(rights.nextChangeAfter(NOW)).contains(opens);
    assertThat(rights.nextChangeAfter(opens)).contains(closes);

    // Replacing a bounded window by an open one leaves no old bound behind.
    matrix.set("window-title", "FR", LicenceWindow.ALWAYS).toCompletableFuture().join();
    assertThat(matrix.of("window-title").join().window("FR")).contains(LicenceWindow.ALWAYS);
  }

  @Test
  void aReaderNeverSeesAWindowHalfReplaced() throws Exception {
    AvailabilityMatrix matrix = matrix(session);
    CassandraAvailabilityStore storage = new CassandraAvailabilityStore(session);
    LicenceWindow bounded = new LicenceWindow(Optional.of(NOW), Optional.of(NOW.plusSeconds(60)));
    LicenceWindow open = new LicenceWindow(Optional.of(NOW), Optional.empty());
    matrix.set("replaced-title", "GB", bounded).toCompletableFuture().join();

    // Another server reads storage while an admin replaces the window back and forth: each read
    // finds one whole window, never none (a delete then an insert left a moment with no row).
    AtomicBoolean replacing = new AtomicBoolean(true);
    AtomicInteger reads = new AtomicInteger();
    try (ExecutorService reader = Executors.newSingleThreadExecutor()) {
      Future<Set<Optional<LicenceWindow>>> seen =
          reader.submit(
              () -> {
                Set<Optional<LicenceWindow>> windows = new HashSet<>();
                while (replacing.get()) {
                  windows.add(
                      Optional.ofNullable(
                          storage
                              .windowsOf("replaced-title")
                              .toCompletableFuture()
                              .join()
                              .get("GB")));
                  reads.incrementAndGet();
                }
                return windows;
              });
      for (int i = 0; i < 200; i++) {
        matrix
            .set("replaced-title", "GB", i % 2 == 0 ? open : bounded)
            .toCompletableFuture()
            .join();
      }
      replacing.set(false);
      assertThat(seen.get()).isSubsetOf(Optional.of(bounded), Optional.of(open));
    }
    assertThat(reads.get()).isPositive();
    assertThat(matrix.of("replaced-title").join().windows()).containsEntry("GB", bounded);
  }

  @Test
  void loadsTheWholeMatrixAtOnce() {
    AvailabilityMatrix matrix = matrix(session);
    DemoCatalog.availability(NOW)
        .forEach(e -> matrix.set(e.titleId(), e.region(), e.window()).toCompletableFuture().join());
    AvailabilityMatrix cold = matrix(session);
    assertThat(cold.loadAll().toCompletableFuture().join()).isGreaterThanOrEqualTo(20);
    long loads = cold.stats().loadCount();
    assertThat(canWatch(cold, "metropolis", "JP", NOW)).isFalse();
    assertThat(canWatch(cold, "metropolis", "US", NOW)).isTrue();
    assertThat(cold.stats().loadCount()).isEqualTo(loads);
  }

  private static boolean canWatch(
      AvailabilityMatrix matrix, String titleId, String region, Instant at) {
    return matrix.of(titleId).join().canWatch(region, at);
  }
}
