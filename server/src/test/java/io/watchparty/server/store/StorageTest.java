package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class StorageTest {

  @Test
  void createsTheKeyspaceWithSimpleStrategyOnTheLocalNode() {
    assertThat(Storage.createKeyspace(StorageSettings.defaults()))
        .isEqualTo(
            "CREATE KEYSPACE IF NOT EXISTS watchparty WITH replication ="
                + " {'class': 'SimpleStrategy', 'replication_factor': 1}");
  }

  @Test
  void createsTheKeyspaceInTheDatacenterOfACluster() {
    StorageSettings defaults = StorageSettings.defaults();
    StorageSettings cluster =
        new StorageSettings(
            List.of(InetSocketAddress.createUnresolved("db1", 9042)),
            "eu-west",
            "parties",
            3,
            defaults.local());

    assertThat(Storage.createKeyspace(cluster))
        .isEqualTo(
            "CREATE KEYSPACE IF NOT EXISTS parties WITH replication ="
                + " {'class': 'NetworkTopologyStrategy', 'eu-west': 3}");
  }
}
