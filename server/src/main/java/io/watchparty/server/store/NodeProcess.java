package io.watchparty.server.store;

import io.watchparty.proto.Settings;
import io.watchparty.server.store.CqlPortProbe.PortState;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starting a local node's process until it answers CQL, and ending one. */
final class NodeProcess {
  private static final Logger LOG = LoggerFactory.getLogger(NodeProcess.class);

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);
  private static final Path SETSID = Path.of("/usr/bin/setsid");

  // One launch at a time per JVM; the lock file does the same across JVMs (a FileLock cannot be
  // taken twice by one JVM).
  private static final ReentrantLock LAUNCH = new ReentrantLock();

  private NodeProcess() {}

  /**
   * Launches the node and waits until it answers, unless a Cassandra answers already at its address
   * (empty). Launches from several JVMs at once are serialized by the directory's lock file, so
   * only one of them starts the node.
   */
  static Optional<Process> launchUnlessRunning(LocalNodeSettings settings) {
    InetSocketAddress address = settings.address();
    if (answers(address, settings)) {
      return Optional.empty();
    }
    NodeDirectory directory = NodeDirectory.of(settings).prepare();
    LAUNCH.lock();
    try (FileChannel channel =
        FileChannel.open(
            directory.launchLock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      // Held until the channel closes; waits while another JVM is launching.
      channel.lock();
      // Another JVM may have started the node while this one waited for the lock.
      if (answers(address, settings)) {
        return Optional.empty();
      }
      return Optional.of(launch(settings, directory));
    } catch (IOException e) {
      throw new StorageException(
          "Cannot lock %s to start the local Cassandra node (%s)."
              .formatted(directory.launchLock(), NodeDirectory.reason(e)),
          e);
    } finally {
      LAUNCH.unlock();
    }
  }

  /** Whether Cassandra answers on the node's address; throws if something else holds it. */
  private static boolean answers(InetSocketAddress address, LocalNodeSettings settings) {
    return switch (CqlPortProbe.probe(address, PROBE_TIMEOUT)) {
      case CASSANDRA -> true;
      case OTHER ->
          throw new StorageException(
              ("Port %d on %s is in use by a program that is not Cassandra: stop it or set %s to"
                      + " a free port.")
                  .formatted(
                      settings.port(),
                      settings.ring().host(),
                      Settings.describe(LocalNodeSettings.PORT_KEY)));
      case FREE -> false;
    };
  }

  private static Process launch(LocalNodeSettings settings, NodeDirectory directory) {
    Optional<ProcessHandle> stray = directory.recordedNode();
    if (stray.isPresent()) {
      throw new StorageException(
          ("A Cassandra node (pid %d) already runs on %s but does not answer CQL on %s:%d: it may"
                  + " use another port; stop it with `LocalCassandraCommand stop` or kill it.")
              .formatted(
                  stray.get().pid(), directory.root(), settings.ring().host(), settings.port()));
    }
    NodeInstallation installation = NodeInstallation.find(settings);
    checkStoragePortFree(settings);
    NodeConfiguration.write(settings, directory);

    List<String> command = new ArrayList<>();
    if (Files.isExecutable(SETSID)) {
      // Its own session: a Ctrl-C or hang-up in the terminal does not reach it. A detached node
      // outlives `start`; an attached one is stopped by its owner, after the owner's own drain.
      command.add(SETSID.toString());
    }
    command.addAll(NodeConfiguration.command(installation, settings));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.root().toFile())
            .redirectErrorStream(true)
            .redirectOutput(directory.consoleLog().toFile());
    // Options meant for the server's JDK must not reach JDK 17.
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("JAVA_TOOL_OPTIONS");

    LOG.info(
        "Starting a local Cassandra node on {}:{} with {} (data and logs in {})",
        settings.ring().host(),
        settings.port(),
        installation.javaHome(),
        directory.root());
    long startedAt = System.nanoTime();
    Process process;
    try {
      process = builder.start();
      process.getOutputStream().close();
      directory.recordPid(process.pid());
    } catch (IOException e) {
      throw new StorageException(
          "Cannot start the local Cassandra node with %s (%s)."
              .formatted(installation.javaHome().resolve("bin/java"), NodeDirectory.reason(e)),
          e);
    }
    try {
      awaitCql(settings, process, directory);
    } catch (RuntimeException e) {
      stop(process.toHandle());
      directory.forgetPid();
      throw e;
    }
    LOG.info(
        "The local Cassandra node (pid {}) answered CQL after {} s",
        process.pid(),
        String.format("%.1f", (System.nanoTime() - startedAt) / 1e9));
    return process;
  }

  private static void checkStoragePortFree(LocalNodeSettings settings) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(settings.ring().host(), settings.storagePort()));
    } catch (IOException e) {
      throw new StorageException(
          ("Port %d on %s, the local Cassandra node's storage port, is in use: stop the program"
                  + " using it or set %s to a free port.")
              .formatted(
                  settings.storagePort(),
                  settings.ring().host(),
                  Settings.describe(LocalNodeSettings.STORAGE_PORT_KEY)),
          e);
    }
  }

  private static void awaitCql(
      LocalNodeSettings settings, Process process, NodeDirectory directory) {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    try {
      while (System.nanoTime() < deadline) {
        // Waits for the poll interval, or less when the node exits.
        if (process.waitFor(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new StorageException(
              "The local Cassandra node exited with code %d while starting; the end of %s:%n%s"
                  .formatted(process.exitValue(), directory.consoleLog(), directory.tail()));
        }
        if (CqlPortProbe.probe(settings.address(), PROBE_TIMEOUT) == PortState.CASSANDRA) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StorageException("Interrupted while waiting for the local Cassandra node.", e);
    }
    throw new StorageException(
        ("The local Cassandra node did not answer CQL on %s:%d within %d s and was stopped: see %s,"
                + " or raise %s.")
            .formatted(
                settings.ring().host(),
                settings.port(),
                settings.timeout().toSeconds(),
                directory.systemLog(),
                Settings.describe(LocalNodeSettings.TIMEOUT_KEY)));
  }

  /**
   * Ends a node this JVM started at once (SIGKILL), without losing anything it acknowledged: it
   * acknowledges a write only once its commit log segment is on disk ({@code commitlog_sync:
   * group}) and replays that log at its next start. Its own stop on SIGTERM (a drain) flushes every
   * memtable first, which is no more than a head start for the next start: it made a stop with
   * clients connected take 1.5-3 s here, and once hung until the 60 s kill.
   */
  static void kill(ProcessHandle node) {
    if (!node.isAlive()) {
      return;
    }
    LOG.info(
        "Stopping the local Cassandra node (pid {}): its commit log on disk holds every write it"
            + " acknowledged, replayed at its next start",
        node.pid());
    node.destroyForcibly();
    try {
      node.onExit().get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("The local Cassandra node (pid {}) is still running 10 s after SIGKILL", node.pid());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Stops a node that may not be this JVM's alone (a detached one, or one that did not start in
   * time) the way Cassandra's own tools do: SIGTERM, so it drains, then a kill after 60 s.
   */
  static void stop(ProcessHandle node) {
    if (!node.isAlive()) {
      return;
    }
    LOG.info("Stopping the local Cassandra node (pid {})", node.pid());
    node.destroy();
    try {
      node.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn(
          "The local Cassandra node (pid {}) ignored SIGTERM for 60 s: killing it", node.pid());
      node.destroyForcibly();
      try {
        node.onExit().get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException | ExecutionException | TimeoutException ignored) {
        // Nothing more can be done to a process that survives SIGKILL.
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      node.destroyForcibly();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }
}
