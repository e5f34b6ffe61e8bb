package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.servererrors.AlreadyExistsException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.ReadFailureException;
import com.datastax.oss.driver.api.core.servererrors.ServerError;
import com.datastax.oss.driver.api.core.servererrors.WriteFailureException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the keyspace of a session up to the schema scripts ({@link SchemaScript}).
 *
 * <p>Applied scripts are recorded in the table {@code schema_history} (version, description,
 * checksum, applied_at), which the first script, {@code V001__schema_history.cql}, creates: that
 * script is therefore run on every start before the history is read, and must stay idempotent
 * ({@code IF NOT EXISTS}), like every script. A script already recorded is skipped, unless its
 * checksum changed since, which is refused: an applied script is never edited, a change is a new
 * script. A statement that fails because its table or type already exists counts as applied, so a
 * script interrupted halfway can run again.
 *
 * <p>Several servers migrating the same new keyspace at the same instant may race on the same
 * {@code CREATE}: start one first when deploying a schema change to a cluster.
 */
final class SchemaMigrator {
  private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

  // Schema changes wait for every node to agree, which takes longer than a query.
  static final Duration DDL_TIMEOUT = Duration.ofSeconds(30);

  /**
   * How long the history table may stay unknown to a node after it was created: on a ring that has
   * just formed, a node can still answer that it does not exist after the driver found the nodes
   * agreeing on the schema (seen on a fresh 3-node local ring).
   */
  static final Duration NEW_TABLE_WAIT = Duration.ofSeconds(30);

  private final CqlSession session;
  private final Clock clock;

  SchemaMigrator(CqlSession session, Clock clock) {
    this.session = Objects.requireNonNull(session, "session");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Applies the scripts not applied yet, in order.
   *
   * @return the scripts applied by this call (empty when the schema was up to date)
   * @throws StorageException when an applied script was changed or a statement fails
   */
  List<SchemaScript> migrate(List<SchemaScript> scripts) {
    String keyspace =
        session
            .getKeyspace()
            .orElseThrow(() -> new IllegalStateException("the session has no keyspace"))
            .asInternal();
    execute(scripts.getFirst());
    Map<Integer, String> applied = history();
    List<SchemaScript> appliedNow = new ArrayList<>();
    for (SchemaScript script : scripts) {
      String checksum = applied.get(script.version());
      if (checksum != null) {
        if (!checksum.equals(script.checksum())) {
          throw new StorageException(
              ("Schema script %s was changed after it was applied to keyspace %s (checksum %s then,"
                      + " %s now): restore it and put the change in a new script.")
                  .formatted(
                      script.fileName(),
                      keyspace,
                      abbreviate(checksum),
                      abbreviate(script.checksum())));
        }
        continue;
      }
      if (script.version() != scripts.getFirst().version()) {
        execute(script);
      }
      record(script);
      appliedNow.add(script);
      LOG.info("Applied schema script {} to keyspace {}", script.fileName(), keyspace);
    }
    if (!appliedNow.isEmpty() && !session.checkSchemaAgreement()) {
      LOG.warn("The Cassandra nodes do not agree on the schema of keyspace {} yet", keyspace);
    }
    return appliedNow;
  }

  private void execute(SchemaScript script) {
    int number = 0;
    for (String cql : script.statements()) {
      number++;
      try {
        session.execute(SimpleStatement.newInstance(cql).setTimeout(DDL_TIMEOUT));
      } catch (AlreadyExistsException e) {
        LOG.debug("{}: {} already exists", script.fileName(), e.getMessage());
      } catch (DriverException e) {
        throw new StorageException(
            "Schema script %s failed at statement %d (%s): %s"
                .formatted(script.fileName(), number, SchemaScript.firstLine(cql), e.getMessage()),
            e);
      }
    }
  }

  private Map<Integer, String> history() {
    return whileTableIsNew(
        () -> {
          Map<Integer, String> applied = new HashMap<>();
          for (Row row : session.execute("SELECT version, checksum FROM schema_history")) {
            applied.put(row.getInt("version"), row.getString("checksum"));
          }
          return applied;
        });
  }

  private void record(SchemaScript script) {
    whileTableIsNew(
        () ->
            session.execute(
                SimpleStatement.newInstance(
                    "INSERT INTO schema_history (version, description, script, checksum,"
                        + " applied_at) VALUES (?, ?, ?, ?, ?)",
                    script.version(),
                    script.description(),
                    script.fileName(),
                    script.checksum(),
                    clock.instant())));
  }

  /**
   * Runs {@code query} on schema_history, again for up to {@link #NEW_TABLE_WAIT} while a node does
   * not know the table yet (seen on a just-formed 3-node ring, in each of the three ways {@link
   * #tableUnknownSomewhere} names). Reading and recording the history are idempotent.
   */
  private <T> T whileTableIsNew(Supplier<T> query) {
    long deadline = System.nanoTime() + NEW_TABLE_WAIT.toNanos();
    while (true) {
      try {
        return query.get();
      } catch (DriverException e) {
        if (System.nanoTime() > deadline || !tableUnknownSomewhere(e)) {
          throw e;
        }
        LOG.info(
            "schema_history is not known to every node yet ({}); trying again", e.getMessage());
        try {
          Thread.sleep(500);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Cassandra's failure code for a replica that does not know the table (INCOMPATIBLE_SCHEMA). */
  private static final int INCOMPATIBLE_SCHEMA = 3;

  /**
   * Whether {@code e} says a node does not know a table yet: the coordinator answers that it does
   * not exist, fails with "Unknown CF", or a replica it asked fails the read or write with {@link
   * #INCOMPATIBLE_SCHEMA}.
   */
  static boolean tableUnknownSomewhere(DriverException e) {
    return switch (e) {
      case InvalidQueryException invalid -> true;
      case ServerError error -> String.valueOf(error.getMessage()).contains("Unknown CF");
      case ReadFailureException read -> read.getReasonMap().containsValue(INCOMPATIBLE_SCHEMA);
      case WriteFailureException write -> write.getReasonMap().containsValue(INCOMPATIBLE_SCHEMA);
      default -> false;
    };
  }

  private static String abbreviate(String checksum) {
    return checksum.length() > 12 ? checksum.substring(0, 12) : checksum;
  }
}
