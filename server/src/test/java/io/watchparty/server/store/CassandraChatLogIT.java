package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.chat.ChatCursor;
import io.watchparty.server.chat.ChatIds;
import io.watchparty.server.chat.ChatLog.Outcome;
import io.watchparty.server.chat.ChatLog.Page;
import io.watchparty.server.chat.ChatLog.Stored;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.RoomMoved;
import io.watchparty.server.testing.CassandraExtension;
import io.watchparty.server.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chat tables on the real node: retries found across buckets and restarts, history across
 * buckets and past deleted messages, deletion, retention, and the fence that keeps a former owner
 * of the room from writing. One-second buckets, so that tests cross many buckets by moving the
 * clock.
 */
@ExtendWith(CassandraExtension.class)
class CassandraChatLogIT {
  private static final ChatSettings SETTINGS =
      ChatSettings.DEFAULTS.withBucket(Duration.ofSeconds(1));
  private static final MutableClock clock = MutableClock.atNow();
  private static CqlSession session;
  private static CassandraChatLog store;
  private static final ChatIds ids = new ChatIds();

  /** The epoch of this test's ownership of its rooms. */
  private static final long EPOCH = 1;

  @BeforeAll
  static void open(CqlSession cassandra) {
    session = cassandra;
    store = new CassandraChatLog(session, SETTINGS, clock);
  }

  @Test
  void
      retriesThroughAnotherStoreFindTheirFirstCopiesAcrossBucketsAndTheNewSendsBesideThemAreStored() {
    // A restarted server (another store, another id generator, no memory of the room) gets
    // retries of sends the first one stored, some in the bucket before, mixed with new sends.
    CassandraChatLog restarted = new CassandraChatLog(session, SETTINGS, clock);
    ChatIds restartedIds = new ChatIds();
    UUID room = ownedRoom();
    List<ChatMessage> firsts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // Half the first copies are looked up as well, and find nothing.
      ChatMessage sent = message(room, ids, "alice", "send-" + i, "hello " + i);
      if (i % 2 == 0) {
        Stored first = storeOnce(store, room, EPOCH, sent);
        assertThat(first.outcome()).isEqualTo(Outcome.STORED);
        assertThat(first.message()).isEqualTo(sent);
      } else {
        store.writeAll(room, EPOCH, List.of(sent)).toCompletableFuture().join();
      }
      firsts.add(sent);
      clock.advance(Duration.ofMillis(150));
    }
    clock.advance(Duration.ofMillis(1_500));
    // The 20 sends again, and 5 new ones among them ("late-..." was never sent before).
    List<ChatMessage> batch = new ArrayList<>();
    List<Optional<ChatMessage>> retried = new ArrayList<>();
    for (int i = 0, retry = 0; i < 25; i++) {
      boolean isNew = i % 5 == 4;
      String clientId = isNew ? "late-" + i : "send-" + retry;
      batch.add(message(room, restartedIds, "alice", clientId, "hello " + i));
      retried.add(isNew ? Optional.empty() : Optional.of(firsts.get(retry++)));
    }

    List<Stored> outcomes = restarted.storeOnce(room, EPOCH, batch).toCompletableFuture().join();

