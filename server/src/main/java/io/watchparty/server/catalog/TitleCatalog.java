package io.watchparty.server.catalog;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
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

/**
 * The titles of the catalog, kept in a {@link TitleStore} and read through a Caffeine cache, so
 * that the room paths (create, change title, seek bounds) do not touch Cassandra once warm. Entries
 * refresh in the background; a change made through {@link #put} takes effect at once.
 */
public final class TitleCatalog {
  private final TitleStore store;
  private final LoadingCache<String, Optional<Title>> titles;

  public TitleCatalog(TitleStore store, long maximumSize, Duration refreshAfter, Ticker ticker) {
    this.store = Objects.requireNonNull(store);
    this.titles =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .refreshAfterWrite(refreshAfter)
            .ticker(ticker)
            .recordStats()
            .build(store::find);
  }

  /** The title, if the catalog has it. */
  public Optional<Title> find(String titleId) {
    if (!Title.isValidId(titleId)) {
      return Optional.empty();
    }
    return titles.get(titleId);
  }

  /**
   * The title, or a refusal: MALFORMED_ID for a malformed id, TITLE_NOT_FOUND for an unknown one.
   */
  public Title require(String titleId) {
    if (!Title.isValidId(titleId)) {
      throw new RefusedException(
          ErrorReason.MALFORMED_ID, "title id " + Echo.quoted(titleId) + " is malformed");
    }
    return find(titleId)
        .orElseThrow(
            () ->
                new RefusedException(
                    ErrorReason.TITLE_NOT_FOUND,
                    "no title '" + titleId + "' in the catalog",
                    Map.of("title_id", titleId)));
  }

  /** Adds or replaces a title; visible to every lookup on this server at once. */
  public void put(Title title) {
    store.put(title);
    titles.invalidate(title.titleId());
  }

  /**
   * Every title, by name. A full read of the (small) titles table: for the catalog page, not for
   * the room paths.
   */
  public List<Title> all() {
    return store.all().stream()
        .sorted(Comparator.comparing(Title::name).thenComparing(Title::titleId))
        .toList();
  }

  public CacheStats stats() {
    return titles.stats();
  }
}
