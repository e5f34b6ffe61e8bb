package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.ReadFailureException;
import com.datastax.oss.driver.api.core.servererrors.ServerError;
import com.datastax.oss.driver.api.core.servererrors.WriteFailureException;
import com.datastax.oss.driver.api.core.servererrors.WriteType;
import java.net.InetAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The failures a just-formed ring answers while a node does not know a new table yet. */
class SchemaMigratorTest {
  private static final InetAddress REPLICA = InetAddress.getLoopbackAddress();
  private static final int INCOMPATIBLE_SCHEMA = 3;
  private static final int TIMEOUT = 2;

  @Test
  void aReplicaFailingWithIncompatibleSchemaMeansTheTableIsNotKnownThereYet() {
    // "Cassandra failure during read query at consistency LOCAL_QUORUM (2 responses were required
    // but only 1 replica responded, 1 failed)": FleetIT's first instance exited on it in CI.
    assertThat(
            SchemaMigrator.tableUnknownSomewhere(
                new ReadFailureException(
                    null,
                    ConsistencyLevel.LOCAL_QUORUM,
                    1,
                    2,
                    1,
                    false,
                    Map.of(REPLICA, INCOMPATIBLE_SCHEMA))))
        .isTrue();
    assertThat(
            SchemaMigrator.tableUnknownSomewhere(
                new WriteFailureException(
                    null,
                    ConsistencyLevel.LOCAL_QUORUM,
                    1,
                    2,
                    WriteType.SIMPLE,
                    1,
                    Map.of(REPLICA, INCOMPATIBLE_SCHEMA))))
        .isTrue();
  }

  @Test
  void aReplicaFailingForAnotherReasonIsAFailure() {
    assertThat(
            SchemaMigrator.tableUnknownSomewhere(
                new ReadFailureException(
                    null, ConsistencyLevel.LOCAL_QUORUM, 1, 2, 1, false, Map.of(REPLICA, TIMEOUT))))
        .isFalse();
  }

  @Test
  void theCoordinatorNotKnowingTheTableIsToldEitherWay() {
    assertThat(
            SchemaMigrator.tableUnknownSomewhere(
                new InvalidQueryException(null, "table schema_history does not exist")))
        .isTrue();
    assertThat(
            SchemaMigrator.tableUnknownSomewhere(
                new ServerError(null, "java.lang.RuntimeException: Unknown CF 1f2e")))
        .isTrue();
    assertThat(SchemaMigrator.tableUnknownSomewhere(new ServerError(null, "disk full"))).isFalse();
  }
}