    List<ChatMessage> news = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      Stored outcome = outcomes.get(i);
      if (retried.get(i).isEmpty()) {
        assertThat(outcome.outcome()).isEqualTo(Outcome.STORED);
        assertThat(outcome.message()).isEqualTo(batch.get(i));
        news.add(batch.get(i));
      } else {
        assertThat(outcome.outcome()).isEqualTo(Outcome.ALREADY_STORED);
        assertThat(outcome.message()).isEqualTo(retried.get(i).get());
      }
    }
    List<ChatMessage> expected = new ArrayList<>(firsts);
    expected.addAll(news);
    assertThat(all(room)).containsExactlyElementsOf(expected.reversed());
  }

  @Test
  void aRetryPastTheRetryWindowIsANewMessage() {
    UUID room = ownedRoom();
    ChatMessage first = stored(room, "once");
    clock.advance(ChatSettings.RETRY_WINDOW.plusSeconds(2));

    Stored late = storeOnce(store, room, EPOCH, message(room, ids, "bob", "c-once", "once"));

    assertThat(late.outcome()).isEqualTo(Outcome.STORED);
    assertThat(late.message().getMessageId()).isNotEqualTo(first.getMessageId());
    assertThat(all(room)).containsExactly(late.message(), first);
  }

  @Test
  void pagesWalkBackAcrossBucketsSkippingEmptyOnesAndDeletedMessages() {
    UUID room = ownedRoom();
    List<ChatMessage> live = new ArrayList<>();
    // Bucket gaps of 1 s to 1 h; some buckets hold only a deleted message.
    long[] gapsMs = {0, 300, 300, 1_000, 5_000, 3_600_000, 2_000, 2_000, 10, 10, 1_000};
    for (int i = 0; i < gapsMs.length; i++) {
      clock.advance(Duration.ofMillis(gapsMs[i]));
      ChatMessage m = stored(room, "m" + i);
      if (i % 4 == 3) {
        store
            .markDeleted(room, EPOCH, UUID.fromString(m.getMessageId()), "alice")
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
    UUID room = ownedRoom();
    ChatMessage oldest = stored(room, "oldest");
    // 70 newer buckets holding only deleted messages: more than one page's queries.
    for (int i = 0; i < 70; i++) {
      clock.advance(Duration.ofSeconds(2));
      ChatMessage m = stored(room, "gone-" + i);
      store
          .markDeleted(room, EPOCH, UUID.fromString(m.getMessageId()), "alice")
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
    UUID room = ownedRoom();
    ChatMessage m = stored(room, "secret");
    UUID id = UUID.fromString(m.getMessageId());

    store.markDeleted(room, EPOCH, id, "alice").toCompletableFuture().join();

    var found = store.find(room, id).toCompletableFuture().join().orElseThrow();
    assertThat(found.deleted()).isTrue();
    assertThat(found.message().getText()).isEmpty();
    assertThat(found.message().getUserId()).isEqualTo("bob");
    Stored retry = storeOnce(store, room, EPOCH, message(room, ids, "bob", "c-secret", "secret"));
    assertThat(retry.outcome()).isEqualTo(Outcome.DELETED);
    assertThat(retry.message().getText()).isEmpty();
    assertThat(all(room)).isEmpty();
  }

  @Test
  void everyRowCarriesTheRetentionTtl() {
    UUID room = ownedRoom();
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
    // The bucket's epoch expires with the bucket (its index row outlives its messages by a bucket).
    Row epoch =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT owner_epoch, TTL(owner_epoch) FROM chat_messages WHERE room_id = ? AND"
                        + " bucket = ?",
                    room,
                    store.bucketOf(id)))
            .one();
    assertThat(epoch.getLong(0)).isEqualTo(EPOCH);
    assertThat(epoch.getInt(1)).isBetween((int) ttl - 60, (int) ttl + 2);
    Row bucket =
        session
            .execute(
                SimpleStatement.newInstance(
                    "SELECT bucket FROM chat_buckets WHERE room_id = ?", room))
            .one();
    assertThat(bucket.getLong(0)).isEqualTo(store.bucketOf(id));
  }

  @Test
  void aWithdrawnMessageIsGoneWhetherItsWriteLandedOrNotAndItsRetryIsANewMessage() {
    // A write whose answer was lost cannot land after its withdrawal: both are Paxos rounds on the
    // bucket, and the withdrawal's first settles any round of the write still in progress.
    UUID room = ownedRoom();
    ChatMessage landed = message(room, ids, "bob", "c-landed", "landed");
    ChatMessage neverLanded = message(room, ids, "bob", "c-never", "never landed");
    store.writeAll(room, EPOCH, List.of(landed)).toCompletableFuture().join();

    store.withdraw(room, EPOCH, List.of(landed, neverLanded)).toCompletableFuture().join();

    assertThat(all(room)).isEmpty();
    for (ChatMessage withdrawn : List.of(landed, neverLanded)) {
      UUID id = UUID.fromString(withdrawn.getMessageId());
      assertThat(store.find(room, id).toCompletableFuture().join()).isEmpty();
    }
    // The sender's retry finds no earlier copy: it is stored as a new message.
    ChatMessage retry = message(room, ids, "bob", "c-landed", "landed");
    Stored again = storeOnce(store, room, EPOCH, retry);
    assertThat(again.outcome()).isEqualTo(Outcome.STORED);
    assertThat(all(room)).containsExactly(retry);
  }

  @Test
  void onceANewOwnerFencedTheChatEveryWriteOfTheFormerOneIsRefusedAndNothingItStoredIsLost() {
    UUID room = ownedRoom();
    ChatMessage before = stored(room, "before the takeover");
    UUID beforeId = UUID.fromString(before.getMessageId());
    store
        .mute(room, EPOCH, "carol", clock.millis() + 60_000, "alice", Duration.ofMinutes(1))
        .toCompletableFuture()
        .join();

    // Another instance claims the room (as RoomRegistry does) and fences its chat.
    CassandraChatLog successor = new CassandraChatLog(session, SETTINGS, clock);
    claim(room, EPOCH + 1);
    successor.fence(room, EPOCH + 1).toCompletableFuture().join();

    // The former owner, woken from a pause, still believes it owns the room.
    ChatMessage late = message(room, ids, "bob", "c-late", "after the takeover");
    assertMoved(store.writeAll(room, EPOCH, List.of(late)));
    assertMoved(store.storeOnce(room, EPOCH, List.of(late)));
    assertMoved(store.markDeleted(room, EPOCH, beforeId, "alice"));
    assertMoved(store.withdraw(room, EPOCH, List.of(before)));
    assertMoved(
        store.mute(room, EPOCH, "dave", clock.millis() + 1_000, "alice", Duration.ofSeconds(1)));
    assertMoved(store.unmute(room, EPOCH, "carol"));
    assertMoved(store.setSlowMode(room, EPOCH, 5_000));
    // Nor can it open a bucket the successor has not written yet.
    clock.advance(Duration.ofSeconds(3));
    assertMoved(store.writeAll(room, EPOCH, List.of(message(room, ids, "bob", "c-next", "next"))));

    assertThat(all(room)).containsExactly(before);
    assertThat(successor.mutes(room).toCompletableFuture().join()).containsOnlyKeys("carol");
    // The successor finds what the former owner stored: a retry of it is not stored twice.
    Stored retry =
        storeOnce(
            successor,
            room,
            EPOCH + 1,
            message(room, ids, "bob", before.getClientMessageId(), "x"));
    assertThat(retry.outcome()).isEqualTo(Outcome.ALREADY_STORED);
    assertThat(retry.message()).isEqualTo(before);
    ChatMessage after = message(room, ids, "bob", "c-after", "after");
    successor.writeAll(room, EPOCH + 1, List.of(after)).toCompletableFuture().join();
    successor.markDeleted(room, EPOCH + 1, beforeId, "alice").toCompletableFuture().join();
    assertThat(all(room)).containsExactly(after);
  }

  @Test
  void aMessageOlderThanItsWritableWindowIsNotWritten() {
    UUID room = ownedRoom();
    ChatMessage old = message(room, ids, "bob", "c-old", "old");
    clock.advance(CassandraChatLog.WRITABLE_FOR.plusSeconds(1));

    assertThatThrownBy(() -> store.writeAll(room, EPOCH, List.of(old)).toCompletableFuture().join())
        .cause()
        .isInstanceOfSatisfying(
            RefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(ErrorReason.STORAGE_UNAVAILABLE));
    assertThat(all(room)).isEmpty();
  }

  private static void assertMoved(CompletionStage<?> write) {
    assertThatThrownBy(() -> write.toCompletableFuture().join())
        .cause()
        .isInstanceOfSatisfying(
            RoomMoved.class, e -> assertThat(e.owner().epoch()).isEqualTo(EPOCH + 1));
  }

  /** A room row owned under {@link #EPOCH}, as a room this instance created. */
  private static UUID ownedRoom() {
    UUID room = UUID.randomUUID();
    session.execute(
        SimpleStatement.newInstance(
            "INSERT INTO rooms (room_id, owner_id, owner_address, owner_epoch) VALUES (?, ?, ?, ?)",
            room,
            "here",
            "127.0.0.1:1",
            EPOCH));
    return room;
  }

  /** Claims the room as another instance would, over the epoch before {@code epoch}. */
  private static void claim(UUID room, long epoch) {
    assertThat(
            session
                .execute(
                    SimpleStatement.newInstance(
                        "UPDATE rooms SET owner_id = 'there', owner_address = '127.0.0.2:1',"
                            + " owner_epoch = ? WHERE room_id = ? IF owner_epoch = ?",
                        epoch,
                        room,
                        epoch - 1))
                .wasApplied())
        .isTrue();
  }

  private static ChatMessage stored(UUID room, String text) {
    ChatMessage message = message(room, ids, "bob", "c-" + text.replace(' ', '_'), text);
    store.writeAll(room, EPOCH, List.of(message)).toCompletableFuture().join();
    return message;
  }

  /** Stores one send that may be a retry: what storing it found. */
  private static Stored storeOnce(
      CassandraChatLog log, UUID room, long epoch, ChatMessage message) {
    return log.storeOnce(room, epoch, List.of(message)).toCompletableFuture().join().getFirst();
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
