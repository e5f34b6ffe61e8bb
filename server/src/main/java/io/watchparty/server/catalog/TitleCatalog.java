package io.watchparty.server.catalog;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.RefusedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The titles of the catalog, stored in Cassandra and read through a Caffeine cache, so that the
 * room paths (create, change title, seek bounds) do not touch Cassandra once warm. Entries refresh
 * in the background; a change made through {@link #put} takes effect at once.
 */
public final class TitleCatalog {
  private final CqlSession session;
  private final PreparedStatement selectTitle;
  private final PreparedStatement insertTitle;
  private final PreparedStatement selectAll;
  private final LoadingCache<String, Optional<Title>> titles;

  public TitleCatalog(CqlSession session, long maximumSize, Duration refreshAfter, Ticker ticker) {
    this.session = Objects.requireNonNull(session);
    this.selectTitle =
        session.prepare(
            "SELECT title_id, name, duration_ms, media_url, description, year FROM titles"
                + " WHERE title_id = ?");
    this.insertTitle =
        session.prepare(
            "INSERT INTO titles (title_id, name, duration_ms, media_url, description, year)"
                + " VALUES (?, ?, ?, ?, ?, ?)");
    this.selectAll =
        session.prepare(
            "SELECT title_id, name, duration_ms, media_url, description, year FROM titles");
    this.titles =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .refreshAfterWrite(refreshAfter)
            .ticker(ticker)
            .recordStats()
            .build(this::load);
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
    session.execute(
        insertTitle.bind(
            title.titleId(),
            title.name(),
            title.durationMs(),
            title.mediaUrl(),
            title.description(),
            title.year()));
    titles.invalidate(title.titleId());
  }

  /**
   * Every title, by name. A full read of the (small) titles table: for the catalog page, not for
   * the room paths.
   */
  public List<Title> all() {
    List<Title> all = new ArrayList<>();
    for (Row row : session.execute(selectAll.bind())) {
      all.add(title(row));
    }
    all.sort(Comparator.comparing(Title::name).thenComparing(Title::titleId));
    return all;
  }

  public CacheStats stats() {
    return titles.stats();
  }

  private Optional<Title> load(String titleId) {
    return Optional.ofNullable(session.execute(selectTitle.bind(titleId)).one())
        .map(TitleCatalog::title);
  }

  private static Title title(Row row) {
    return new Title(
        row.getString("title_id"),
        row.getString("name"),
        row.getLong("duration_ms"),
        row.getString("media_url"),
        row.getString("description"),
        row.getInt("year"));
  }
}
