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
  public Optional<Title> find(String titleId) {
    return Optional.ofNullable(session.execute(selectTitle.bind(titleId)).one())
        .map(CassandraTitleStore::title);
  }

  @Override
  public void put(Title title) {
    session.execute(
        insertTitle.bind(
            title.titleId(),
            title.name(),
            title.durationMs(),
            title.mediaUrl(),
            title.description(),
            title.year()));
  }

  @Override
  public List<Title> all() {
    List<Title> all = new ArrayList<>();
    for (Row row : session.execute(selectAll.bind())) {
      all.add(title(row));
    }
    return all;
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
