package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.watchparty.server.catalog.AvailabilityStore;
import io.watchparty.server.catalog.LicenceWindow;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The availability matrix in the {@code title_availability} table: one partition per title, one row
 * per region.
 */
public final class CassandraAvailabilityStore implements AvailabilityStore {
  private final CqlSession session;
  private final PreparedStatement selectTitle;
  private final PreparedStatement selectAll;
  private final PreparedStatement upsert;
  private final PreparedStatement delete;

  public CassandraAvailabilityStore(CqlSession session) {
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
                + " VALUES (?, ?, ?, ?)");
    delete = session.prepare("DELETE FROM title_availability WHERE title_id = ? AND region = ?");
  }

  @Override
  public CompletionStage<Map<String, LicenceWindow>> windowsOf(String titleId) {
    Map<String, LicenceWindow> windows = new HashMap<>();
    return EveryRow.of(
            session.executeAsync(selectTitle.bind(titleId)),
            row -> windows.put(row.getString("region"), window(row)))
        .thenApply(done -> windows);
  }

  @Override
  public CompletionStage<Map<String, Map<String, LicenceWindow>>> all() {
    Map<String, Map<String, LicenceWindow>> all = new HashMap<>();
    return EveryRow.of(
            session.executeAsync(selectAll.bind()),
            row ->
                all.computeIfAbsent(row.getString("title_id"), t -> new HashMap<>())
                    .put(row.getString("region"), window(row)))
        .thenApply(done -> all);
  }

  /**
   * One insert of the row with both bounds: an open end is written as null, which clears the bound
   * a previous window had in the same write (a cell tombstone, a few per licence change). A delete
   * then an insert was two writes a reader could fall between, and a delete and an insert in one
   * batch share a timestamp, where the delete wins.
   */
  @Override
  public CompletionStage<Void> put(String titleId, String region, LicenceWindow window) {
    return session
        .executeAsync(
            upsert.bind(titleId, region, window.from().orElse(null), window.until().orElse(null)))
        .thenApply(written -> null);
  }

  @Override
  public CompletionStage<Void> remove(String titleId, String region) {
    return session.executeAsync(delete.bind(titleId, region)).thenApply(written -> null);
  }

  private static LicenceWindow window(Row row) {
    return new LicenceWindow(
        Optional.ofNullable(row.getInstant("available_from")),
        Optional.ofNullable(row.getInstant("available_until")));
  }
}
