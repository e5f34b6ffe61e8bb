package io.watchparty.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as {@code ./watchparty up} runs it, in a process of its own with a Cassandra node of
 * its own (own ports, own directory), stopped by SIGTERM with clients connected: the streams end
 * with the shutdown reason, the node stops only after the server has drained, and nothing warns
 * (neither at the stop nor at the start).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServerStopIT {
  private static final Pattern NODE_PID =
      Pattern.compile("Cassandra node \\(pid (\\d+)\\) answered");

  @Test
  void sigtermDrainsTheClientsThenStopsTheNodeWithoutAWarning(@TempDir Path directory)
      throws IOException, InterruptedException {
    int grpcPort = freePort();
    Path log = directory.resolve("server.log");
    Process server = startServer(directory, grpcPort, log);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> !server.isAlive() || Files.readString(log).contains("listening on"));
      assertThat(server.isAlive()).as("the server started: %s", Files.readString(log)).isTrue();
      String alice = token(channel, "alice");
      String roomId =
          TestServer.withToken(RoomServiceGrpc.newBlockingStub(channel), alice)
              .createRoom(
                  CreateRoomRequest.newBuilder()
                      .setTitleId("sintel")
                      .setName("stop test")
                      .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                      .build())
              .getRoom()
              .getRoomId();
      List<StreamProbe> clients =
          List.of(
              StreamProbe.open(channel, "alice", alice).join(roomId),
              StreamProbe.open(channel, "bob", token(channel, "bob")).join(roomId));
      clients.forEach(StreamProbe::snapshot);

      server.destroy(); // SIGTERM

      for (StreamProbe client : clients) {
        client.awaitRefusal(Code.UNAVAILABLE, ErrorReason.SERVER_SHUTTING_DOWN);
      }
      assertThat(server.waitFor(2, TimeUnit.MINUTES)).isTrue();
    } finally {
      channel.shutdownNow();
      // After a failure only: the node runs in a session of its own and would outlive its server.
      List<ProcessHandle> children = server.descendants().toList();
      server.destroyForcibly();
      children.forEach(ProcessHandle::destroyForcibly);
    }

    String output = Files.readString(log);
    List<String> shutdown =
        output.lines().dropWhile(line -> !line.contains("Shutting down")).toList();
    System.out.println(
        "ServerStopIT, the server's log from SIGTERM on:\n" + String.join("\n", shutdown));
    assertThat(shutdown)
        .as(output)
        .isNotEmpty()
        .noneMatch(line -> line.contains(" WARN ") || line.contains(" ERROR "));
    assertThat(indexOf(shutdown, "gRPC server stopped"))
        .as("the node stops after the drain:%n%s", String.join("\n", shutdown))
        .isNotNegative()
        .isLessThan(indexOf(shutdown, "Stopping the local Cassandra node"));
    // A quiet start as well: no JDK warnings, no Helidon complaint about logging.
    assertThat(output.lines())
        .as(output)
        .noneMatch(line -> line.startsWith("WARNING:") || line.contains("Helidon logging"));
    Matcher pid = NODE_PID.matcher(output);
    assertThat(pid.find()).as(output).isTrue();
    assertThat(ProcessHandle.of(Long.parseLong(pid.group(1))).filter(ProcessHandle::isAlive))
        .isEmpty();
  }

  private static Process startServer(Path directory, int grpcPort, Path log) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder =
        new ProcessBuilder(
                java.toString(),
                "--sun-misc-unsafe-memory-access=allow",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.put("WATCHPARTY_GRPC_PORT", Integer.toString(grpcPort));
    env.put("WATCHPARTY_OBSERVE_PORT", Integer.toString(freePort())); // Helidon's web server too
    env.put("WATCHPARTY_AUTH_DEMO", "true");
    env.put("WATCHPARTY_AUTH_SECRET", TestServer.SECRET);
    env.put("WATCHPARTY_CATALOG_DEMO", "true");
    env.remove("WATCHPARTY_CASSANDRA_HOSTS"); // the node of its own, never a cluster
    env.put("WATCHPARTY_CASSANDRA_LOCAL_PORT", Integer.toString(freePort()));
    env.put("WATCHPARTY_CASSANDRA_LOCAL_STORAGEPORT", Integer.toString(freePort()));
    env.put("WATCHPARTY_CASSANDRA_LOCAL_DIRECTORY", directory.resolve("cassandra").toString());
    env.put("WATCHPARTY_CASSANDRA_LOCAL_HEAP", "512M");
    String jars = System.getProperty("watchparty.cassandra.local.jars");
    if (jars != null) {
      env.put("WATCHPARTY_CASSANDRA_LOCAL_JARS", jars);
    }
    return builder.start();
  }

  private static String token(ManagedChannel channel, String userId) {
    return DemoAuthServiceGrpc.newBlockingStub(channel)
        .issueDemoToken(IssueDemoTokenRequest.newBuilder().setUserId(userId).build())
        .getToken();
  }

  private static int indexOf(List<String> lines, String text) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(text)) {
        return i;
      }
    }
    return -1;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
