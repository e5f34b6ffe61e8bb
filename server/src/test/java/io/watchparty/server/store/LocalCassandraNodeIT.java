package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import io.helidon.config.Config;
import io.watchparty.server.store.CqlPortProbe.PortState;
import io.watchparty.server.testing.CassandraExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(CassandraExtension.class)
class LocalCassandraNodeIT {
  private static final Duration PROBE = Duration.ofSeconds(2);

  private static LocalNodeSettings configured() {
    return StorageSettings.from(Config.create()).local();
  }

  @Test
  void reusesTheNodeThatAlreadyAnswersAndLeavesItRunning() {
    // The extension has started (or found) the node of the test run on the configured port.
    LocalNodeSettings settings = configured();

    try (LocalCassandraNode node = LocalCassandraNode.start(settings)) {
      assertThat(node.startedHere()).isFalse();
      assertThat(node.pid()).isEmpty();
      assertThat(node.address()).isEqualTo(new InetSocketAddress("127.0.0.1", settings.port()));
    }

    assertThat(CqlPortProbe.probe(new InetSocketAddress("127.0.0.1", settings.port()), PROBE))
        .isEqualTo(PortState.CASSANDRA);
  }

  @Test
  void keepsItsDataAcrossAStopOrAKillAndAStart(@TempDir Path directory) throws IOException {
    LocalNodeSettings settings =
        configured().withDirectory(directory).withPorts(freePort(), freePort()).withHeap("512M");
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", settings.port());

    // As `LocalCassandraCommand start` then `stop` do from a shell.
    LocalCassandraNode detached = LocalCassandraNode.start(settings, true);
    assertThat(detached.startedHere()).isTrue();
    assertThat(directory.resolve("cassandra.pid"))
        .content()
        .isEqualTo(Long.toString(detached.pid().orElseThrow()));
    try (CqlSession session = connect(address)) {
      session.execute(
          "CREATE KEYSPACE it_restart WITH replication = {'class': 'SimpleStrategy',"
              + " 'replication_factor': 1}");
      session.execute("CREATE TABLE it_restart.notes (id int PRIMARY KEY, body text)");
      session.execute("INSERT INTO it_restart.notes (id, body) VALUES (1, 'still here')");
    }
    assertThat(LocalCassandraNode.stopRecorded(settings)).isTrue();
    assertThat(CqlPortProbe.probe(address, PROBE)).isEqualTo(PortState.FREE);
    assertThat(directory.resolve("cassandra.pid")).doesNotExist();

    LocalCassandraNode attached = LocalCassandraNode.start(settings);
    try (attached;
        CqlSession session = connect(address)) {
      assertThat(attached.startedHere()).isTrue();
      Row row = session.execute("SELECT body FROM it_restart.notes WHERE id = 1").one();
      assertThat(row.getString("body")).isEqualTo("still here");
      session.execute("INSERT INTO it_restart.notes (id, body) VALUES (2, 'acknowledged')");
    }
    // close() killed the node: the acknowledged insert is in its commit log only.
    assertThat(CqlPortProbe.probe(address, PROBE)).isEqualTo(PortState.FREE);
    assertThat(ProcessHandle.of(attached.pid().orElseThrow()).filter(ProcessHandle::isAlive))
        .isEmpty();
    assertThat(directory.resolve("cassandra.pid")).doesNotExist();

    try (LocalCassandraNode again = LocalCassandraNode.start(settings);
        CqlSession session = connect(address)) {
      assertThat(again.startedHere()).isTrue();
      assertThat(
              session.execute("SELECT id, body FROM it_restart.notes").all().stream()
                  .map(r -> r.getInt("id") + " " + r.getString("body")))
          .containsExactlyInAnyOrder("1 still here", "2 acknowledged");
    }
    assertThat(CqlPortProbe.probe(address, PROBE)).isEqualTo(PortState.FREE);
  }

  private static CqlSession connect(InetSocketAddress address) {
    // Schema changes on a node that has just started can take longer than the driver's default
    // 2 s on a busy machine (seen once); this test is about the data, not the speed.
    return CqlSession.builder()
        .addContactPoint(address)
        .withLocalDatacenter(Storage.LOCAL_NODE_DATACENTER)
        .withConfigLoader(
            DriverConfigLoader.programmaticBuilder()
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30))
                .build())
        .build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
