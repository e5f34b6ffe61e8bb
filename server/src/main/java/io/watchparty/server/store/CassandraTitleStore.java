package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.catalog.TitleStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** The catalog's titles in the {@code titles} table, one partition per title. */
public final class CassandraTitleStore implements TitleStore {
  private static final String COLUMNS = "title_id, name, duration_ms, media_url, description, year";

  private final CqlSession session;
  private final PreparedStatement selectTitle;
  private final PreparedStatement insertTitle;
  private final PreparedStatement selectAll;

  public CassandraTitleStore(CqlSession session) {
    this.session = Objects.requireNonNull(session);
    this.selectTitle = session.prepare("SELECT " + COLUMNS + " FROM titles WHERE title_id = ?");
    this.insertTitle =
        session.prepare("INSERT INTO titles (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)");
    this.selectAll = session.prepare("SELECT " + COLUMNS + " FROM titles");
  }

  @Override
  public CompletionStage<Optional<Title>> find(String titleId) {
    return session
        .executeAsync(selectTitle.bind(titleId))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(CassandraTitleStore::title));
  }

  @Override
  public CompletionStage<Void> put(Title title) {
    return session
        .executeAsync(
            insertTitle.bind(
                title.titleId(),
                title.name(),
                title.durationMs(),
                title.mediaUrl(),
                title.description(),
                title.year()))
        .thenApply(written -> null);
  }

  @Override
  public CompletionStage<List<Title>> all() {
    List<Title> all = new ArrayList<>();
    return EveryRow.of(session.executeAsync(selectAll.bind()), row -> all.add(title(row)))
        .thenApply(done -> all);
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
