package io.watchparty.server.catalog;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
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

  private Optional<Title> load(String titleId) {
    Row row = session.execute(selectTitle.bind(titleId)).one();
    if (row == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Title(
            row.getString("title_id"),
            row.getString("name"),
            row.getLong("duration_ms"),
            row.getString("media_url"),
            row.getString("description"),
            row.getInt("year")));
  }
}
