package io.watchparty.server.store;

import io.helidon.config.Config;
import io.watchparty.proto.Settings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the data lives: an external Cassandra cluster, or the local development node.
 *
 * <p>Read by {@link #from(Config)} from these keys (every segment is one word, so each key maps
 * cleanly to an environment variable: {@code watchparty.cassandra.local.port} is {@code
 * WATCHPARTY_CASSANDRA_LOCAL_PORT}):
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code watchparty.cassandra.hosts}</td><td>empty</td>
 *       <td>comma-separated {@code host:port} contact points ({@code host} alone means port 9042,
 *           IPv6 as {@code [::1]:9042}); empty: start or reuse the local node</td></tr>
 *   <tr><td>{@code watchparty.cassandra.datacenter}</td><td>{@code datacenter1}</td>
 *       <td>the cluster's local datacenter; the local node's is always {@code datacenter1}</td></tr>
 *   <tr><td>{@code watchparty.cassandra.keyspace}</td><td>{@code watchparty}</td>
 *       <td>an unquoted CQL identifier, stored lower-case as Cassandra does</td></tr>
 *   <tr><td>{@code watchparty.cassandra.replication}</td><td>1</td>
 *       <td>replication factor of the keyspace when it is created: NetworkTopologyStrategy in the
 *           datacenter with hosts, SimpleStrategy on the local node (which allows only 1)</td></tr>
 *   <tr><td>{@code watchparty.cassandra.local.*}</td><td></td>
 *       <td>the local node, see {@link LocalNodeSettings}</td></tr>
 * </table>
 *
 * @param hosts contact points, unresolved; empty means the local node
 * @param datacenter the local datacenter of the cluster given by {@code hosts}
 * @param keyspace the keyspace of every table of the server, lower-case
 * @param replication the replication factor used when the keyspace is created
 * @param local how to start the local node when {@code hosts} is empty
 */
