package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import io.grpc.stub.MetadataUtils;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.store.Storage;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.MutableClock;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A room writes one batch of new messages at a time: the sends admitted while it is written are
 * written together next, and each is still acknowledged once stored, published in order and found
 * in history. The server's session counts the message batches it is given and holds the first one
 * until the test lets it complete.
 */
class ChatBatchIT {
  private static final List<Integer> messagesPerBatch = new CopyOnWriteArrayList<>();

  /** While set, the next message batch is held until this completes. */
  private static final AtomicReference<CompletableFuture<Void>> holdNextBatch =
      new AtomicReference<>();

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .clock(MutableClock.atNow())
          .chat(ChatSettings.DEFAULTS.withMessageRate(10_000, 10_000))
          .session(ChatBatchIT::countingBatches)
          .build();

  @Test
  void sendsAdmittedWhileARoomWritesAreStoredTogetherInTheNextBatch() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    ChatServiceGrpc.ChatServiceFutureStub chat = chat();
    Map<Integer, Future<ChatMessage>> acks = new HashMap<>();

    messagesPerBatch.clear();
    CompletableFuture<Void> heldBatchMayComplete = new CompletableFuture<>();
    holdNextBatch.set(heldBatchMayComplete);
    acks.put(1, send(chat, roomId, 1));
    await().atMost(Duration.ofSeconds(10)).until(() -> messagesPerBatch.size() == 1);
    for (int i = 2; i <= 20; i++) {
      acks.put(i, send(chat, roomId, i));
    }
    assertThat(acks.get(1)).isNotDone();
    heldBatchMayComplete.complete(null);

    List<ChatMessage> stored = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      ChatMessage ack = acks.get(i).get(10, TimeUnit.SECONDS);
      assertThat(ack.getText()).isEqualTo("message " + i);
      stored.add(ack);
    }
    assertThat(messagesPerBatch).containsExactly(1, 19);

    List<ChatMessage> published =
        bob.until(m -> m.hasChat() && m.getChat().equals(stored.getLast())).stream()
            .filter(ServerMessage::hasChat)
            .map(ServerMessage::getChat)
            .toList();
    assertThat(published).containsExactlyElementsOf(stored);
    assertThat(history(roomId)).containsExactlyElementsOf(stored.reversed());
  }

  /**
   * After a restart (or a takeover) the room does not know which recent sends were stored, so every
   * send may be a retry and is looked up first: those admitted while one is stored are looked up
   * together, and only the ones not found are written, in one batch.
   */
  @Test
  void sendsThatMayBeRetriesAreLookedUpTogetherAndOnlyTheNewOnesWrittenInOneBatch()
      throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    wp.connect("bob").join(roomId).snapshot();
    List<ChatMessage> before = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      before.add(send(chat(), roomId, i).get(10, TimeUnit.SECONDS));
    }
    wp.restart();
    wp.connect("bob").join(roomId).snapshot();
    ChatServiceGrpc.ChatServiceFutureStub chat = chat();
    messagesPerBatch.clear();
    CompletableFuture<Void> heldBatchMayComplete = new CompletableFuture<>();
    holdNextBatch.set(heldBatchMayComplete);

    Future<ChatMessage> first = send(chat, roomId, 100);
    await().atMost(Duration.ofSeconds(10)).until(() -> messagesPerBatch.size() == 1);
    // The client never saw the acknowledgements of 1-5 and sends them again, among new ones.
    Map<Integer, Future<ChatMessage>> acks = new HashMap<>();
    for (int i = 1; i <= 20; i++) {
      acks.put(i, send(chat, roomId, i));
    }
    heldBatchMayComplete.complete(null);

    List<ChatMessage> stored = new ArrayList<>(before);
    stored.add(first.get(10, TimeUnit.SECONDS));
    for (int i = 1; i <= 20; i++) {
      ChatMessage ack = acks.get(i).get(10, TimeUnit.SECONDS);
      if (i <= 5) {
        assertThat(ack).as("retry %d", i).isEqualTo(before.get(i - 1));
      } else {
        assertThat(ack.getText()).isEqualTo("message " + i);
        stored.add(ack);
      }
    }
    assertThat(messagesPerBatch).containsExactly(1, 15);
    assertThat(history(roomId)).containsExactlyElementsOf(stored.reversed());
  }

  /** The room's history as bob pages it, newest first (one page of up to 50). */
  private static List<ChatMessage> history(String roomId) {
    return wp.chatAs("bob")
        .listChatHistory(
            ListChatHistoryRequest.newBuilder().setRoomId(roomId).setPageSize(50).build())
        .getMessagesList();
  }

  private static ChatServiceGrpc.ChatServiceFutureStub chat() {
    return ChatServiceGrpc.newFutureStub(wp.channel())
        .withInterceptors(
            MetadataUtils.newAttachHeadersInterceptor(TestServer.bearer(wp.token("bob"))));
  }

  private static Future<ChatMessage> send(
      ChatServiceGrpc.ChatServiceFutureStub chat, String roomId, int i) {
    return chat.sendChat(ChatCalls.request(roomId, "batch-" + i, "message " + i));
  }

  /** The class keyspace's session, counting chat message batches; closing it leaves it open. */
  private static CqlSession countingBatches(Storage storage) {
    CqlSession real = storage.session();
    return (CqlSession)
        Proxy.newProxyInstance(
            CqlSession.class.getClassLoader(),
            new Class<?>[] {CqlSession.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "close" -> {
                  return null;
                }
                case "closeAsync", "forceCloseAsync" -> {
                  return CompletableFuture.completedFuture(null);
                }
                default -> {}
              }
              if (method.getName().equals("executeAsync")
                  && args.length == 1
                  && args[0] instanceof BatchStatement batch
                  && messagesIn(batch) > 0) {
                messagesPerBatch.add(messagesIn(batch));
                CompletionStage<?> result = real.executeAsync(batch);
                CompletableFuture<Void> held = holdNextBatch.getAndSet(null);
                return held != null ? result.thenCombine(held, (rs, v) -> rs) : result;
              }
              try {
                return method.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static int messagesIn(BatchStatement batch) {
    int messages = 0;
    for (BatchableStatement<?> statement : batch) {
      if (statement instanceof BoundStatement bound
          && bound.getPreparedStatement().getQuery().startsWith("INSERT INTO chat_messages")) {
        messages++;
      }
    }
    return messages;
  }
}
