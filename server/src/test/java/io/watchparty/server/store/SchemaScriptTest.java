package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SchemaScriptTest {

  private static final String HISTORY =
      "CREATE TABLE IF NOT EXISTS schema_history (v int PRIMARY KEY);";

  @Test
  void splitsStatementsAtSemicolonsThatEndALine() {
    String script =
        """
        -- Rooms and their members.
        CREATE TABLE IF NOT EXISTS rooms (
            id uuid PRIMARY KEY,
            -- shown in the directory
            title text
        ) WITH comment = 'one row; per room';

          -- indented comment
        CREATE TABLE IF NOT EXISTS members (room uuid, user text, PRIMARY KEY (room, user));\t
        ;
        """;

    assertThat(SchemaScript.split("V002__rooms.cql", script))
        .containsExactly(
            """
            CREATE TABLE IF NOT EXISTS rooms (
                id uuid PRIMARY KEY,
                title text
            ) WITH comment = 'one row; per room'""",
            "CREATE TABLE IF NOT EXISTS members (room uuid, user text, PRIMARY KEY (room, user))");
  }

  @Test
  void readsWindowsLineEndings() {
    assertThat(SchemaScript.split("V002__x.cql", "-- c\r\nCREATE TABLE t (\r\n a int);\r\n"))
        .containsExactly("CREATE TABLE t (\n a int)");
  }

  @Test
  void rejectsAStatementWithoutFinalSemicolon() {
    assertThatThrownBy(
            () ->
                SchemaScript.split(
                    "V002__rooms.cql", "CREATE TABLE a (x int PRIMARY KEY);\nDROP TABLE b\n"))
        .hasMessage(
            "Schema script V002__rooms.cql ends with a statement that has no ';' at the end of its"
                + " last line: DROP TABLE b");
  }

  @Test
  void checksumIgnoresCommentsAndBlankLinesButNotStatements() {
    SchemaScript original =
        SchemaScript.parse("V002__rooms.cql", "CREATE TABLE a (x int PRIMARY KEY);");
    SchemaScript commented =
        SchemaScript.parse(
            "V002__rooms.cql", "-- why\n\nCREATE TABLE a (x int PRIMARY KEY);  \n\n-- end\n");
    SchemaScript changed =
        SchemaScript.parse("V002__rooms.cql", "CREATE TABLE a (x bigint PRIMARY KEY);");

    assertThat(commented.checksum()).isEqualTo(original.checksum());
    assertThat(changed.checksum()).isNotEqualTo(original.checksum());
    assertThat(original.checksum()).hasSize(64);
  }

  @Test
  void loadsTheIndexInOrder() {
    Map<String, String> files =
        Map.of(
            "V001__schema_history.cql", HISTORY,
            "V002__rooms.cql", "CREATE TABLE IF NOT EXISTS rooms (id uuid PRIMARY KEY);",
            "V010__chat_messages.cql", "CREATE TABLE IF NOT EXISTS chat (id uuid PRIMARY KEY);");
    String index =
        """
        # comment
        V001__schema_history.cql

          V002__rooms.cql
        V010__chat_messages.cql
        """;

    List<SchemaScript> scripts =
        SchemaScript.load(index, name -> Optional.ofNullable(files.get(name)));

    assertThat(scripts).extracting(SchemaScript::version).containsExactly(1, 2, 10);
    assertThat(scripts)
        .extracting(SchemaScript::description)
        .containsExactly("schema history", "rooms", "chat messages");
    assertThat(scripts.get(2).statements())
        .containsExactly("CREATE TABLE IF NOT EXISTS chat (id uuid PRIMARY KEY)");
  }

  @Test
  void rejectsVersionsOutOfOrder() {
    Map<String, String> files =
        Map.of(
            "V001__schema_history.cql", HISTORY,
            "V003__b.cql", "SELECT 1;",
            "V002__a.cql", "SELECT 2;");

    assertThatThrownBy(
            () ->
                SchemaScript.load(
                    "V001__schema_history.cql\nV003__b.cql\nV002__a.cql",
                    name -> Optional.ofNullable(files.get(name))))
        .hasMessage(
            "db/schema/index.txt lists V002__a.cql after V003__b.cql: versions must increase down"
                + " the list");
  }

  @Test
  void rejectsAListedScriptThatIsMissing() {
    assertThatThrownBy(
            () ->
                SchemaScript.load(
                    "V001__schema_history.cql\nV002__rooms.cql",
                    name -> name.startsWith("V001") ? Optional.of(HISTORY) : Optional.empty()))
        .hasMessage("db/schema/index.txt lists V002__rooms.cql, which is not in db/schema");
  }

  @Test
  void rejectsAMisnamedScript() {
    assertThatThrownBy(() -> SchemaScript.parse("002-rooms.cql", "SELECT 1;"))
        .hasMessage("Schema script 002-rooms.cql is not named V<version>__<description>.cql");
  }

  @Test
  void requiresTheHistoryScriptFirst() {
    assertThatThrownBy(() -> SchemaScript.load("V002__rooms.cql", name -> Optional.of("SELECT 1;")))
        .hasMessage(
            "db/schema/index.txt must start with V001__schema_history.cql, which creates the"
                + " history table");
  }

  @Test
  void shipsTheHistoryScriptFirstOnTheClasspath() {
    List<SchemaScript> scripts = SchemaScript.loadAll();

    assertThat(scripts.getFirst().fileName()).isEqualTo("V001__schema_history.cql");
    assertThat(scripts.getFirst().statements())
        .singleElement()
        .asString()
        .startsWith("CREATE TABLE IF NOT EXISTS schema_history");
  }
}
