package io.watchparty.server.catalog;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.RefusedException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The titles of the catalog, kept in a {@link TitleStore} and read through a Caffeine cache, so
 * that the room paths (create, change title, seek bounds) do not touch Cassandra once warm. Entries
 * refresh in the background; a change made through {@link #put} takes effect at once.
 *
 * <p>Lookups answer with futures: a warm one is complete when returned, so its caller goes on
 * inline; a cold one is read once however many ask (the cache's single flight) and completes on
 * {@code executor}, never on the storage driver's threads, so what callers chain on it may take a
 * room's lock.
 */
public final class TitleCatalog {
  private final TitleStore store;
  private final Executor executor;
  private final AsyncLoadingCache<String, Optional<Title>> titles;

  public TitleCatalog(
      TitleStore store, long maximumSize, Duration refreshAfter, Ticker ticker, Executor executor) {
    this.store = Objects.requireNonNull(store);
    this.executor = Objects.requireNonNull(executor);
    this.titles =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .refreshAfterWrite(refreshAfter)
            .ticker(ticker)
            .executor(executor)
            .recordStats()
            .buildAsync(
                (titleId, loadExecutor) -> StorageAnswers.onto(executor, store.find(titleId)));
  }

  /** The title, if the catalog has it. */
  public CompletableFuture<Optional<Title>> find(String titleId) {
    if (!Title.isValidId(titleId)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return titles.get(titleId);
  }

  /**
   * The title, or a refusal: MALFORMED_ID for a malformed id, TITLE_NOT_FOUND for an unknown one.
   */
  public CompletableFuture<Title> require(String titleId) {
    if (!Title.isValidId(titleId)) {
      return CompletableFuture.failedFuture(
          new RefusedException(
              ErrorReason.MALFORMED_ID, "title id " + Echo.quoted(titleId) + " is malformed"));
    }
    return find(titleId)
        .thenApply(
            found ->
                found.orElseThrow(
                    () ->
                        new RefusedException(
                            ErrorReason.TITLE_NOT_FOUND,
                            "no title '" + titleId + "' in the catalog",
                            Map.of("title_id", titleId))));
  }

  /** Adds or replaces a title; visible to every lookup on this server once stored. */
  public CompletionStage<Void> put(Title title) {
    return StorageAnswers.onto(executor, store.put(title))
        .thenRun(() -> titles.synchronous().invalidate(title.titleId()));
  }

  /**
   * Every title, by name. A full read of the (small) titles table: for the catalog page, not for
   * the room paths.
   */
  public CompletionStage<List<Title>> all() {
    return StorageAnswers.onto(executor, store.all())
        .thenApply(
            all ->
                all.stream()
                    .sorted(Comparator.comparing(Title::name).thenComparing(Title::titleId))
                    .toList());
  }

  public CacheStats stats() {
    return titles.synchronous().stats();
  }
}
