package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.server.chat.ChatStore.Outcome;
import io.watchparty.server.chat.ChatStore.Page;
import io.watchparty.server.chat.ChatStore.Stored;
import io.watchparty.server.testing.CassandraExtension;
import io.watchparty.server.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chat tables on the real node: idempotent stores under races, history across buckets and past
 * deleted messages, deletion, and retention. One-second buckets, so that tests cross many buckets
 * by moving the clock.
 */
@ExtendWith(CassandraExtension.class)
class ChatStoreIT {
  private static final ChatSettings SETTINGS =
      ChatSettings.DEFAULTS.withBucket(Duration.ofSeconds(1));
  private static final MutableClock clock = MutableClock.atNow();
  private static CqlSession session;
  private static ChatStore store;
  private static final ChatIds ids = new ChatIds();

  @BeforeAll
  static void open(CqlSession cassandra) {
    session = cassandra;
    store = new ChatStore(session, SETTINGS, clock);
  }

  @Test
  void concurrentCopiesOfASendFromTwoServersStoreOneMessage() {
    // Two servers (two stores, two id generators) racing with copies of the same sends.
    ChatStore other = new ChatStore(session, SETTINGS, clock);
    ChatIds otherIds = new ChatIds();
    UUID room = UUID.randomUUID();
    for (int i = 0; i < 20; i++) {
      String clientId = "race-" + i;
      CompletableFuture<Stored> a =
          store
              .store(room, message(room, ids, "alice", clientId, "hello " + i))
              .toCompletableFuture();
      CompletableFuture<Stored> b =
          other
              .store(room, message(room, otherIds, "alice", clientId, "hello " + i))
              .toCompletableFuture();
      Stored first = a.join();
      Stored second = b.join();
      assertThat(second.message().getMessageId()).isEqualTo(first.message().getMessageId());
      assertThat(List.of(first.outcome(), second.outcome())).contains(Outcome.STORED);
    }
    assertThat(all(room)).hasSize(20);
  }

  @Test
  void aRetryAfterTheClaimAloneWritesTheClaimedMessage() {
    UUID room = UUID.randomUUID();
    UUID claimed = ids.next(clock.millis());
    // The first send died right after claiming its id.
    session.execute(
        SimpleStatement.newInstance(
            "INSERT INTO chat_client_ids (room_id, user_id, client_message_id, message_id)"
                + " VALUES (?, ?, ?, ?)",
            room,
            "bob",
            "lost-1",
            claimed));
    clock.advance(Duration.ofMillis(1_500));

    Stored retried =
        store
            .store(room, message(room, ids, "bob", "lost-1", "again"))
            .toCompletableFuture()
            .join();

    assertThat(retried.outcome()).isEqualTo(Outcome.STORED);
    assertThat(retried.message().getMessageId()).isEqualTo(claimed.toString());
    assertThat(retried.message().getSentAtMs()).isEqualTo(ChatIds.millis(claimed));
    assertThat(all(room)).containsExactly(retried.message());
  }

  @Test
  void pagesWalkBackAcrossBucketsSkippingEmptyOnesAndDeletedMessages() {
    UUID room = UUID.randomUUID();
    List<ChatMessage> live = new ArrayList<>();
    // Bucket gaps of 1 s to 1 h; some buckets hold only a deleted message.
    long[] gapsMs = {0, 300, 300, 1_000, 5_000, 3_600_000, 2_000, 2_000, 10, 10, 1_000};
    for (int i = 0; i < gapsMs.length; i++) {
      clock.advance(Duration.ofMillis(gapsMs[i]));
      ChatMessage m = stored(room, "m" + i);
      if (i % 4 == 3) {
        store
            .markDeleted(room, UUID.fromString(m.getMessageId()), "alice", 0)
            .toCompletableFuture()
            .join();
      } else {
        live.add(m);
      }
    }
    List<ChatMessage> newestFirst = live.reversed();
    for (int size : new int[] {1, 2, 3, 100}) {
      List<ChatMessage> paged = new ArrayList<>();
      Optional<ChatCursor> cursor = Optional.empty();
      do {
        Page page = store.page(room, cursor, size).toCompletableFuture().join();
        assertThat(page.messages().size()).isLessThanOrEqualTo(size);
        paged.addAll(page.messages());
        cursor = page.next().map(c -> ChatCursor.decode(c.encode()).orElseThrow());
      } while (cursor.isPresent());
      assertThat(paged).as("pages of %d", size).isEqualTo(newestFirst);
    }
  }

