package io.watchparty.server.store;

import io.helidon.config.Config;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The local node from a shell, with the server's classpath: {@code java ... LocalCassandraCommand
 * start} starts (or reuses) a node, waits until it answers CQL, leaves it running in the background
 * and exits; {@code stop} stops the node recorded in the pid file of the data directory (SIGTERM:
 * it drains, as other JVMs may use it); {@code run} starts a node and keeps it, restarted if it
 * dies, until the command is interrupted (Ctrl-C or SIGTERM). Settings come from {@link
 * StorageSettings#from} ({@code watchparty.cassandra.local.*}, environment variables included).
 */
public final class LocalCassandraCommand {

  private LocalCassandraCommand() {}

  public static void main(String[] args) {
    if (args.length != 1 || !List.of("start", "stop", "run").contains(args[0])) {
      System.err.println("usage: LocalCassandraCommand start|stop|run");
      System.exit(2);
    }
    try {
      LocalNodeSettings settings = StorageSettings.from(Config.create()).local();
      switch (args[0]) {
        case "start" -> {
          LocalCassandraNode node = LocalCassandraNode.start(settings, true);
          System.out.println(describe(node, settings) + ", running in the background.");
        }
        case "stop" ->
            System.out.println(
                LocalCassandraNode.stopRecorded(settings)
                    ? "Stopped the local Cassandra node of " + settings.directory() + "."
                    : "No local Cassandra node of " + settings.directory() + " was running.");
        default -> run(settings);
      }
    } catch (StorageException | IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }

  private static void run(LocalNodeSettings settings) {
    LocalCassandraNode node = LocalCassandraNode.start(settings);
    System.out.println(describe(node, settings) + "; Ctrl-C stops it.");
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String describe(LocalCassandraNode node, LocalNodeSettings settings) {
    String where = "%s:%d".formatted(settings.ring().host(), settings.port());
    return node.startedHere()
        ? "Started Cassandra on %s (pid %d, data in %s)"
            .formatted(where, node.pid().orElseThrow(), settings.directory())
        : "Cassandra already answers on %s (reused)".formatted(where);
  }
}
