package io.watchparty.server.catalog;

import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The title availability matrix (title x region -> licence window), kept in an {@link
 * AvailabilityStore} and served from a Caffeine cache: on the join path a warm lookup never touches
 * storage.
 *
 * <p>Entries are per title (one partition each). They refresh in the background after {@code
 * refreshAfter}: a change made elsewhere (another server, a direct write) takes effect here within
 * that interval, or at the next load. A failed refresh keeps serving the previous value; it is
 * logged and counted ({@link #refreshFailures()}). A change made through this class takes effect at
 * once, and listeners (the rooms) hear about it.
 */
public final class AvailabilityMatrix {
  private static final Logger log = LoggerFactory.getLogger(AvailabilityMatrix.class);

  private final AvailabilityStore store;
  private final LoadingCache<String, TitleAvailability> cache;
  private final AtomicLong refreshFailures = new AtomicLong();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /**
   * @param refreshExecutor runs background refreshes (tests pass a direct executor)
   */
  public AvailabilityMatrix(
      AvailabilityStore store,
      long maximumTitles,
      Duration refreshAfter,
      Ticker ticker,
      Executor refreshExecutor) {
    this.store = Objects.requireNonNull(store);
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
    store.put(titleId, region, window);
    changed(titleId);
  }

  /** Removes a region's window: the title is no longer available there. */
  public void clear(String titleId, String region) {
    store.remove(titleId, region);
    changed(titleId);
  }

  /** Loads every title of the matrix into the cache (a cold start, or a benchmark). */
  public int loadAll() {
    Map<String, Map<String, LicenceWindow>> all = store.all();
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
    return new TitleAvailability(titleId, store.windowsOf(titleId));
  }
}
