package io.watchparty.server.catalog;

import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
 * logged and counted ({@link #refreshFailures()}). A change made through this class takes effect
 * once stored, and listeners (the rooms) hear about it. Nothing here waits on a thread for storage.
 */
public final class AvailabilityMatrix {
  private static final Logger log = LoggerFactory.getLogger(AvailabilityMatrix.class);

  private final AvailabilityStore store;
  private final Executor executor;
  private final AsyncLoadingCache<String, TitleAvailability> cache;
  private final AtomicLong refreshFailures = new AtomicLong();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /** The last change made through this matrix; the next one starts after it. */
  @GuardedBy("this")
  private CompletableFuture<?> changes = CompletableFuture.completedFuture(null);

  /**
   * @param executor runs background refreshes and completes every answer read from storage, never a
   *     driver thread (tests pass a direct executor)
   */
  public AvailabilityMatrix(
      AvailabilityStore store,
      long maximumTitles,
      Duration refreshAfter,
      Ticker ticker,
      Executor executor) {
    this.store = Objects.requireNonNull(store);
    this.executor = Objects.requireNonNull(executor);
    cache =
        Caffeine.newBuilder()
            .maximumSize(maximumTitles)
            .refreshAfterWrite(refreshAfter)
            .ticker(ticker)
            .executor(executor)
            .recordStats()
            .buildAsync(
                new AsyncCacheLoader<>() {
                  @Override
                  public CompletableFuture<TitleAvailability> asyncLoad(
                      String titleId, Executor loadExecutor) {
                    return read(titleId);
                  }

                  @Override
                  public CompletableFuture<TitleAvailability> asyncReload(
                      String titleId, TitleAvailability old, Executor loadExecutor) {
                    return read(titleId)
                        .whenComplete(
                            (fresh, failure) -> {
                              if (failure != null) {
                                // Caffeine keeps the old value when a reload fails; say so.
                                refreshFailures.incrementAndGet();
                                log.warn(
                                    "Refreshing the availability of '{}' failed ({}); serving the"
                                        + " previous value",
                                    titleId,
                                    failure.toString());
                              }
                            });
                  }
                });
  }

  /**
   * The licence windows of a title by region. Complete when returned if the title is cached (nearly
   * always); a cold title is read once however many ask, and completes on the executor.
   */
  public CompletableFuture<TitleAvailability> of(String titleId) {
    return cache.get(titleId);
  }

  /** Sets (replaces) the window of one region; effective on this server once stored. */
  public CompletionStage<TitleAvailability> set(
      String titleId, String region, LicenceWindow window) {
    return change(titleId, () -> store.put(titleId, region, window));
  }

  /** Removes a region's window: the title is no longer available there. */
  public CompletionStage<TitleAvailability> clear(String titleId, String region) {
    return change(titleId, () -> store.remove(titleId, region));
  }

  /** Loads every title of the matrix into the cache (a cold start, or a benchmark). */
  public CompletionStage<Integer> loadAll() {
    return StorageAnswers.onto(executor, store.all())
        .thenApply(
            all -> {
              all.forEach(
                  (title, windows) ->
                      cache.synchronous().put(title, new TitleAvailability(title, windows)));
              return all.size();
            });
  }

  /** Called with the title id after every change made through this matrix. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  public CacheStats stats() {
    return cache.synchronous().stats();
  }

  public long refreshFailures() {
    return refreshFailures.get();
  }

  /**
   * Writes, then re-reads the changed title (the admin's call, never a room lock) and replaces the
   * cached value, rather than invalidating it: the next reader, maybe a room, must not be the one
   * to wait for Cassandra. Then the listeners (the rooms) hear of it. Changes made here run one
   * after another: two at once could put their re-readings in the cache in the wrong order and
   * leave the older one there until the next refresh.
   */
  private CompletionStage<TitleAvailability> change(
      String titleId, Supplier<CompletionStage<Void>> write) {
    CompletableFuture<TitleAvailability> changed;
    synchronized (this) {
      changed =
          changes
              .handle((previous, failure) -> null) // a failed change does not stop the next
              .thenCompose(go -> StorageAnswers.onto(executor, write.get()))
              .thenCompose(written -> read(titleId))
              .thenApply(
                  fresh -> {
                    cache.synchronous().put(titleId, fresh);
                    listeners.forEach(l -> l.accept(titleId));
                    return fresh;
                  });
      changes = changed;
    }
    return changed;
  }

  private CompletableFuture<TitleAvailability> read(String titleId) {
    return StorageAnswers.onto(executor, store.windowsOf(titleId))
        .thenApply(windows -> new TitleAvailability(titleId, windows));
  }
}
