package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Room locks are taken by virtual threads (stream drains, timer callbacks, chat completions). A
 * {@code synchronized} block around work that parks would pin the carrier thread on JDK 21-23, so
 * the room uses {@code ReentrantLock}; this records JFR's pinning events during a fan-out and chat
 * run and expects none from the server's code.
 */
class VirtualThreadPinningIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  @Test
  void fanOutAndChatPinNoCarrierThread() throws Exception {
    List<RecordedEvent> pinned = new ArrayList<>();
    Path dump = Files.createTempFile("pinning", ".jfr");
    try (Recording recording = new Recording()) {
      recording
          .enable("jdk.VirtualThreadPinned")
          .withThreshold(java.time.Duration.ZERO)
          .withStackTrace();
      recording.start();

      String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      StreamProbe alice = wp.connect("alice").join(roomId);
      alice.snapshot();
      List<StreamProbe> viewers = new ArrayList<>();
      for (String user : List.of("bob", "chiara", "emma", "farid", "gabriela", "hiro")) {
        StreamProbe viewer = wp.connect(user).join(roomId);
        viewer.snapshot();
        viewers.add(viewer);
      }
      String lastChat = null;
      for (int i = 1; i <= 30; i++) {
        alice.resultOf(alice.command(Commands.seek(i * 1_000L)));
        StreamProbe speaker = viewers.get(i % viewers.size());
        lastChat = "message " + i;
        speaker.send(
            ClientMessage.newBuilder()
                .setRequestId("chat-" + i)
                .setSendChat(SendChat.newBuilder().setClientMessageId("c-" + i).setText(lastChat))
                .build());
        speaker.resultOf("chat-" + i);
      }
      String expected = lastChat;
      List<ServerMessage> seen =
          alice.until(m -> m.hasChat() && m.getChat().getText().equals(expected));
      assertThat(seen).filteredOn(ServerMessage::hasChat).isNotEmpty();

      recording.stop();
      recording.dump(dump);
      for (RecordedEvent event : RecordingFile.readAllEvents(dump)) {
        if (event.getStackTrace() != null
            && event.getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getType().getName().startsWith("io.watchparty"))) {
          pinned.add(event);
        }
      }
    } finally {
      Files.deleteIfExists(dump);
    }
    assertThat(pinned).as("virtual threads pinned in WatchParty code").isEmpty();
  }
}