public record StorageSettings(
    List<InetSocketAddress> hosts,
    String datacenter,
    String keyspace,
    int replication,
    LocalNodeSettings local) {

  static final String HOSTS_KEY = "watchparty.cassandra.hosts";
  static final String DATACENTER_KEY = "watchparty.cassandra.datacenter";
  static final String KEYSPACE_KEY = "watchparty.cassandra.keyspace";
  static final String REPLICATION_KEY = "watchparty.cassandra.replication";

  static final String DEFAULT_DATACENTER = "datacenter1";
  static final String DEFAULT_KEYSPACE = "watchparty";
  static final int DEFAULT_CQL_PORT = 9042;

  // Unquoted CQL identifiers; Cassandra limits keyspace names to 48 characters.
  private static final Pattern KEYSPACE = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,47}");
  // The datacenter name is written into a CQL map literal, so it must not carry quotes.
  private static final Pattern DATACENTER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  private static final Pattern HOST_AND_PORT =
      Pattern.compile(
          "(?:\\[(?<ipv6>[0-9A-Fa-f:.]+)]|(?<host>[A-Za-z0-9][A-Za-z0-9.-]*))(?::(?<port>.*))?");

  public StorageSettings {
    hosts = List.copyOf(hosts);
    Objects.requireNonNull(datacenter, "datacenter");
    Objects.requireNonNull(keyspace, "keyspace");
    Objects.requireNonNull(local, "local");
    if (!DATACENTER.matcher(datacenter).matches()) {
      throw Settings.invalid(
          DATACENTER_KEY, datacenter, "a datacenter name such as datacenter1 or eu-west");
    }
    if (!KEYSPACE.matcher(keyspace).matches()) {
      throw Settings.invalid(
          KEYSPACE_KEY,
          keyspace,
          "a CQL identifier (a letter, then up to 47 letters, digits or underscores)");
    }
    keyspace = keyspace.toLowerCase(Locale.ROOT);
    if (replication < 1) {
      throw Settings.invalid(
          REPLICATION_KEY, Integer.toString(replication), "a positive whole number");
    }
    if (hosts.isEmpty() && replication != 1) {
      throw new IllegalArgumentException(
          ("%s is %d but %s is empty, so the single local node is used: set the replication to 1"
                  + " or configure the hosts of a cluster.")
              .formatted(Settings.describe(REPLICATION_KEY), replication, HOSTS_KEY));
    }
  }

  /** The defaults: the local node with its data in {@code ~/.watchparty/cassandra}. */
  public static StorageSettings defaults() {
    return from(Config.empty());
  }

  /**
   * Reads the settings from {@code config}, a root configuration such as {@code Config.create()}
   * (environment variables and system properties).
   *
   * @throws IllegalArgumentException when a value is malformed; the message names the key and the
   *     value
   */
  public static StorageSettings from(Config config) {
    Objects.requireNonNull(config, "config");
    Settings settings = new Settings(key -> text(config, key));
    List<InetSocketAddress> hosts = parseHosts(settings.text(HOSTS_KEY, ""));
    LocalNodeSettings local =
        new LocalNodeSettings(
            settings.port(LocalNodeSettings.PORT_KEY, LocalNodeSettings.DEFAULT_PORT, 1),
            settings.port(
                LocalNodeSettings.STORAGE_PORT_KEY, LocalNodeSettings.DEFAULT_STORAGE_PORT, 1),
            settings
                .text(LocalNodeSettings.DIRECTORY_KEY)
                .map(StorageSettings::path)
                .orElseGet(StorageSettings::defaultDirectory),
            settings
                .text(LocalNodeSettings.JAVA_KEY)
                .or(() -> settings.text("JAVA17_HOME"))
                .map(StorageSettings::path),
            settings.text(LocalNodeSettings.JARS_KEY).map(StorageSettings::path),
            settings.text(LocalNodeSettings.HEAP_KEY, LocalNodeSettings.DEFAULT_HEAP),
            settings.seconds(
                LocalNodeSettings.TIMEOUT_KEY, LocalNodeSettings.DEFAULT_TIMEOUT, 1, 86_400),
            ring(settings));
    return new StorageSettings(
        hosts,
        settings.text(DATACENTER_KEY, DEFAULT_DATACENTER),
        settings.text(KEYSPACE_KEY, DEFAULT_KEYSPACE),
        settings.integer(REPLICATION_KEY, 1, 1, 100),
        local);
  }

  private static LocalNodeSettings.Ring ring(Settings settings) {
    String host = settings.text(LocalNodeSettings.HOST_KEY, LocalNodeSettings.Ring.DEFAULT_HOST);
    List<String> seeds =
        settings
            .text(LocalNodeSettings.SEEDS_KEY)
            .map(v -> Arrays.stream(v.split(",")).map(String::strip).filter(x -> !x.isEmpty()))
            .map(Stream::toList)
            .orElse(List.of(host));
    OptionalLong token =
        settings
            .parsed(
                LocalNodeSettings.TOKEN_KEY,
                Optional.<Long>empty(),
                "a whole number from %d to %d (a Murmur3 token)"
                    .formatted(Long.MIN_VALUE, Long.MAX_VALUE),
                text -> {
                  try {
                    return Optional.of(Optional.of(Long.parseLong(text)));
                  } catch (NumberFormatException e) {
                    return Optional.empty();
                  }
                })
            .map(OptionalLong::of)
            .orElseGet(OptionalLong::empty);
    return new LocalNodeSettings.Ring(host, seeds, token);
  }

  /** True when no hosts are configured, so the local node is started or reused. */
  public boolean usesLocalNode() {
    return hosts.isEmpty();
  }

  /** The same settings with another keyspace (tests give each test class its own). */
  public StorageSettings withKeyspace(String keyspace) {
    return new StorageSettings(hosts, datacenter, keyspace, replication, local);
  }

  /** The same settings with another local node configuration. */
  public StorageSettings withLocal(LocalNodeSettings local) {
    return new StorageSettings(hosts, datacenter, keyspace, replication, local);
  }

  static List<InetSocketAddress> parseHosts(String value) {
    List<InetSocketAddress> hosts = new ArrayList<>();
    for (String entry : value.split(",", -1)) {
      String trimmed = entry.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      Matcher m = HOST_AND_PORT.matcher(trimmed);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            "%s must list host:port contact points separated by commas, but '%s' is not a host:port."
                .formatted(Settings.describe(HOSTS_KEY), trimmed));
      }
      String host = m.group("ipv6") != null ? m.group("ipv6") : m.group("host");
      int port = DEFAULT_CQL_PORT;
      if (m.group("port") != null) {
        port = parsePort(m.group("port"));
        if (port < 1) {
          throw new IllegalArgumentException(
              "%s has '%s', whose port is not a number from 1 to 65535."
                  .formatted(Settings.describe(HOSTS_KEY), trimmed));
        }
      }
      hosts.add(InetSocketAddress.createUnresolved(host, port));
    }
    return hosts;
  }

  private static int parsePort(String text) {
    try {
      int port = Integer.parseInt(text);
      return port >= 1 && port <= 65535 ? port : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A key's text in {@code config}; a YAML list (hosts) reads like the comma-separated form. */
  private static Optional<String> text(Config config, String key) {
    Config node = config.get(key);
    if (!node.exists()) {
      return Optional.empty();
    }
    return node.isLeaf()
        ? node.asString().asOptional()
        : node.asList(String.class).asOptional().map(list -> String.join(",", list));
  }

  private static Path path(String value) {
    // Shells do not expand a ~ that sits inside an environment variable's quoted value.
    if (value.equals("~") || value.startsWith("~/")) {
      return Path.of(System.getProperty("user.home") + value.substring(1));
    }
    return Path.of(value);
  }

  private static Path defaultDirectory() {
    return Path.of(System.getProperty("user.home"), ".watchparty", "cassandra");
  }
}
