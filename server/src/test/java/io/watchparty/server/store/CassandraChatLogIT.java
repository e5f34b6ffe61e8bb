package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.server.chat.ChatCursor;
import io.watchparty.server.chat.ChatIds;
import io.watchparty.server.chat.ChatLog.Outcome;
import io.watchparty.server.chat.ChatLog.Page;
import io.watchparty.server.chat.ChatLog.Stored;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.testing.CassandraExtension;
import io.watchparty.server.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chat tables on the real node: retries found across buckets and restarts, history across
 * buckets and past deleted messages, deletion, and retention. One-second buckets, so that tests
 * cross many buckets by moving the clock.
 */
@ExtendWith(CassandraExtension.class)
class CassandraChatLogIT {
  private static final ChatSettings SETTINGS =
      ChatSettings.DEFAULTS.withBucket(Duration.ofSeconds(1));
  private static final MutableClock clock = MutableClock.atNow();
  private static CqlSession session;
  private static CassandraChatLog store;
  private static final ChatIds ids = new ChatIds();

  @BeforeAll
  static void open(CqlSession cassandra) {
    session = cassandra;
    store = new CassandraChatLog(session, SETTINGS, clock);
  }

  @Test
  void aRetryThroughAnotherStoreFindsTheFirstCopyAcrossBuckets() {
    // A restarted server (another store, another id generator, no memory of the room) gets
    // retries of sends the first one stored, some in the bucket before.
    CassandraChatLog restarted = new CassandraChatLog(session, SETTINGS, clock);
    ChatIds restartedIds = new ChatIds();
    UUID room = UUID.randomUUID();
    List<ChatMessage> firsts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // Half the first copies are looked up as well, and find nothing.
      boolean lookedUp = i % 2 == 0;
      Stored first =
          store
              .store(room, message(room, ids, "alice", "send-" + i, "hello " + i), lookedUp)
              .toCompletableFuture()
              .join();
      assertThat(first.outcome()).isEqualTo(Outcome.STORED);
      firsts.add(first.message());
      clock.advance(Duration.ofMillis(150));
    }
    clock.advance(Duration.ofMillis(1_500));
    for (int i = 0; i < 20; i++) {
      Stored retry =
          restarted
              .store(room, message(room, restartedIds, "alice", "send-" + i, "hello " + i), true)
              .toCompletableFuture()
              .join();
      assertThat(retry.outcome()).isEqualTo(Outcome.ALREADY_STORED);
      assertThat(retry.message()).isEqualTo(firsts.get(i));
    }
    assertThat(all(room)).containsExactlyElementsOf(firsts.reversed());
  }

  @Test
  void aRetryPastTheRetryWindowIsANewMessage() {
    UUID room = UUID.randomUUID();
    ChatMessage first = stored(room, "once");
    clock.advance(ChatSettings.RETRY_WINDOW.plusSeconds(2));

    Stored late =
        store
            .store(room, message(room, ids, "bob", "c-once", "once"), true)
            .toCompletableFuture()
            .join();

    assertThat(late.outcome()).isEqualTo(Outcome.STORED);
    assertThat(late.message().getMessageId()).isNotEqualTo(first.getMessageId());
    assertThat(all(room)).containsExactly(late.message(), first);
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
            .store(room, message(room, ids, "bob", "c-secret", "secret"), true)
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
    // The send's row, in the message's own partition (one mutation with it).
    Row send =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT message_id, TTL(message_id) FROM chat_sends WHERE room_id = ? AND"
                        + " bucket = ? AND user_id = ? AND client_message_id = ?",
                    room,
                    store.bucketOf(id),
                    "bob",
                    "c-kept a week".replace(' ', '_')))
            .one();
    assertThat(send.getUuid(0)).isEqualTo(id);
    assertThat(send.getInt(1)).isBetween((int) ttl - 60, (int) ttl);
    Row bucket =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT bucket FROM chat_buckets WHERE room_id = ?", room))
            .one();
    assertThat(bucket.getLong(0)).isEqualTo(store.bucketOf(id));
  }

  @Test
  void aWithdrawnMessageIsGoneWhetherItsWriteLandedBeforeOrAfterAndItsRetryIsANewMessage() {
    UUID room = UUID.randomUUID();
    ChatMessage landedBefore = message(room, ids, "bob", "c-before", "landed before");
    ChatMessage landsAfter = message(room, ids, "bob", "c-after", "lands after");
    store.writeAll(room, List.of(landedBefore)).toCompletableFuture().join();

    store.withdraw(room, List.of(landedBefore, landsAfter)).toCompletableFuture().join();
    // A write whose answer was lost may reach the node after its withdrawal: it loses all the same.
    store.writeAll(room, List.of(landsAfter)).toCompletableFuture().join();

    assertThat(all(room)).isEmpty();
    for (ChatMessage withdrawn : List.of(landedBefore, landsAfter)) {
      UUID id = UUID.fromString(withdrawn.getMessageId());
      assertThat(store.find(room, id).toCompletableFuture().join()).isEmpty();
    }
    // The sender's retry finds no earlier copy: it is stored as a new message.
    ChatMessage retry = message(room, ids, "bob", "c-before", "landed before");
    Stored again = store.store(room, retry, true).toCompletableFuture().join();
    assertThat(again.outcome()).isEqualTo(Outcome.STORED);
    assertThat(all(room)).containsExactly(retry);
  }

  private static ChatMessage stored(UUID room, String text) {
    Stored stored =
        store
            .store(room, message(room, ids, "bob", "c-" + text.replace(' ', '_'), text), false)
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
