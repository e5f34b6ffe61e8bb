package io.watchparty.server.store;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Cassandra 5.0 node for development and tests, running in its own JVM on JDK 17
 * (Cassandra 5.0 does not start on newer JDKs, and its jars would clash with the server's).
 *
 * <p>{@link #start} reuses whatever Cassandra already answers CQL at the node's address (a node
 * left running by {@link LocalCassandraCommand}, or by another test JVM), and otherwise starts one
 * ({@link NodeProcess}) from the jars collected by the {@code server/local-cassandra} module
 * ({@link NodeInstallation}), with its data, logs, generated configuration ({@link
 * NodeConfiguration}) and pid file in its directory ({@link NodeDirectory}), so data survives
 * restarts. Several nodes, each with its own loopback address and directory, form a ring ({@link
 * LocalNodeSettings.Ring}).
 *
 * <p>A node started by {@link #start} belongs to this instance: {@link #close} stops it, and so
 * does a JVM shutdown hook that {@link #start} registers itself, so a server or test JVM that ends
 * without closing never leaves a node behind. Either kills it (SIGKILL): every write the node
 * acknowledged is already in its commit log on disk, which it replays at its next start, so its own
 * drain on SIGTERM (a flush of every memtable) would only slow the stop. A reused node is never
 * stopped. While it runs, a {@link NodeSupervisor} starts it again if its process dies.
 *
 * <p>JMX is not enabled (no port 7199 is opened), so several nodes and tools never fight over it.
 */
public final class LocalCassandraNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalCassandraNode.class);

  private final InetSocketAddress address;
  private final boolean startedHere;

  /** The process a detached start launched, which nobody here supervises or stops. */
  private final Optional<Process> detached;

  /** Keeps the node running and stops it; empty for reused and detached nodes. */
  private final Optional<NodeSupervisor> supervisor;

  private final Optional<Thread> shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);

  /** How long the shutdown hook leaves the node to an owner that stops it in its own order. */
  private volatile Duration ownerGrace = Duration.ZERO;

  private LocalCassandraNode(
      LocalNodeSettings settings, Optional<Process> launched, boolean detachedStart) {
    this.address = settings.address();
    this.startedHere = launched.isPresent();
    this.detached = detachedStart ? launched : Optional.empty();
    this.supervisor =
        detachedStart ? Optional.empty() : launched.map(p -> new NodeSupervisor(settings, p));
    this.shutdownHook =
        supervisor.map(s -> new Thread(this::stopAtExit, "local-cassandra-shutdown"));
    shutdownHook.ifPresent(Runtime.getRuntime()::addShutdownHook);
  }

  /**
   * Reuses the Cassandra that answers CQL at the node's address, or starts a node and waits until
   * it answers.
   *
   * @throws StorageException when the port is taken by something else, JDK 17 or the jars are
   *     missing, the directory is not writable, or the node dies or does not answer in time
   */
  public static LocalCassandraNode start(LocalNodeSettings settings) {
    return start(settings, false);
  }

  /**
   * Starts (or reuses) a node; a {@code detached} one is left running when this JVM ends, for
   * {@link #stopRecorded} to stop.
   */
  static LocalCassandraNode start(LocalNodeSettings settings, boolean detached) {
    Optional<Process> launched = NodeProcess.launchUnlessRunning(settings);
    if (launched.isEmpty()) {
      LOG.info(
          "Reusing the Cassandra node that answers CQL on {}:{}",
          settings.ring().host(),
          settings.port());
    }
    return new LocalCassandraNode(settings, launched, detached);
  }

  /**
   * Stops the node recorded in the pid file of {@code settings.directory()}, waiting until it has
   * exited (SIGTERM: it drains, as other JVMs may use it).
   *
   * @return false when no node of that directory was running
   */
  public static boolean stopRecorded(LocalNodeSettings settings) {
    NodeDirectory directory = NodeDirectory.of(settings);
    Optional<ProcessHandle> node = directory.recordedNode();
    node.ifPresent(NodeProcess::stop);
    directory.forgetPid();
    return node.isPresent();
  }

  /** Where the node answers CQL. */
  public InetSocketAddress address() {
    return address;
  }

  /** True when this instance started the node, false when it reused one that was running. */
  public boolean startedHere() {
    return startedHere;
  }

  /** The node's process id when this instance started it. */
  public OptionalLong pid() {
    return supervisor
        .flatMap(NodeSupervisor::process)
        .or(() -> detached)
        .map(p -> OptionalLong.of(p.pid()))
        .orElseGet(OptionalLong::empty);
  }

  /**
   * Stops the node if this instance started it, at once and without losing a write it acknowledged
   * (see {@link NodeProcess#kill}), and with it the supervision.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || supervisor.isEmpty()) {
      return;
    }
    shutdownHook.ifPresent(
        hook -> {
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or about to: it stops the node as well.
          }
        });
    stopNode();
  }

  /**
   * At JVM exit, waits up to {@code grace} for {@link #close} before the shutdown hook stops the
   * node itself: for a server whose own shutdown hook drains its clients and flushes its writes
   * first, then closes this node.
   */
  void leaveStopToOwner(Duration grace) {
    ownerGrace = grace;
  }

  /**
   * The JVM ends. All shutdown hooks run at once, so an owner that stops the node itself, after its
   * own work that still needs Cassandra ({@link #leaveStopToOwner}), gets that long to do so; a JVM
   * that ends without closing the node still never leaves it behind.
   */
  private void stopAtExit() {
    try {
      if (stopped.await(ownerGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopNode();
  }

  private void stopNode() {
    supervisor.ifPresent(NodeSupervisor::stop);
    stopped.countDown();
  }
}
