package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.helidon.config.Config;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two local nodes on two loopback addresses, same ports, their own directories, form one ring: what
 * a fleet test on one machine stands on. The shared node of the test run (127.0.0.1) is not
 * touched: this ring lives on 127.0.0.2 and 127.0.0.3.
 */
class LocalRingIT {
  private static final String FIRST = "127.0.0.2";
  private static final String SECOND = "127.0.0.3";
  private static final Duration RING_REQUEST_TIMEOUT = Duration.ofSeconds(30);

  @Test
  @Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
  void twoNodesOnTwoLoopbackAddressesFormOneRingThatReplicatesWrites(@TempDir Path directory)
      throws IOException {
    LocalNodeSettings base =
        StorageSettings.from(Config.create())
            .local()
            .withPorts(freePort(FIRST, SECOND), freePort(FIRST, SECOND))
            .withHeap("512M");
    LocalNodeSettings first =
        base.withDirectory(directory.resolve("first"))
            .withRing(new LocalNodeSettings.Ring(FIRST, List.of(FIRST), OptionalLong.of(0)));
    LocalNodeSettings second =
        base.withDirectory(directory.resolve("second"))
            .withRing(
                new LocalNodeSettings.Ring(
                    SECOND, List.of(FIRST), OptionalLong.of(Long.MIN_VALUE / 2)));

    try (LocalCassandraNode one = LocalCassandraNode.start(first);
        LocalCassandraNode two = LocalCassandraNode.start(second);
        CqlSession session =
            CqlSession.builder()
                .addContactPoint(one.address())
                .withLocalDatacenter("datacenter1")
                .build()) {
      assertThat(one.startedHere()).isTrue();
      assertThat(two.startedHere()).isTrue();
      assertThat(two.address()).isEqualTo(new InetSocketAddress(SECOND, base.port()));

      // Each node knows the other as a peer, with the token it was given (each asked itself: the
      // driver would otherwise send the query to either node). The first node learns of the
      // second by gossip, which may come a moment after the second answers CQL: awaited, bounded.
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(peersOf(session, one))
                    .containsExactly(Map.entry(SECOND, Long.MIN_VALUE / 2));
                assertThat(peersOf(session, two)).containsExactly(Map.entry(FIRST, 0L));
              });

      // A write both replicas acknowledged is read back from the second node alone.
      // Bounds on a busy machine, not expectations: a new ring's schema changes wait for both
      // nodes to agree, which the driver's 2 s default did not always cover on CI.
      session.execute(
          SimpleStatement.newInstance(
                  "CREATE KEYSPACE ring WITH replication = {'class': 'SimpleStrategy',"
                      + " 'replication_factor': 2}")
              .setTimeout(RING_REQUEST_TIMEOUT));
      session.execute(
          SimpleStatement.newInstance("CREATE TABLE ring.notes (id int PRIMARY KEY, text text)")
              .setTimeout(RING_REQUEST_TIMEOUT));
      session.execute(
          SimpleStatement.newInstance("INSERT INTO ring.notes (id, text) VALUES (1, 'both')")
              .setConsistencyLevel(ConsistencyLevel.ALL)
              .setTimeout(RING_REQUEST_TIMEOUT));
      try (CqlSession onSecond =
          CqlSession.builder()
              .addContactPoint(two.address())
              .withLocalDatacenter("datacenter1")
              .build()) {
        Row row =
            onSecond
                .execute(
                    SimpleStatement.newInstance("SELECT text FROM ring.notes WHERE id = 1")
                        .setConsistencyLevel(ConsistencyLevel.ONE)
                        .setTimeout(RING_REQUEST_TIMEOUT)
                        .setNode(onSecond.getMetadata().findNode(two.address()).orElseThrow()))
                .one();
        assertThat(row).isNotNull();
        assertThat(row.getString("text")).isEqualTo("both");
      }
    }
  }

  /** The peers {@code node} knows: address to token. */
  private static Map<String, Long> peersOf(CqlSession session, LocalCassandraNode node) {
    Map<String, Long> peers = new HashMap<>();
    for (Row row :
        session.execute(
            SimpleStatement.newInstance("SELECT peer, tokens FROM system.peers_v2")
                .setNode(session.getMetadata().findNode(node.address()).orElseThrow()))) {
      for (String token : row.getSet("tokens", String.class)) {
        peers.put(row.getInetAddress("peer").getHostAddress(), Long.parseLong(token));
      }
    }
    return peers;
  }

  /** A port free on both addresses. */
  private static int freePort(String... hosts) throws IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(hosts[0]))) {
        int port = socket.getLocalPort();
        if (freeOn(hosts[1], port)) {
          return port;
        }
      }
    }
  }

  private static boolean freeOn(String host, int port) {
    try {
      new ServerSocket(port, 1, InetAddress.getByName(host)).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