  @Test
  void aPageStopsAfterItsQueryBudgetAndTheCursorContinues() {
    UUID room = UUID.randomUUID();
    ChatMessage oldest = stored(room, "oldest");
    // 70 newer buckets holding only deleted messages: more than one page's queries.
    for (int i = 0; i < 70; i++) {
      clock.advance(Duration.ofSeconds(2));
      ChatMessage m = stored(room, "gone-" + i);
      store
          .markDeleted(room, UUID.fromString(m.getMessageId()), "alice", 0)
          .toCompletableFuture()
          .join();
    }
    Page first = store.page(room, Optional.empty(), 10).toCompletableFuture().join();
    assertThat(first.messages()).isEmpty();
    assertThat(first.next()).isPresent();
    List<ChatMessage> rest = new ArrayList<>();
    Optional<ChatCursor> cursor = first.next();
    int pages = 1;
    while (cursor.isPresent()) {
      Page page = store.page(room, cursor, 10).toCompletableFuture().join();
      rest.addAll(page.messages());
      cursor = page.next();
      pages++;
    }
    assertThat(rest).containsExactly(oldest);
    assertThat(pages).isBetween(2, 4);
  }

  @Test
  void deletionKeepsNoTextAndARetriedSendCannotRestoreIt() {
    UUID room = UUID.randomUUID();
    ChatMessage m = stored(room, "secret");
    UUID id = UUID.fromString(m.getMessageId());

    store.markDeleted(room, id, "alice", 0).toCompletableFuture().join();

    var found = store.find(room, id).toCompletableFuture().join().orElseThrow();
    assertThat(found.deleted()).isTrue();
    assertThat(found.message().getText()).isEmpty();
    assertThat(found.message().getUserId()).isEqualTo("bob");
    Stored retry =
        store
            .store(room, message(room, ids, "bob", "c-secret", "secret"))
            .toCompletableFuture()
            .join();
    assertThat(retry.outcome()).isEqualTo(Outcome.DELETED);
    assertThat(retry.message().getText()).isEmpty();
    assertThat(all(room)).isEmpty();
  }

  @Test
  void everyRowCarriesTheRetentionTtl() {
    UUID room = UUID.randomUUID();
    ChatMessage m = stored(room, "kept a week");
    UUID id = UUID.fromString(m.getMessageId());
    long ttl = SETTINGS.ttl().toSeconds();

    Row message =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT TTL(text), TTL(user_id) FROM chat_messages WHERE room_id = ? AND"
                        + " bucket = ? AND message_id = ?",
                    room,
                    store.bucketOf(id),
                    id))
            .one();
    assertThat(message.getInt(0)).isBetween((int) ttl - 60, (int) ttl);
    assertThat(message.getInt(1)).isBetween((int) ttl - 60, (int) ttl);
    Row claim =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT TTL(message_id) FROM chat_client_ids WHERE room_id = ? AND user_id = ?"
                        + " AND client_message_id = ?",
                    room,
                    "bob",
                    "c-kept a week".replace(' ', '_')))
            .one();
    assertThat(claim.getInt(0)).isBetween((int) ttl - 60, (int) ttl);
    Row bucket =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT bucket FROM chat_buckets WHERE room_id = ?", room))
            .one();
    assertThat(bucket.getLong(0)).isEqualTo(store.bucketOf(id));
  }

  private static ChatMessage stored(UUID room, String text) {
    Stored stored =
        store
            .store(room, message(room, ids, "bob", "c-" + text.replace(' ', '_'), text))
            .toCompletableFuture()
            .join();
    assertThat(stored.outcome()).isEqualTo(Outcome.STORED);
    return stored.message();
  }

  private static ChatMessage message(
      UUID room, ChatIds generator, String userId, String clientId, String text) {
    UUID id = generator.next(clock.millis());
    return ChatMessage.newBuilder()
        .setMessageId(id.toString())
        .setRoomId(room.toString())
        .setUserId(userId)
        .setDisplayName(userId)
        .setClientMessageId(clientId)
        .setText(text)
        .setSentAtMs(ChatIds.millis(id))
        .build();
  }

  private static List<ChatMessage> all(UUID room) {
    return store.page(room, Optional.empty(), 100).toCompletableFuture().join().messages();
  }
}
