package io.watchparty.server.store;

import io.watchparty.proto.Backoff;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a node this JVM started running: when its process dies, starts it again, up to 5 times
 * after 1, 2, 4, 8 and 16 s, each attempt logged (the count starts again once the node answers).
 * The driver's sessions reconnect by themselves.
 */
final class NodeSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(NodeSupervisor.class);
  private static final int MAX_RESTARTS = 5;
  private static final Backoff RESTARTS =
      Backoff.doubling(Duration.ofSeconds(1), Duration.ofSeconds(30));

  private final LocalNodeSettings settings;
  private final ScheduledExecutorService restarts =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("local-cassandra-supervisor").daemon().factory());
  private final AtomicBoolean stopped = new AtomicBoolean();

  /** The node's current process: replaced by each restart, empty once another JVM's is reused. */
  private volatile Optional<Process> process;

  /**
   * Restart attempts since the node last answered CQL. Touched by one thread at a time: an exit
   * callback schedules the next attempt, which the supervisor runs, and which registers the next
   * exit callback.
   */
  private int failedRestarts;

  NodeSupervisor(LocalNodeSettings settings, Process started) {
    this.settings = settings;
    this.process = Optional.of(started);
    watch(started);
  }

  /** The process of the node, while it is this supervisor's. */
  Optional<Process> process() {
    return process;
  }

  /**
   * Ends the supervision and kills the node (see {@link NodeProcess#kill}); a restart in progress
   * is interrupted and kills what it launched. Idempotent.
   */
  void stop() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    restarts.shutdownNow();
    process.ifPresent(
        p -> {
          NodeProcess.kill(p.toHandle());
          NodeDirectory.of(settings).forgetPid(p.pid());
        });
  }

  /**
   * 1 s, 2 s, 4 s, ... at most 30 s: a node that dies at once is not restarted in a loop. The
   * ceiling of the project's backoff, without jitter: one node has nobody to spread out from.
   */
  static Duration restartDelay(int attempt) {
    return Duration.ofMillis(RESTARTS.ceilingMs(attempt - 1));
  }

  /** Restarts the node when its process exits, unless the supervision stopped or the JVM ends. */
  private void watch(Process started) {
    started
        .onExit()
        .thenAccept(
            exited -> {
              if (stopped.get() || shuttingDown()) {
                return;
              }
              LOG.warn(
                  "The local Cassandra node (pid {}) exited with code {}",
                  exited.pid(),
                  exited.exitValue());
              scheduleRestart();
            });
  }

  /** Hands the next restart attempt to the executor, after a backoff; gives up after a few. */
  private void scheduleRestart() {
    if (failedRestarts >= MAX_RESTARTS) {
      LOG.error(
          "The local Cassandra node did not come back after {} restarts: storage stays unavailable"
              + " until the server is restarted (see {})",
          MAX_RESTARTS,
          NodeDirectory.of(settings).systemLog());
      return;
    }
    failedRestarts++;
    Duration delay = restartDelay(failedRestarts);
    LOG.warn(
        "Restarting the local Cassandra node in {} ms (attempt {} of {})",
        delay.toMillis(),
        failedRestarts,
        MAX_RESTARTS);
    try {
      restarts.schedule(this::restart, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stoppedMeanwhile) {
      // stop() ended the supervision: nothing to restart.
    }
  }

  private void restart() {
    try {
      Optional<Process> launched = NodeProcess.launchUnlessRunning(settings);
      if (launched.isEmpty()) {
        // Another JVM started a node on the address meanwhile: use it, and leave it to its owner.
        LOG.info(
            "A Cassandra node answers CQL on {}:{} again: reusing it",
            settings.ring().host(),
            settings.port());
        process = Optional.empty();
        return;
      }
      process = launched;
      if (stopped.get()) {
        NodeProcess.kill(launched.get().toHandle()); // stop() ran while this attempt was starting
        return;
      }
      LOG.info("The local Cassandra node is back (pid {})", launched.get().pid());
      failedRestarts = 0;
      watch(launched.get());
    } catch (StorageException e) {
      if (stopped.get()) {
        return;
      }
      LOG.warn("Restart attempt {} failed: {}", failedRestarts, e.getMessage());
      scheduleRestart();
    }
  }

  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }
}
