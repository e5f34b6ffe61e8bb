package io.watchparty.server.chat;

import static io.watchparty.server.testing.ChatCalls.send;
import static io.watchparty.server.testing.ChatCalls.stored;
import static io.watchparty.server.testing.Refusals.assertRefused;
import static io.watchparty.server.testing.Refusals.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status.Code;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TcpProxy;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cassandra unreachable: the server talks to the node through a {@link TcpProxy} the test turns
 * into a black hole (requests are swallowed and time out, as with a hung node or a network
 * partition), then restores. Chat must fail clearly, acknowledge nothing it did not store, never
 * hold up playback, and work again once the node answers, without a restart.
 */
class ChatOutageIT {
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .chat(ChatSettings.DEFAULTS.withMessageRate(1_000, 1_000))
          .throughProxy(REQUEST_TIMEOUT)
          .build();

  @Test
  void sendsFailClearlyWhileCassandraIsUnreachableThenChatWorksAgain() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    ChatMessage before = stored(alice, send(alice, "o-1", "before the outage"));
    assertThat(bob.skipTo(KindCase.CHAT).getChat()).isEqualTo(before);

    wp.proxy().blackHole();

    // A send, then a play command right behind it: playback does not wait for the chat write.
    long sentAt = System.nanoTime();
    String lost = send(alice, "o-2", "during the outage");
    String play = alice.command(Commands.play());
    List<ServerMessage> seen =
        alice.until(m -> m.hasCommandResult() && m.getCommandResult().getRequestId().equals(lost));
    long failedAfterMs = (System.nanoTime() - sentAt) / 1_000_000;
    int playResult = indexOfResult(seen, play);
    assertThat(playResult).as("play answered before the chat failure").isNotNegative();
    assertThat(seen.get(playResult).getCommandResult().getAccepted().getSequence()).isPositive();
    CommandResult failed = seen.getLast().getCommandResult();
    assertRejected(failed.getRejected(), Code.UNAVAILABLE, ErrorReason.STORAGE_UNAVAILABLE);
    assertThat(failed.getRejected().getMessage()).contains("storage is unreachable");
    System.out.printf(
        "ChatOutageIT: send refused with UNAVAILABLE/STORAGE_UNAVAILABLE after %d ms"
            + " (driver request timeout %d ms)%n",
        failedAfterMs, REQUEST_TIMEOUT.toMillis());

    // The other member got the playback change, and no chat message.
    List<ServerMessage> bobSaw = bob.until(ServerMessage::hasPlaybackChanged);
    assertThat(bobSaw).noneMatch(ServerMessage::hasChat);
    assertThat(bobSaw.getLast().getPlaybackChanged().getState().getPlaying()).isTrue();
    assertRefused(
        () -> wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "o-3", "me neither")),
        Code.UNAVAILABLE,
        ErrorReason.STORAGE_UNAVAILABLE);
    alice.command(Commands.pause());
    assertThat(bob.skipTo(KindCase.PLAYBACK_CHANGED).getPlaybackChanged().getState().getPlaying())
        .isFalse();

    wp.proxy().restore();
    long restoredAt = System.nanoTime();

    // The client retries its unacknowledged message until it is stored, without a restart.
    AtomicReference<ChatMessage> retried = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              CommandResult result = alice.resultOf(send(alice, "o-2", "during the outage"));
              if (result.hasChatStored()) {
                retried.set(result.getChatStored());
              }
              return result.hasChatStored();
            });
    System.out.printf(
        "ChatOutageIT: chat works again %d ms after the node became reachable%n",
        (System.nanoTime() - restoredAt) / 1_000_000);
    assertThat(retried.get().getText()).isEqualTo("during the outage");

    // Delivered once, stored once; the send that was never retried was never stored.
    ChatMessage marker = stored(alice, send(alice, "o-4", "after the outage"));
    List<ChatMessage> delivered =
        bob.until(m -> m.hasChat() && m.getChat().equals(marker)).stream()
            .filter(ServerMessage::hasChat)
            .map(ServerMessage::getChat)
            .toList();
    assertThat(delivered).containsExactly(retried.get(), marker);
    assertThat(
            wp.chatAs("bob")
                .listChatHistory(ListChatHistoryRequest.newBuilder().setRoomId(roomId).build())
                .getMessagesList())
        .containsExactly(marker, retried.get(), before);
  }

  private static int indexOfResult(List<ServerMessage> messages, String requestId) {
    return IntStream.range(0, messages.size())
        .filter(
            i ->
                messages.get(i).hasCommandResult()
                    && messages.get(i).getCommandResult().getRequestId().equals(requestId))
        .findFirst()
        .orElse(-1);
  }
}
