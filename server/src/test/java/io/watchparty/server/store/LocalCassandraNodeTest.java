package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's checks and messages, with fake JDKs and jar directories instead of Cassandra. */
class LocalCassandraNodeTest {

  @TempDir Path temp;

  private final ExecutorService servers = Executors.newVirtualThreadPerTaskExecutor();
  private int port;
  private int storagePort;

  @BeforeEach
  void pickFreePorts() throws IOException {
    try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = a.getLocalPort();
      storagePort = b.getLocalPort();
    }
  }

  @AfterEach
  void stopServers() {
    servers.shutdownNow();
  }

  private LocalNodeSettings settings(Optional<Path> java, Optional<Path> jars) {
    return LocalNodeSettings.defaults(temp.resolve("node"))
        .withPorts(port, storagePort)
        .withHeap("256M")
        .withJavaHome(java)
        .withJars(jars);
  }

  @Test
  void refusesAPortTakenByAProgramThatIsNotCassandra() throws IOException {
    try (ServerSocket http = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      servers.submit(
          () -> {
            while (true) {
              try (Socket socket = http.accept();
                  OutputStream out = socket.getOutputStream()) {
                out.write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
              }
            }
          });
      LocalNodeSettings settings =
          settings(Optional.empty(), Optional.empty()).withPorts(http.getLocalPort(), storagePort);

      assertThatThrownBy(() -> LocalCassandraNode.start(settings))
          .isInstanceOf(StorageException.class)
          .hasMessage(
              "Port %d on 127.0.0.1 is in use by a program that is not Cassandra: stop it or set"
                  + " watchparty.cassandra.local.port (env WATCHPARTY_CASSANDRA_LOCAL_PORT) to a"
                  + " free port.",
              http.getLocalPort());
    }
  }

  @Test
  void saysWhereItLookedForJdk17() {
    Path missing = temp.resolve("no-jdk");

    assertThatThrownBy(
            () -> LocalCassandraNode.start(settings(Optional.of(missing), Optional.empty())))
        .isInstanceOf(StorageException.class)
        .hasMessage(
            "No JDK 17 for the local Cassandra node in %s: install one (apt-get install"
                + " openjdk-17-jdk-headless) or set watchparty.cassandra.local.java (env"
                + " WATCHPARTY_CASSANDRA_LOCAL_JAVA) or JAVA17_HOME to its home.",
            missing);
  }

  @Test
  void refusesAJdkThatIsNot17() throws IOException {
    Path jdk21 = fakeJdk("jdk21", "21.0.4", "exit 0");

    assertThatThrownBy(
            () -> LocalCassandraNode.start(settings(Optional.of(jdk21), Optional.empty())))
        .isInstanceOf(StorageException.class)
        .hasMessage(
            "%s is Java 21.0.4, but the local Cassandra node (5.0) needs Java 17: set"
                + " watchparty.cassandra.local.java (env WATCHPARTY_CASSANDRA_LOCAL_JAVA) or"
                + " JAVA17_HOME to a JDK 17 home.",
            jdk21);
  }

  @Test
  void saysHowToCollectMissingJars() throws IOException {
    Path jdk = fakeJdk("jdk17", "17.0.12", "exit 0");
    Path noJars = temp.resolve("lib");

    assertThatThrownBy(
            () -> LocalCassandraNode.start(settings(Optional.of(jdk), Optional.of(noJars))))
        .isInstanceOf(StorageException.class)
        .hasMessage(
            "The Cassandra jars are not in %s: run `mvn -B package -pl server/local-cassandra` in"
                + " the project root, or set watchparty.cassandra.local.jars (env"
                + " WATCHPARTY_CASSANDRA_LOCAL_JARS) to the directory that holds"
                + " cassandra-all-*.jar.",
            noJars);
  }

  @Test
  void refusesADataDirectoryItCannotCreate() throws IOException {
    Path file = Files.writeString(temp.resolve("a-file"), "not a directory");
    LocalNodeSettings settings =
        settings(Optional.empty(), Optional.empty()).withDirectory(file.resolve("cassandra"));

    assertThatThrownBy(() -> LocalCassandraNode.start(settings))
        .isInstanceOf(StorageException.class)
        .hasMessageStartingWith(
            "The Cassandra data directory %s is not writable (", file.resolve("cassandra"))
        .hasMessageEndingWith(
            "): choose another with watchparty.cassandra.local.directory (env"
                + " WATCHPARTY_CASSANDRA_LOCAL_DIRECTORY).");
  }

  @Test
  void refusesATakenStoragePort() throws IOException {
    Path jdk = fakeJdk("jdk17", "17.0.12", "exit 0");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      LocalNodeSettings settings =
          settings(Optional.of(jdk), Optional.of(fakeJars())).withPorts(port, taken.getLocalPort());

      assertThatThrownBy(() -> LocalCassandraNode.start(settings))
          .isInstanceOf(StorageException.class)
          .hasMessage(
              "Port %d on 127.0.0.1, the local Cassandra node's storage port, is in use: stop the"
                  + " program using it or set watchparty.cassandra.local.storageport (env"
                  + " WATCHPARTY_CASSANDRA_LOCAL_STORAGEPORT) to a free port.",
              taken.getLocalPort());
    }
  }

  @Test
  void reportsANodeThatDiesAtStartWithTheEndOfItsLog() throws IOException {
    Path jdk =
        fakeJdk(
            "jdk17",
            "17.0.12",
            "echo 'starting'\necho 'ERROR Exception encountered during startup: boom' >&2\nexit 3");
    LocalNodeSettings settings = settings(Optional.of(jdk), Optional.of(fakeJars()));
    Path consoleLog = settings.directory().resolve("logs").resolve("console.log");

    assertThatThrownBy(() -> LocalCassandraNode.start(settings))
        .isInstanceOf(StorageException.class)
        .hasMessage(
            "The local Cassandra node exited with code 3 while starting; the end of %s:%n"
                + "starting%nERROR Exception encountered during startup: boom",
            consoleLog);
    assertThat(settings.directory().resolve("cassandra.pid")).doesNotExist();
    assertThat(settings.directory().resolve("conf").resolve("cassandra.yaml"))
        .content()
        .contains("native_transport_port: " + port, "- seeds: \"127.0.0.1:" + storagePort + "\"");
  }

  @Test
  void configuresTheNodeToAcknowledgeOnlyWritesItHasSyncedToDisk() throws IOException {
    // The node dies at once: only the configuration it was given matters here.
    Path jdk = fakeJdk("jdk17", "17.0.12", "exit 3");
    LocalNodeSettings settings = settings(Optional.of(jdk), Optional.of(fakeJars()));

    assertThatThrownBy(() -> LocalCassandraNode.start(settings))
        .isInstanceOf(StorageException.class);

    List<String> yaml =
        Files.readAllLines(settings.directory().resolve("conf").resolve("cassandra.yaml"));
    assertThat(yaml)
        .contains("commitlog_sync: group", "commitlog_sync_group_window: 2ms")
        .noneMatch(line -> line.startsWith("commitlog_sync_period"));
  }

  @Test
  void waitsLongerBeforeEachRestartOfADeadNode() {
    assertThat(
            IntStream.rangeClosed(1, 7)
                .mapToObj(NodeSupervisor::restartDelay)
                .map(Duration::toSeconds))
        .containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L);
  }

  @Test
  void stopsWithoutPidFileAsNothingToStop() {
    assertThat(LocalCassandraNode.stopRecorded(settings(Optional.empty(), Optional.empty())))
        .isFalse();
  }

  @Test
  void buildsTheJdk17CommandLine() {
    Path jars = Path.of("/opt/cassandra/lib");
    LocalNodeSettings settings = LocalNodeSettings.defaults(Path.of("/data/wp")).withHeap("768M");

    List<String> command =
        NodeConfiguration.command(new NodeInstallation(Path.of("/opt/jdk17"), jars), settings);

    assertThat(command.getFirst()).isEqualTo("/opt/jdk17/bin/java");
    assertThat(command)
        .contains(
            "-Xms768M",
            "-Xmx768M",
            "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "-Dcassandra-foreground=yes",
            "-Dcassandra.config=file:///data/wp/conf/cassandra.yaml",
            "-Dcassandra.storagedir=/data/wp",
            "-Dlogback.configurationFile=/data/wp/conf/logback.xml")
        .containsSequence("-cp", "/data/wp/conf:/opt/cassandra/lib/*")
        .endsWith("org.apache.cassandra.service.CassandraDaemon");
    // No JMX port: nothing for several nodes or tools to fight over.
    assertThat(command)
        .noneMatch(arg -> arg.startsWith("-Dcassandra.jmx") || arg.contains("jmxremote"));
  }

  @Test
  void configuresANodeOfALocalRingOnItsOwnLoopbackAddress() {
    LocalNodeSettings settings =
        LocalNodeSettings.defaults(Path.of("/data/second"))
            .withPorts(9142, 7100)
            .withRing(
                new LocalNodeSettings.Ring(
                    "127.0.0.2", List.of("127.0.0.1", "127.0.0.3"), OptionalLong.of(-42)));

    assertThat(settings.address()).isEqualTo(new InetSocketAddress("127.0.0.2", 9142));
    assertThat(NodeConfiguration.yaml(settings).lines())
        .contains(
            "listen_address: 127.0.0.2",
            "rpc_address: 127.0.0.2",
            "native_transport_port: 9142",
            "storage_port: 7100",
            "      - seeds: \"127.0.0.1:7100,127.0.0.3:7100\"",
            "  - '/data/second/data'",
            "initial_token: -42");
    // A lone node picks its own token.
    assertThat(NodeConfiguration.yaml(settings.withRing(LocalNodeSettings.Ring.alone("127.0.0.1"))))
        .contains("listen_address: 127.0.0.1", "- seeds: \"127.0.0.1:7100\"")
        .doesNotContain("initial_token");
  }

  /** A JDK home whose {@code bin/java} is a shell script running {@code body}. */
  private Path fakeJdk(String name, String version, String body) throws IOException {
    Path home = temp.resolve(name);
    Files.createDirectories(home.resolve("bin"));
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    Path java = Files.writeString(home.resolve("bin").resolve("java"), "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    return home;
  }

  private Path fakeJars() throws IOException {
    Path lib = Files.createDirectories(temp.resolve("lib"));
    Files.createFile(lib.resolve("cassandra-all-5.0.6.jar"));
    return lib;
  }
}
