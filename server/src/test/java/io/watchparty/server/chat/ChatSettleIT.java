package io.watchparty.server.chat;

import static io.watchparty.server.testing.Refusals.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.cql.Row;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A chat write whose answer is lost (the node applied it, the connection died before it said so)
 * must not be answered as failed while it is in history: the server settles the outcome before it
 * answers. Cassandra is reached through a proxy that can swallow the node's answers while still
 * passing the requests on; storage is read directly, around the proxy.
 */
class ChatSettleIT {

  @RegisterExtension
  static final TestServer wp = TestServer.builder().throughProxy(Duration.ofSeconds(1)).build();

  private String roomId;
  private StreamProbe alice;
  private StreamProbe bob;
  private ChatMessage first;

  @BeforeEach
  void aliceHostsBobWatchesAliceSaysHello() {
    wp.proxy().restore(); // after a test that failed with the answers lost
    // The driver reconnects through the proxy first: until then storage is unavailable.
    roomId =
        await()
            .atMost(StreamProbe.WAIT)
            .ignoreExceptions()
            .until(
                () -> wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId(),
                id -> !id.isEmpty());
    alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    // A first message: the room's history bucket is indexed, so what follows is the message's
    // own write (a write whose index write went unanswered never reaches the message).
    first = ChatCalls.stored(alice, ChatCalls.send(alice, "hello", "hello"));
    assertThat(bob.skipTo(ServerMessage.KindCase.CHAT).getChat()).isEqualTo(first);
  }

  @Test
  void aMessageStoredWhoseAnswerWasLostIsWrittenAgainThenAcknowledgedAndDeliveredOnce() {
    wp.proxy().loseAnswers();
    String request = ChatCalls.send(bob, "lost-1", "stored, answer lost");
    // The node has it; the server has not heard so.
    await().atMost(StreamProbe.WAIT).until(() -> storedTexts().contains("stored, answer lost"));
    wp.proxy().restore();

    ChatMessage stored = ChatCalls.stored(bob, request);
    assertThat(stored.getText()).isEqualTo("stored, answer lost");
    ServerMessage delivered = alice.skipTo(ServerMessage.KindCase.CHAT);
    assertThat(delivered.getChat()).isEqualTo(stored);
    assertThat(history()).containsExactly(stored, first);
  }

  @Test
  void aMessageWhoseWritesAllWentUnansweredIsWithdrawnAndItsRetryIsANewMessage() {
    wp.proxy().loseAnswers();
    String request = ChatCalls.send(bob, "lost-2", "never confirmed");
    // The node has it; the server, hearing nothing, writes it again until it gives up.
    await().atMost(StreamProbe.WAIT).until(() -> storedTexts().contains("never confirmed"));
    CommandResult refused = bob.resultOf(request);
    assertRejected(refused.getRejected(), Code.UNAVAILABLE, ErrorReason.STORAGE_UNAVAILABLE);

    wp.proxy().restore();
    // The withdrawal is written behind the room: then the message is gone from storage.
    await().atMost(StreamProbe.WAIT).until(() -> !storedTexts().contains("never confirmed"));

    // Bob's client sends it again under the same id (a retry it is refused while the withdrawal
    // is unconfirmed): a new message, delivered and acknowledged.
    AtomicReference<ChatMessage> retried = new AtomicReference<>();
    await()
        .atMost(StreamProbe.WAIT)
        .until(
            () -> {
              CommandResult result = bob.resultOf(ChatCalls.send(bob, "lost-2", "never confirmed"));
              if (result.hasChatStored()) {
                retried.set(result.getChatStored());
              }
              return result.hasChatStored();
            });
    ChatMessage again = retried.get();
    ServerMessage delivered = alice.skipTo(ServerMessage.KindCase.CHAT);
    assertThat(delivered.getChat()).as("the first chat Alice sees is the retry").isEqualTo(again);
    assertThat(history()).containsExactly(again, first);
  }

  /** The texts of the room's messages in storage, read around the proxy. */
  private List<String> storedTexts() {
    UUID room = UUID.fromString(roomId);
    return wp.directSession().execute("SELECT room_id, text FROM chat_messages").all().stream()
        .filter(row -> room.equals(row.getUuid("room_id")))
        .map((Row row) -> row.getString("text"))
        .toList();
  }

  private List<ChatMessage> history() {
    return wp.chatAs("alice")
        .listChatHistory(
            ListChatHistoryRequest.newBuilder().setRoomId(roomId).setPageSize(100).build())
        .getMessagesList();
  }
}
