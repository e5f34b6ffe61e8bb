package io.watchparty.server.store;

import static io.watchparty.server.testing.ChatCalls.send;
import static io.watchparty.server.testing.ChatCalls.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.helidon.config.Config;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node of its own (own ports, own directory: the shared node of the test run is never touched),
 * started by the storage under a running server, killed with SIGKILL as a crash would: the node is
 * restarted, the driver reconnects, and chat works again without a server restart.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class NodeSupervisionIT {

  @Test
  void aKilledNodeIsRestartedAndChatRecoversByItself(@TempDir Path directory) throws IOException {
    StorageSettings configured = StorageSettings.from(Config.create());
    LocalNodeSettings local =
        configured
            .local()
            .withDirectory(directory)
            .withPorts(freePort(), freePort())
            .withHeap("512M");
    StorageSettings settings =
        configured.withLocal(local).withKeyspace("wp_test_nodesupervisionit");

    try (Storage storage = Storage.open(settings);
        TestServer wp = TestServer.builder().start(storage.session())) {
      LocalCassandraNode node = storage.localNode().orElseThrow();
      assertThat(node.startedHere()).isTrue();
      long crashed = node.pid().orElseThrow();
      String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      StreamProbe alice = wp.connect("alice").join(roomId);
      alice.snapshot();
      ChatMessage before = stored(alice, send(alice, "s-1", "before the crash"));

      ProcessHandle.of(crashed).orElseThrow().destroyForcibly();

      await()
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> node.pid().isPresent() && node.pid().getAsLong() != crashed);
      // The client retries its message until it is stored, as after any storage outage.
      AtomicReference<ChatMessage> after = new AtomicReference<>();
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                CommandResult result = alice.resultOf(send(alice, "s-2", "after the crash"));
                if (result.hasChatStored()) {
                  after.set(result.getChatStored());
                }
                return result.hasChatStored();
              });

      assertThat(ProcessHandle.of(crashed).filter(ProcessHandle::isAlive)).isEmpty();
      assertThat(
              wp.chatAs("bob")
                  .listChatHistory(ListChatHistoryRequest.newBuilder().setRoomId(roomId).build())
                  .getMessagesList())
          .containsExactly(after.get(), before);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
