package io.watchparty.server.store;

import io.watchparty.proto.Settings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * How to start the local development Cassandra node ({@link LocalCassandraNode}); read by {@link
 * StorageSettings#from} from the keys {@code watchparty.cassandra.local.*}.
 *
 * @param port CQL (native transport) port on the node's address; key {@code local.port}, default
 *     9042
 * @param storagePort inter-node port on the node's address; key {@code local.storageport}, default
 *     7000
 * @param directory data, commit log, logs, generated configuration and pid file; kept between runs;
 *     key {@code local.directory}, default {@code ~/.watchparty/cassandra}
 * @param javaHome a JDK 17 home; key {@code local.java}, else env {@code JAVA17_HOME}; when empty,
 *     {@code /usr/lib/jvm/java-17-openjdk-amd64} and then other {@code /usr/lib/jvm/*17*} are tried
 * @param jars the directory of the Cassandra jars; key {@code local.jars}; when empty, {@code
 *     server/local-cassandra/target/lib} and then {@code local-cassandra/target/lib} under the
 *     working directory are tried
 * @param heap the node's heap ({@code -Xms}/{@code -Xmx}), such as {@code 1G} or {@code 512M}; key
 *     {@code local.heap}, default {@code 1G}
 * @param timeout how long to wait for the node to answer CQL; key {@code local.timeout} (seconds),
 *     default 180
 * @param ring the node's loopback address and the ring it joins; keys {@code local.host}, {@code
 *     local.seeds} and {@code local.token}, by default a lone node on 127.0.0.1
 */
public record LocalNodeSettings(
    int port,
    int storagePort,
    Path directory,
    Optional<Path> javaHome,
    Optional<Path> jars,
    String heap,
    Duration timeout,
    Ring ring) {

  static final String PORT_KEY = "watchparty.cassandra.local.port";
  static final String STORAGE_PORT_KEY = "watchparty.cassandra.local.storageport";
  static final String DIRECTORY_KEY = "watchparty.cassandra.local.directory";
  static final String JAVA_KEY = "watchparty.cassandra.local.java";
  static final String JARS_KEY = "watchparty.cassandra.local.jars";
  static final String HEAP_KEY = "watchparty.cassandra.local.heap";
  static final String TIMEOUT_KEY = "watchparty.cassandra.local.timeout";
  static final String HOST_KEY = "watchparty.cassandra.local.host";
  static final String SEEDS_KEY = "watchparty.cassandra.local.seeds";
  static final String TOKEN_KEY = "watchparty.cassandra.local.token";

  static final int DEFAULT_PORT = 9042;
  static final int DEFAULT_STORAGE_PORT = 7000;
  static final String DEFAULT_HEAP = "1G";
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(180);

  private static final Pattern HEAP = Pattern.compile("[1-9][0-9]{0,5}[MmGg]");
  // A loopback IPv4 literal: nodes of a local ring differ by address, not by port, and every
  // address of 127.0.0.0/8 answers without set-up.
  private static final Pattern LOOPBACK =
      Pattern.compile("127(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

  /**
   * Where a node listens and which ring it joins.
   *
   * @param host the node's listen and CQL address, a loopback IPv4 address such as 127.0.0.2; key
   *     {@code local.host}, default 127.0.0.1
   * @param seeds the addresses of the ring's seed nodes (all nodes share the storage port); key
   *     {@code local.seeds}, comma-separated, default the node's own address (a lone node)
   * @param initialToken the node's token in the ring (one per node); key {@code local.token},
   *     default none (the node picks one)
   */
  public record Ring(String host, List<String> seeds, OptionalLong initialToken) {
    static final String DEFAULT_HOST = "127.0.0.1";

    public Ring {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(initialToken, "initialToken");
      seeds = List.copyOf(seeds);
      checkLoopback(HOST_KEY, host);
      if (seeds.isEmpty()) {
        throw new IllegalArgumentException(
            "%s must name at least one seed address.".formatted(Settings.describe(SEEDS_KEY)));
      }
      seeds.forEach(seed -> checkLoopback(SEEDS_KEY, seed));
    }

    /** A node alone in its ring, on {@code host}. */
    public static Ring alone(String host) {
      return new Ring(host, List.of(host), OptionalLong.empty());
    }

    private static void checkLoopback(String key, String address) {
      if (!LOOPBACK.matcher(address).matches()) {
        throw Settings.invalid(key, address, "a loopback IPv4 address such as 127.0.0.2");
      }
    }
  }

  public LocalNodeSettings {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(javaHome, "javaHome");
    Objects.requireNonNull(jars, "jars");
    Objects.requireNonNull(heap, "heap");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(ring, "ring");
    checkPort(PORT_KEY, port);
    checkPort(STORAGE_PORT_KEY, storagePort);
    if (port == storagePort) {
      throw new IllegalArgumentException(
          "%s and %s must differ, both are %d."
              .formatted(Settings.describe(PORT_KEY), STORAGE_PORT_KEY, port));
    }
    if (!HEAP.matcher(heap).matches()) {
      throw Settings.invalid(HEAP_KEY, heap, "a size such as 512M or 1G");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw Settings.invalid(
          TIMEOUT_KEY, Long.toString(timeout.toSeconds()), "a positive number of seconds");
    }
    directory = directory.toAbsolutePath().normalize();
  }

  /** The defaults for a node with its data in {@code directory}. */
  public static LocalNodeSettings defaults(Path directory) {
    return new LocalNodeSettings(
        DEFAULT_PORT,
        DEFAULT_STORAGE_PORT,
        directory,
        Optional.empty(),
        Optional.empty(),
        DEFAULT_HEAP,
        DEFAULT_TIMEOUT,
        Ring.alone(Ring.DEFAULT_HOST));
  }

  /** Where the node answers CQL. */
  public InetSocketAddress address() {
    return new InetSocketAddress(ring.host(), port);
  }

  /** The same settings for a node of another ring, or at another address. */
  public LocalNodeSettings withRing(Ring ring) {
    return new LocalNodeSettings(port, storagePort, directory, javaHome, jars, heap, timeout, ring);
  }

  /** The same settings with the ports {@code port} (CQL) and {@code storagePort}. */
  public LocalNodeSettings withPorts(int port, int storagePort) {
    return new LocalNodeSettings(port, storagePort, directory, javaHome, jars, heap, timeout, ring);
  }

  /** The same settings with the data in {@code directory}. */
  public LocalNodeSettings withDirectory(Path directory) {
    return new LocalNodeSettings(port, storagePort, directory, javaHome, jars, heap, timeout, ring);
  }

  /** The same settings with another JDK 17 home (empty: look in the usual places). */
  public LocalNodeSettings withJavaHome(Optional<Path> javaHome) {
    return new LocalNodeSettings(port, storagePort, directory, javaHome, jars, heap, timeout, ring);
  }

  /** The same settings with another directory of Cassandra jars (empty: the build's). */
  public LocalNodeSettings withJars(Optional<Path> jars) {
    return new LocalNodeSettings(port, storagePort, directory, javaHome, jars, heap, timeout, ring);
  }

  /** The same settings with {@code heap} as the node's heap size. */
  public LocalNodeSettings withHeap(String heap) {
    return new LocalNodeSettings(port, storagePort, directory, javaHome, jars, heap, timeout, ring);
  }

  private static void checkPort(String key, int port) {
    if (port < 1 || port > 65535) {
      throw Settings.invalid(key, Integer.toString(port), "a port from 1 to 65535");
    }
  }
}
