package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.helidon.config.Config;
import io.watchparty.server.testing.CassandraExtension;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Against a real node; each test uses its own script versions and tables of the class keyspace. */
@ExtendWith(CassandraExtension.class)
class StorageIT {
  private static final Instant NOON = Instant.parse("2026-01-01T12:00:00Z");

  private static List<SchemaScript> shippedPlus(String fileName, String text) {
    List<SchemaScript> scripts = new ArrayList<>(SchemaScript.loadAll());
    scripts.add(SchemaScript.parse(fileName, text));
    return scripts;
  }

  private static SchemaMigrator migrator(CqlSession session) {
    return new SchemaMigrator(session, Clock.fixed(NOON, ZoneOffset.UTC));
  }

  private static Map<Integer, Row> history(CqlSession session) {
    Map<Integer, Row> rows = new HashMap<>();
    session
        .execute("SELECT version, description, script, checksum, applied_at FROM schema_history")
        .forEach(row -> rows.put(row.getInt("version"), row));
    return rows;
  }

  @Test
  void opensTheKeyspaceWithEveryShippedScriptRecordedOnce(Storage storage) {
    Map<Integer, Row> before = history(storage.session());

    try (Storage again =
        Storage.open(StorageSettings.from(Config.create()).withKeyspace(storage.keyspace()))) {
      assertThat(again.keyspace()).isEqualTo(storage.keyspace());
      assertThat(again.session().getKeyspace())
          .hasValueSatisfying(k -> assertThat(k.asInternal()).isEqualTo(storage.keyspace()));
    }

    Map<Integer, Row> after = history(storage.session());
    for (SchemaScript script : SchemaScript.loadAll()) {
      Row row = after.get(script.version());
      assertThat(row).as(script.fileName()).isNotNull();
      assertThat(row.getString("script")).isEqualTo(script.fileName());
      assertThat(row.getString("description")).isEqualTo(script.description());
      assertThat(row.getString("checksum")).isEqualTo(script.checksum());
      // Opening again applied nothing: the first application's time stays.
      assertThat(row.getInstant("applied_at"))
          .isEqualTo(before.get(script.version()).getInstant("applied_at"));
    }
  }

  @Test
  void createsTheKeyspaceWithOneReplicaOnTheLocalNode(Storage storage) {
    Row keyspace =
        storage
            .session()
            .execute(
                "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
                storage.keyspace())
            .one();

    assertThat(keyspace.getMap("replication", String.class, String.class))
        .containsEntry("class", "org.apache.cassandra.locator.SimpleStrategy")
        .containsEntry("replication_factor", "1");
  }

  @Test
  void appliesANewScriptOnceAndThenNothing(CqlSession session) {
    List<SchemaScript> scripts =
        shippedPlus(
            "V900__it_notes.cql",
            """
            -- A table only this test uses.
            CREATE TABLE IF NOT EXISTS it_notes (
                id uuid PRIMARY KEY,
                body text
            );
            CREATE TABLE IF NOT EXISTS it_notes_by_day (day date, id uuid, PRIMARY KEY (day, id));
            """);

    List<SchemaScript> first = migrator(session).migrate(scripts);
    List<SchemaScript> second = migrator(session).migrate(scripts);

    assertThat(first).extracting(SchemaScript::fileName).containsExactly("V900__it_notes.cql");
    assertThat(second).isEmpty();
    Row recorded = history(session).get(900);
    assertThat(recorded.getString("description")).isEqualTo("it notes");
    assertThat(recorded.getInstant("applied_at")).isEqualTo(NOON);
    assertThat(session.getMetadata().getKeyspace(session.getKeyspace().orElseThrow()))
        .hasValueSatisfying(k -> assertThat(k.getTable("it_notes_by_day")).isPresent());
  }

  @Test
  void refusesToStartWhenAnAppliedScriptChanged(CqlSession session) {
    migrator(session)
        .migrate(
            shippedPlus(
                "V901__it_rooms.cql", "CREATE TABLE IF NOT EXISTS it_rooms (id int PRIMARY KEY);"));
    List<SchemaScript> edited =
        shippedPlus(
            "V901__it_rooms.cql",
            "CREATE TABLE IF NOT EXISTS it_rooms (id int PRIMARY KEY, title text);");

    assertThatThrownBy(() -> migrator(session).migrate(edited))
        .isInstanceOf(StorageException.class)
        .hasMessageStartingWith(
            "Schema script V901__it_rooms.cql was changed after it was applied to keyspace "
                + session.getKeyspace().orElseThrow().asInternal()
                + " (checksum ")
        .hasMessageEndingWith("now): restore it and put the change in a new script.");
  }

  @Test
  void resumesAScriptWhoseTableAlreadyExists(CqlSession session) {
    // As if a first run had died after the first statement.
    session.execute("CREATE TABLE it_half (id int PRIMARY KEY)");

    List<SchemaScript> applied =
        migrator(session)
            .migrate(
                shippedPlus(
                    "V902__it_half.cql",
                    """
                    CREATE TABLE it_half (id int PRIMARY KEY);
                    CREATE TABLE it_rest (id int PRIMARY KEY);
                    """));

    assertThat(applied).extracting(SchemaScript::version).containsExactly(902);
    assertThat(session.execute("SELECT count(*) FROM it_rest").one().getLong(0)).isZero();
  }

  @Test
  void reportsTheStatementThatFails(CqlSession session) {
    assertThatThrownBy(
            () ->
                migrator(session)
                    .migrate(
                        shippedPlus(
                            "V903__it_broken.cql",
                            "CREATE TABLE IF NOT EXISTS it_ok (id int PRIMARY KEY);\n"
                                + "ALTER TABLE it_missing ADD title text;")))
        .isInstanceOf(StorageException.class)
        .hasMessageStartingWith(
            "Schema script V903__it_broken.cql failed at statement 2 (ALTER TABLE it_missing ADD"
                + " title text): ");
    assertThat(history(session)).doesNotContainKey(903);
  }

  @Test
  void writesAndReadsARow(CqlSession session) {
    migrator(session)
        .migrate(
            shippedPlus(
                "V904__it_messages.cql",
                "CREATE TABLE IF NOT EXISTS it_messages (room uuid, id timeuuid, body text,"
                    + " PRIMARY KEY (room, id));"));
    UUID room = UUID.randomUUID();
    PreparedStatement insert =
        session.prepare("INSERT INTO it_messages (room, id, body) VALUES (?, now(), ?)");
    session.execute(insert.bind(room, "hello"));
    session.execute(insert.bind(room, "again"));

    List<String> bodies =
        session
            .execute(session.prepare("SELECT body FROM it_messages WHERE room = ?").bind(room))
            .all()
            .stream()
            .map(row -> row.getString("body"))
            .toList();

    assertThat(bodies).containsExactly("hello", "again");
  }
}
