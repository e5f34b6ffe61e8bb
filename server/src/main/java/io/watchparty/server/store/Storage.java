package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.watchparty.proto.Settings;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's Cassandra: a {@link CqlSession} bound to the server's keyspace, whose schema is up
 * to date.
 *
 * <p>{@link #open} uses the cluster of {@link StorageSettings#hosts()}, or, when none are set,
 * starts or reuses the local node ({@link LocalCassandraNode}); it creates the keyspace if needed
 * and applies the schema scripts of {@code db/schema} that are not applied yet. The session reads
 * and writes at {@code LOCAL_QUORUM} by default (so an acknowledged write survives the loss of a
 * replica), times requests out after 5 seconds and reconnects to nodes that went away by itself.
 *
 * <p>Thread-safe, like the session. {@link #close} closes the session, and stops the local node if
 * this instance started it.
 */
public final class Storage implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Storage.class);

  /** The datacenter of the local node: SimpleSnitch puts every node in this one. */
  static final String LOCAL_NODE_DATACENTER = "datacenter1";

  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  /** Requests in flight at once: what one connection carries (protocol v4+); the rest queue. */
  static final int CONCURRENT_REQUESTS = 1_024;

  private static final Duration LOCAL_RECONNECT_MAX = Duration.ofSeconds(2);
  private static final Duration CLUSTER_RECONNECT_MAX = Duration.ofSeconds(10);

  /** Longer than a server's drain (5 s) and flush (5 s) at their worst. */
  private static final Duration OWNER_GRACE = Duration.ofSeconds(20);

  private final CqlSession session;
  private final String keyspace;
  private final Optional<LocalCassandraNode> node;

  private Storage(CqlSession session, String keyspace, Optional<LocalCassandraNode> node) {
    this.session = session;
    this.keyspace = keyspace;
    this.node = node;
  }

  /**
   * Connects to the configured cluster, or to the local node (started if needed), and brings the
   * keyspace up to date.
   *
   * @throws StorageException when Cassandra cannot be started or reached, or the schema cannot be
   *     applied; the message says why in words meant for the person running the server
   */
  public static Storage open(StorageSettings settings) {
    Objects.requireNonNull(settings, "settings");
    // Read first: a broken script list is a build mistake, found before anything is started.
    List<SchemaScript> scripts = SchemaScript.loadAll();
    Optional<LocalCassandraNode> node =
        settings.usesLocalNode()
            ? Optional.of(LocalCassandraNode.start(settings.local()))
            : Optional.empty();
    // The owner of this storage closes it at exit once its own writes are done, and the node only
    // then: never under the writes still draining.
    node.ifPresent(n -> n.leaveStopToOwner(OWNER_GRACE));
    try {
      List<InetSocketAddress> contactPoints =
          node.map(n -> List.of(n.address())).orElseGet(() -> resolve(settings.hosts()));
      String datacenter = node.isPresent() ? LOCAL_NODE_DATACENTER : settings.datacenter();
      String where =
          "Cassandra at %s (datacenter %s)"
              .formatted(
                  contactPoints.stream()
                      .map(a -> a.getHostString() + ":" + a.getPort())
                      .collect(Collectors.joining(", ")),
                  datacenter);
      // A restarted local node is back within seconds: retry often, there is one node to ask.
      Duration reconnectMax = node.isPresent() ? LOCAL_RECONNECT_MAX : CLUSTER_RECONNECT_MAX;
      try (CqlSession admin =
          connect(contactPoints, datacenter, Optional.empty(), where, reconnectMax)) {
        admin.execute(
            SimpleStatement.newInstance(createKeyspace(settings))
                .setTimeout(SchemaMigrator.DDL_TIMEOUT));
      } catch (DriverException e) {
        throw new StorageException(
            "Cannot create keyspace %s in %s: %s"
                .formatted(settings.keyspace(), where, e.getMessage()),
            e);
      }
      CqlSession session =
          connect(contactPoints, datacenter, Optional.of(settings.keyspace()), where, reconnectMax);
      try {
        new SchemaMigrator(session, Clock.systemUTC()).migrate(scripts);
      } catch (DriverException e) {
        session.close();
        throw new StorageException(
            "Cannot bring the schema of keyspace %s in %s up to date: %s"
                .formatted(settings.keyspace(), where, e.getMessage()),
            e);
      } catch (RuntimeException e) {
        session.close();
        throw e;
      }
      LOG.info("Connected to {}, keyspace {}", where, settings.keyspace());
      return new Storage(session, settings.keyspace(), node);
    } catch (RuntimeException e) {
      node.ifPresent(LocalCassandraNode::close);
      throw e;
    }
  }

  /** The session, bound to {@link #keyspace()}: table names need no keyspace. */
  public CqlSession session() {
    return session;
  }

  /** The local node this storage started or reuses; empty with an external cluster. */
  Optional<LocalCassandraNode> localNode() {
    return node;
  }

  /** The keyspace of the server's tables. */
  public String keyspace() {
    return keyspace;
  }

  /** Closes the session, and stops the local node if {@link #open} started it. */
  @Override
  public void close() {
    try {
      session.close();
    } finally {
      node.ifPresent(LocalCassandraNode::close);
    }
  }

  static String createKeyspace(StorageSettings settings) {
    String replication =
        settings.usesLocalNode()
            ? "{'class': 'SimpleStrategy', 'replication_factor': %d}"
                .formatted(settings.replication())
            : "{'class': 'NetworkTopologyStrategy', '%s': %d}"
                .formatted(settings.datacenter(), settings.replication());
    return "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s"
        .formatted(settings.keyspace(), replication);
  }

  private static CqlSession connect(
      List<InetSocketAddress> contactPoints,
      String datacenter,
      Optional<String> keyspace,
      String where,
      Duration reconnectMax) {
    ProgrammaticDriverConfigLoaderBuilder config =
        DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, REQUEST_TIMEOUT)
            .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
            .withString(DefaultDriverOption.REQUEST_SERIAL_CONSISTENCY, "LOCAL_SERIAL")
            // A burst beyond what the connection carries at once waits in a bounded queue instead
            // of failing at once with "no connection available"; past the queue, or the request
            // timeout, a request fails as storage unavailable.
            .withString(
                DefaultDriverOption.REQUEST_THROTTLER_CLASS, "ConcurrencyLimitingRequestThrottler")
            .withInt(
                DefaultDriverOption.REQUEST_THROTTLER_MAX_CONCURRENT_REQUESTS, CONCURRENT_REQUESTS)
            .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_QUEUE_SIZE, 20_000)
            // A restarted dev node or a rolling restart is back within seconds: retry soon.
            .withString(
                DefaultDriverOption.RECONNECTION_POLICY_CLASS, "ExponentialReconnectionPolicy")
            .withDuration(DefaultDriverOption.RECONNECTION_BASE_DELAY, Duration.ofMillis(500))
            .withDuration(DefaultDriverOption.RECONNECTION_MAX_DELAY, reconnectMax)
            .withDuration(
                DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(20))
            // A schema change completes once the driver has refreshed its metadata, which it
            // delays by this window to batch bursts of changes: the default 1 s made every
            // CREATE TABLE take a second.
            .withDuration(DefaultDriverOption.METADATA_SCHEMA_WINDOW, Duration.ofMillis(50))
            // Closing waits this quiet period (default 2 s) for more work on its threads: there is
            // none on the I/O threads after close, and tests open and close a session per class.
            // The admin thread keeps a short one: close() hands it the close task and only then
            // adds a listener to that task's future, so a thread that had already ended by then
            // rejects the listener with an ERROR (seen once in CI, on a loaded machine).
            .withInt(DefaultDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0)
            .withString(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_UNIT, "MILLISECONDS")
            .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 500)
            .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_TIMEOUT, 15_000);
    config =
        keyspace.isPresent()
            // Only this keyspace's metadata: tests create many keyspaces on the same node.
            ? config.withStringList(
                DefaultDriverOption.METADATA_SCHEMA_REFRESHED_KEYSPACES, List.of(keyspace.get()))
            // The short-lived session that creates the keyspace needs no metadata at all.
            : config
                .withBoolean(DefaultDriverOption.METADATA_SCHEMA_ENABLED, false)
                .withBoolean(DefaultDriverOption.METADATA_TOKEN_MAP_ENABLED, false);
    try {
      var builder =
          CqlSession.builder()
              .addContactPoints(contactPoints)
              .withLocalDatacenter(datacenter)
              .withApplicationName("watchparty-server")
              .withConfigLoader(config.build());
      keyspace.ifPresent(k -> builder.withKeyspace(CqlIdentifier.fromInternal(k)));
      return builder.build();
    } catch (DriverException e) {
      throw new StorageException("Cannot connect to %s: %s".formatted(where, e.getMessage()), e);
    }
  }

  private static List<InetSocketAddress> resolve(List<InetSocketAddress> hosts) {
    List<InetSocketAddress> resolved =
        hosts.stream()
            .map(h -> new InetSocketAddress(h.getHostString(), h.getPort()))
            .filter(
                a -> {
                  if (a.isUnresolved()) {
                    LOG.warn("Cannot resolve Cassandra host {}: skipping it", a.getHostString());
                  }
                  return !a.isUnresolved();
                })
            .toList();
    if (resolved.isEmpty()) {
      throw new StorageException(
          "None of the Cassandra hosts %s resolves to an address: check %s."
              .formatted(
                  hosts.stream().map(InetSocketAddress::getHostString).toList(),
                  Settings.describe(StorageSettings.HOSTS_KEY)));
    }
    return resolved;
  }
}
