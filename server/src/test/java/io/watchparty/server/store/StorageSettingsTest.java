package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StorageSettingsTest {

  private static StorageSettings read(Map<String, String> values) {
    return StorageSettings.from(Config.just(ConfigSources.create(values)));
  }

  @Test
  void defaultsToTheLocalNode() {
    StorageSettings settings = read(Map.of());

    assertThat(settings.hosts()).isEmpty();
    assertThat(settings.usesLocalNode()).isTrue();
    assertThat(settings.datacenter()).isEqualTo("datacenter1");
    assertThat(settings.keyspace()).isEqualTo("watchparty");
    assertThat(settings.replication()).isEqualTo(1);
    assertThat(settings.local())
        .isEqualTo(
            new LocalNodeSettings(
                9042,
                7000,
                Path.of(System.getProperty("user.home"), ".watchparty", "cassandra"),
                Optional.empty(),
                Optional.empty(),
                "1G",
                Duration.ofSeconds(180),
                LocalNodeSettings.Ring.alone("127.0.0.1")));
    assertThat(StorageSettings.defaults()).isEqualTo(settings);
  }

  @Test
  void readsEveryKey() {
    StorageSettings settings =
        read(
            Map.ofEntries(
                Map.entry(
                    "watchparty.cassandra.hosts", "db1.example.com:9142, 10.0.0.2 ,[::1]:9043"),
                Map.entry("watchparty.cassandra.datacenter", "eu-west"),
                Map.entry("watchparty.cassandra.keyspace", "Parties_2"),
                Map.entry("watchparty.cassandra.replication", "3"),
                Map.entry("watchparty.cassandra.local.port", "19042"),
                Map.entry("watchparty.cassandra.local.storageport", "17000"),
                Map.entry("watchparty.cassandra.local.directory", "/var/tmp/wp"),
                Map.entry("watchparty.cassandra.local.java", "/opt/jdk17"),
                Map.entry("watchparty.cassandra.local.jars", "/opt/cassandra/lib"),
                Map.entry("watchparty.cassandra.local.heap", "512M"),
                Map.entry("watchparty.cassandra.local.host", "127.0.0.2"),
                Map.entry("watchparty.cassandra.local.seeds", "127.0.0.1, 127.0.0.3"),
                Map.entry("watchparty.cassandra.local.token", "-3074457345618258603")));

    assertThat(settings.hosts())
        .containsExactly(
            InetSocketAddress.createUnresolved("db1.example.com", 9142),
            InetSocketAddress.createUnresolved("10.0.0.2", 9042),
            InetSocketAddress.createUnresolved("::1", 9043));
    assertThat(settings.usesLocalNode()).isFalse();
    assertThat(settings.datacenter()).isEqualTo("eu-west");
    assertThat(settings.keyspace()).isEqualTo("parties_2");
    assertThat(settings.replication()).isEqualTo(3);
    assertThat(settings.local())
        .isEqualTo(
            new LocalNodeSettings(
                19042,
                17000,
                Path.of("/var/tmp/wp"),
                Optional.of(Path.of("/opt/jdk17")),
                Optional.of(Path.of("/opt/cassandra/lib")),
                "512M",
                Duration.ofSeconds(180),
                new LocalNodeSettings.Ring(
                    "127.0.0.2",
                    List.of("127.0.0.1", "127.0.0.3"),
                    OptionalLong.of(-3074457345618258603L))));
  }

  @Test
  void takesTheJdkFromJava17HomeUnlessTheKeyIsSet() {
    assertThat(read(Map.of("JAVA17_HOME", "/opt/jdk-17")).local().javaHome())
        .contains(Path.of("/opt/jdk-17"));
    assertThat(
            read(Map.of("JAVA17_HOME", "/opt/jdk-17", "watchparty.cassandra.local.java", "/j17"))
                .local()
                .javaHome())
        .contains(Path.of("/j17"));
  }

  @Test
  void expandsTildeInTheDirectory() {
    assertThat(read(Map.of("watchparty.cassandra.local.directory", "~/wp")).local().directory())
        .isEqualTo(Path.of(System.getProperty("user.home"), "wp"));
  }

  @Test
  void readsTimeoutInSeconds() {
    assertThat(read(Map.of("watchparty.cassandra.local.timeout", "42")).local().timeout())
        .isEqualTo(Duration.ofSeconds(42));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "watchparty.cassandra.local.port|abc|watchparty.cassandra.local.port (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_PORT) must be a port from 1 to 65535, not 'abc'.",
        "watchparty.cassandra.local.port|0|watchparty.cassandra.local.port (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_PORT) must be a port from 1 to 65535, not '0'.",
        "watchparty.cassandra.local.port|70000|watchparty.cassandra.local.port (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_PORT) must be a port from 1 to 65535, not '70000'.",
        "watchparty.cassandra.local.storageport|-5|watchparty.cassandra.local.storageport (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_STORAGEPORT) must be a port from 1 to 65535, not '-5'.",
        "watchparty.cassandra.local.storageport|9042|watchparty.cassandra.local.port (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_PORT) and watchparty.cassandra.local.storageport must"
            + " differ, both are 9042.",
        "watchparty.cassandra.keyspace|1party|watchparty.cassandra.keyspace (env"
            + " WATCHPARTY_CASSANDRA_KEYSPACE) must be a CQL identifier (a letter, then up to 47"
            + " letters, digits or underscores), not '1party'.",
        "watchparty.cassandra.keyspace|watch-party|watchparty.cassandra.keyspace (env"
            + " WATCHPARTY_CASSANDRA_KEYSPACE) must be a CQL identifier (a letter, then up to 47"
            + " letters, digits or underscores), not 'watch-party'.",
        "watchparty.cassandra.keyspace|a1234567890123456789012345678901234567890123456789|"
            + "watchparty.cassandra.keyspace (env WATCHPARTY_CASSANDRA_KEYSPACE) must be a CQL"
            + " identifier (a letter, then up to 47 letters, digits or underscores), not"
            + " 'a1234567890123456789012345678901234567890123456789'.",
        "watchparty.cassandra.replication|0|watchparty.cassandra.replication (env"
            + " WATCHPARTY_CASSANDRA_REPLICATION) must be a whole number from 1 to 100, not '0'.",
        "watchparty.cassandra.replication|two|watchparty.cassandra.replication (env"
            + " WATCHPARTY_CASSANDRA_REPLICATION) must be a whole number from 1 to 100, not"
            + " 'two'.",
        "watchparty.cassandra.replication|3|watchparty.cassandra.replication (env"
            + " WATCHPARTY_CASSANDRA_REPLICATION) is 3 but watchparty.cassandra.hosts is empty, so"
            + " the single local node is used: set the replication to 1 or configure the hosts of"
            + " a cluster.",
        "watchparty.cassandra.hosts|db1:abc|watchparty.cassandra.hosts (env"
            + " WATCHPARTY_CASSANDRA_HOSTS) has 'db1:abc', whose port is not a number from 1 to"
            + " 65535.",
        "watchparty.cassandra.hosts|db1:70000|watchparty.cassandra.hosts (env"
            + " WATCHPARTY_CASSANDRA_HOSTS) has 'db1:70000', whose port is not a number from 1 to"
            + " 65535.",
        "watchparty.cassandra.hosts|db1:|watchparty.cassandra.hosts (env"
            + " WATCHPARTY_CASSANDRA_HOSTS) has 'db1:', whose port is not a number from 1 to"
            + " 65535.",
        "watchparty.cassandra.hosts|db1:9042,:9042|watchparty.cassandra.hosts (env"
            + " WATCHPARTY_CASSANDRA_HOSTS) must list host:port contact points separated by"
            + " commas, but ':9042' is not a host:port.",
        "watchparty.cassandra.hosts|db 1:9042|watchparty.cassandra.hosts (env"
            + " WATCHPARTY_CASSANDRA_HOSTS) must list host:port contact points separated by"
            + " commas, but 'db 1:9042' is not a host:port.",
        "watchparty.cassandra.datacenter|dc'1|watchparty.cassandra.datacenter (env"
            + " WATCHPARTY_CASSANDRA_DATACENTER) must be a datacenter name such as datacenter1 or"
            + " eu-west, not 'dc'1'.",
        "watchparty.cassandra.local.heap|lots|watchparty.cassandra.local.heap (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_HEAP) must be a size such as 512M or 1G, not 'lots'.",
        "watchparty.cassandra.local.timeout|0|watchparty.cassandra.local.timeout (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_TIMEOUT) must be a number of seconds from 1 to 86400,"
            + " not '0'.",
        "watchparty.cassandra.local.timeout|soon|watchparty.cassandra.local.timeout (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_TIMEOUT) must be a number of seconds from 1 to 86400,"
            + " not 'soon'.",
        "watchparty.cassandra.local.host|10.0.0.2|watchparty.cassandra.local.host (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_HOST) must be a loopback IPv4 address such as"
            + " 127.0.0.2, not '10.0.0.2'.",
        "watchparty.cassandra.local.host|127.0.0.256|watchparty.cassandra.local.host (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_HOST) must be a loopback IPv4 address such as"
            + " 127.0.0.2, not '127.0.0.256'.",
        "watchparty.cassandra.local.seeds|127.0.0.1,localhost|watchparty.cassandra.local.seeds"
            + " (env WATCHPARTY_CASSANDRA_LOCAL_SEEDS) must be a loopback IPv4 address such as"
            + " 127.0.0.2, not 'localhost'.",
        "watchparty.cassandra.local.token|12abc|watchparty.cassandra.local.token (env"
            + " WATCHPARTY_CASSANDRA_LOCAL_TOKEN) must be a whole number from"
            + " -9223372036854775808 to 9223372036854775807 (a Murmur3 token), not '12abc'.",
      })
  void rejectsBadValueNamingKeyAndValue(String key, String value, String message) {
    assertThatThrownBy(() -> read(Map.of(key, value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void allowsReplicationAboveOneWithACluster() {
    StorageSettings settings =
        read(
            Map.of(
                "watchparty.cassandra.hosts", "db1:9042",
                "watchparty.cassandra.replication", "3"));

    assertThat(settings.replication()).isEqualTo(3);
  }

  @Test
  void keepsEverythingElseWhenTheKeyspaceChanges() {
    StorageSettings settings = read(Map.of("watchparty.cassandra.local.port", "19042"));

    StorageSettings other = settings.withKeyspace("wp_test_abc");

    assertThat(other.keyspace()).isEqualTo("wp_test_abc");
    assertThat(other.local()).isEqualTo(settings.local());
  }
}
