package io.watchparty.server.catalog;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The title availability matrix (title x region -> licence window), stored in Cassandra and served
 * from a Caffeine cache: on the join path a warm lookup never touches Cassandra.
 *
 * <p>Entries are per title (one partition each). They refresh in the background after {@code
 * refreshAfter}: a change made elsewhere (another server, a direct write) takes effect here within
 * that interval, or at the next load. A failed refresh keeps serving the previous value; it is
 * logged and counted ({@link #refreshFailures()}). A change made through this class takes effect at
 * once, and listeners (the rooms) hear about it.
 */
public final class AvailabilityMatrix {
  private static final Logger log = LoggerFactory.getLogger(AvailabilityMatrix.class);

  private final CqlSession session;
  private final PreparedStatement selectTitle;
  private final PreparedStatement selectAll;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;
  private final LoadingCache<String, TitleAvailability> cache;
  private final AtomicLong refreshFailures = new AtomicLong();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /**
   * @param refreshExecutor runs background refreshes (tests pass a direct executor)
   */
  public AvailabilityMatrix(
      CqlSession session,
      long maximumTitles,
      Duration refreshAfter,
      Ticker ticker,
      Executor refreshExecutor) {
    this.session = Objects.requireNonNull(session);
    selectTitle =
        session.prepare(
            "SELECT region, available_from, available_until FROM title_availability"
                + " WHERE title_id = ?");
    selectAll =
        session.prepare(
            "SELECT title_id, region, available_from, available_until FROM title_availability");
    upsert =
        session.prepare(
            "INSERT INTO title_availability (title_id, region, available_from, available_until)"
                + " VALUES (:title_id, :region, :available_from, :available_until)");
    delete = session.prepare("DELETE FROM title_availability WHERE title_id = ? AND region = ?");
    cache =
        Caffeine.newBuilder()
            .maximumSize(maximumTitles)
            .refreshAfterWrite(refreshAfter)
            .ticker(ticker)
            .executor(refreshExecutor)
            .recordStats()
            .build(
                new CacheLoader<>() {
                  @Override
                  public TitleAvailability load(String titleId) {
                    return loadTitle(titleId);
                  }

                  @Override
                  public TitleAvailability reload(String titleId, TitleAvailability old) {
                    try {
                      return loadTitle(titleId);
                    } catch (RuntimeException e) {
                      // Caffeine keeps the old value when a reload fails; say so.
                      refreshFailures.incrementAndGet();
                      log.warn(
                          "Refreshing the availability of '{}' failed ({}); serving the previous"
                              + " value",
                          titleId,
                          e.toString());
                      throw e;
                    }
                  }
                });
  }

  /** The licence windows of a title by region (loads it on a cold cache). */
  public TitleAvailability of(String titleId) {
    return cache.get(titleId);
  }

  /** Whether {@code region} may watch {@code titleId} at {@code at}. */
  public boolean canWatch(String titleId, String region, Instant at) {
    return of(titleId).canWatch(region, at);
  }

  /** Sets (replaces) the window of one region; effective on this server at once. */
  public void set(String titleId, String region, LicenceWindow window) {
    BoundStatementBuilder write =
        upsert.boundStatementBuilder().setString("title_id", titleId).setString("region", region);
    // Open ends stay unset, not null: nothing to tombstone.
    if (window.from().isPresent()) {
      write = write.setInstant("available_from", window.from().get());
    }
    if (window.until().isPresent()) {
      write = write.setInstant("available_until", window.until().get());
    }
    if (window.from().isEmpty() || window.until().isEmpty()) {
      // Replacing a bounded window by an open one must clear the old bound: delete the row first.
      session.execute(delete.bind(titleId, region));
    }
    session.execute(write.build());
    changed(titleId);
  }

  /** Removes a region's window: the title is no longer available there. */
  public void clear(String titleId, String region) {
    session.execute(delete.bind(titleId, region));
    changed(titleId);
  }

  /** Loads every title of the matrix into the cache (a cold start, or a benchmark). */
  public int loadAll() {
    Map<String, Map<String, LicenceWindow>> all = new HashMap<>();
    for (Row row : session.execute(selectAll.bind())) {
      all.computeIfAbsent(row.getString("title_id"), t -> new HashMap<>())
          .put(row.getString("region"), window(row));
    }
    all.forEach((title, windows) -> cache.put(title, new TitleAvailability(title, windows)));
    return all.size();
  }

  /** Called with the title id after every change made through this matrix. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  public CacheStats stats() {
    return cache.stats();
  }

  public long refreshFailures() {
    return refreshFailures.get();
  }

  /**
   * Re-reads the changed title here (the admin's call, never a room lock) and replaces the cached
   * value, rather than invalidating it: the next reader, maybe a room, must not be the one to wait
   * for Cassandra.
   */
  private void changed(String titleId) {
    cache.put(titleId, loadTitle(titleId));
    listeners.forEach(l -> l.accept(titleId));
  }

  private TitleAvailability loadTitle(String titleId) {
    Map<String, LicenceWindow> windows = new HashMap<>();
    for (Row row : session.execute(selectTitle.bind(titleId))) {
      windows.put(row.getString("region"), window(row));
    }
    return new TitleAvailability(titleId, windows);
  }

  private static LicenceWindow window(Row row) {
    return new LicenceWindow(
        Optional.ofNullable(row.getInstant("available_from")),
        Optional.ofNullable(row.getInstant("available_until")));
  }
}
