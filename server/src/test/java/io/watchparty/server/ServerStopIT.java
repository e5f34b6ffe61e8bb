package io.watchparty.server;

import static io.watchparty.server.testing.ChatCalls.send;
import static io.watchparty.server.testing.ChatCalls.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.ListChatHistoryRequest;
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
 * (neither at the stop nor at the start). The node is killed rather than drained, so a second
 * server on the same directory finds the acknowledged chat in the node's commit log.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ServerStopIT {
  private static final Pattern NODE_PID =
      Pattern.compile("Cassandra node \\(pid (\\d+)\\) answered");
  private static final Pattern REPLAYED =
      Pattern.compile("Log replay complete, (\\d+) replayed mutations");

  @Test
  void sigtermDrainsTheClientsThenStopsTheNodeWithoutAWarning(@TempDir Path directory)
      throws IOException, InterruptedException {
    NodePorts node = new NodePorts(freePort(), freePort());
    int grpcPort = freePort();
    Path log = directory.resolve("server.log");
    Process server = startServer(directory, node, grpcPort, log);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    String roomId;
    ChatMessage acknowledged;
    try {
      awaitListening(server, log);
      String alice = token(channel, "alice");
      roomId =
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
      acknowledged = stored(clients.get(0), send(clients.get(0), "s-1", "said before the stop"));

      server.destroy(); // SIGTERM

      for (StreamProbe client : clients) {
        client.awaitRefusal(Code.UNAVAILABLE, ErrorReason.SERVER_SHUTTING_DOWN);
      }
      assertThat(server.waitFor(2, TimeUnit.MINUTES)).isTrue();
    } finally {
      stopForGood(server, channel);
    }

    String output = Files.readString(log);
    List<String> shutdown = quietShutdown(output);
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

    // The same node directory again: what the node acknowledged before it was killed is back.
    int secondPort = freePort();
    Path secondLog = directory.resolve("server-2.log");
    Process second = startServer(directory, node, secondPort, secondLog);
    ManagedChannel secondChannel =
        ManagedChannelBuilder.forAddress("127.0.0.1", secondPort).usePlaintext().build();
    try {
      awaitListening(second, secondLog);
      assertThat(
              TestServer.withToken(
                      ChatServiceGrpc.newBlockingStub(secondChannel), token(secondChannel, "bob"))
                  .listChatHistory(ListChatHistoryRequest.newBuilder().setRoomId(roomId).build())
                  .getMessagesList())
          .containsExactly(acknowledged);
      second.destroy();
      assertThat(second.waitFor(2, TimeUnit.MINUTES)).isTrue();
    } finally {
      stopForGood(second, secondChannel);
    }
    quietShutdown(Files.readString(secondLog));
    // Read back from the commit log (not from a flush at the stop, which a drain would have done):
    // the second start replays it; the first had none to replay.
    Path nodeLog = directory.resolve("cassandra").resolve("logs").resolve("system.log");
    assertThat(REPLAYED.matcher(Files.readString(nodeLog)).results().map(r -> r.group(1)))
        .as("commit log replays in %s", nodeLog)
        .singleElement()
        .satisfies(mutations -> assertThat(Integer.parseInt(mutations)).isPositive());
  }

  /** The log from SIGTERM on, printed; neither the server nor its node warns there. */
  private static List<String> quietShutdown(String output) {
    List<String> shutdown =
        output.lines().dropWhile(line -> !line.contains("Shutting down")).toList();
    System.out.println(
        "ServerStopIT, the server's log from SIGTERM on:\n" + String.join("\n", shutdown));
    assertThat(shutdown)
        .as(output)
        .isNotEmpty()
        .noneMatch(line -> line.contains(" WARN ") || line.contains(" ERROR "));
    return shutdown;
  }

  /** The Cassandra ports of the node of the test, the same for both of its servers. */
  private record NodePorts(int port, int storagePort) {}

  private static void awaitListening(Process server, Path log) throws IOException {
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !server.isAlive() || Files.readString(log).contains("listening on"));
    assertThat(server.isAlive()).as("the server started: %s", Files.readString(log)).isTrue();
  }

  /** After a failure only: the node runs in a session of its own and would outlive its server. */
  private static void stopForGood(Process server, ManagedChannel channel) {
    channel.shutdownNow();
    List<ProcessHandle> children = server.descendants().toList();
    server.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
  }

  private static Process startServer(Path directory, NodePorts node, int grpcPort, Path log)
      throws IOException {
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
    env.put("WATCHPARTY_CASSANDRA_LOCAL_PORT", Integer.toString(node.port()));
    env.put("WATCHPARTY_CASSANDRA_LOCAL_STORAGEPORT", Integer.toString(node.storagePort()));
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
