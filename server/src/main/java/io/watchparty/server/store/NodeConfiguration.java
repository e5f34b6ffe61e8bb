package io.watchparty.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * How a local node is configured: the {@code cassandra.yaml} and {@code logback.xml} written into
 * its {@code conf/} from the templates on the server's classpath, and its JVM command line.
 */
final class NodeConfiguration {
  static final String MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon";
  static final int RING_DELAY_MS = 3_000;

  // The --add-exports/--add-opens of conf/jvm17-server.options (Cassandra 5.0): without them the
  // node fails at start on JDK 17's strong encapsulation.
  private static final List<String> JDK17_MODULE_FLAGS =
      List.of(
          "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports=java.sql/java.sql=ALL-UNNAMED",
          "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
          "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
          "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED");

  private NodeConfiguration() {}

  /**
   * Writes {@code conf/cassandra.yaml} and {@code conf/logback.xml} for the node.
   *
   * @throws StorageException when they cannot be written
   */
  static void write(LocalNodeSettings settings, NodeDirectory directory) {
    try {
      Files.writeString(directory.conf().resolve("cassandra.yaml"), yaml(settings));
      Files.writeString(
          directory.conf().resolve("logback.xml"),
          resource("cassandra/logback.xml")
              .replace("@LOG_DIR@", xmlEscape(directory.logs().toString())));
    } catch (IOException e) {
      throw new StorageException(
          "Cannot write the local Cassandra node's configuration to %s (%s)."
              .formatted(directory.conf(), NodeDirectory.reason(e)),
          e);
    }
  }

  /** The node's {@code cassandra.yaml}: its directory, ports, address, seeds and token. */
  static String yaml(LocalNodeSettings settings) {
    LocalNodeSettings.Ring ring = settings.ring();
    // Every node of a local ring uses the same storage port, on its own loopback address.
    String seeds =
        ring.seeds().stream()
            .map(seed -> seed + ":" + settings.storagePort())
            .collect(Collectors.joining(","));
    // Single-quoted YAML scalars escape a quote by doubling it.
    String yaml =
        resource("cassandra/cassandra.yaml")
            .replace("@DIRECTORY@", settings.directory().toString().replace("'", "''"))
            .replace("@HOST@", ring.host())
            .replace("@SEEDS@", seeds)
            .replace("@NATIVE_PORT@", Integer.toString(settings.port()))
            .replace("@STORAGE_PORT@", Integer.toString(settings.storagePort()));
    if (ring.initialToken().isPresent()) {
      yaml += "initial_token: " + ring.initialToken().getAsLong() + "\n";
    }
    return yaml;
  }

  /** The JVM command line of the node, without any {@code setsid} prefix. */
  static List<String> command(NodeInstallation installation, LocalNodeSettings settings) {
    Path directory = settings.directory();
    Path conf = directory.resolve("conf");
    List<String> command = new ArrayList<>();
    command.add(installation.javaHome().resolve("bin").resolve("java").toString());
    command.addAll(
        List.of(
            "-Xms" + settings.heap(),
            "-Xmx" + settings.heap(),
            // From Cassandra's jvm-server.options / jvm17-server.options.
            "-Xss256k",
            "-XX:+UseG1GC",
            "-XX:+ParallelRefProcEnabled",
            "-XX:MaxTenuringThreshold=1",
            "-XX:MaxGCPauseMillis=300",
            "-XX:+PerfDisableSharedMem",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.net.preferIPv4Stack=true",
            "-Djdk.attach.allowAttachSelf=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Dio.netty.allocator.useCacheForAllThreads=true",
            "-Dio.netty.allocator.maxOrder=11"));
    command.addAll(JDK17_MODULE_FLAGS);
    // Lets Cassandra measure object sizes with instrumentation, as its own start script does.
    installation.jar("jamm-").ifPresent(jamm -> command.add("-javaagent:" + jamm));
    command.addAll(
        List.of(
            "-Dcassandra-foreground=yes",
            "-Dcassandra.config=" + conf.resolve("cassandra.yaml").toUri(),
            storageDirFlag(directory),
            "-Dcassandra.logdir=" + directory.resolve("logs"),
            "-Dlogback.configurationFile=" + conf.resolve("logback.xml"),
            // A lone node has no peers to wait for, and a ring on one machine's loopback gossips
            // within milliseconds: this saves most of a node's start time.
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            // Nor peers to tell that it stops, or to hand messages to: without these, its stop
            // waits 2 s for the shutdown announcement and 2 s for messaging to quiesce. Every
            // write it acknowledged is in its commit log anyway (see LocalCassandraNode).
            "-Dcassandra.shutdown_announce_in_ms=0",
            "-Dcassandra.test.messagingService.nonGracefulShutdown=true",
            // A node that joins a ring waits this long for the ring's state before it takes its
            // token (30 s by default, for real networks); on one machine's loopback gossip
            // settles in well under a second.
            "-Dcassandra.ring_delay_ms=" + RING_DELAY_MS,
            "-cp",
            conf + java.io.File.pathSeparator + installation.jars().resolve("*"),
            MAIN_CLASS));
    return command;
  }

  /** The flag that names the node's directory: it also tells a node's process from others. */
  static String storageDirFlag(Path directory) {
    return "-Dcassandra.storagedir=" + directory;
  }

  private static String resource(String name) {
    try (InputStream in = NodeConfiguration.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the server's classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String xmlEscape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&apos;");
  }
}
