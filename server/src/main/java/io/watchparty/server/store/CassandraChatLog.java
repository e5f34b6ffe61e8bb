package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.server.chat.ChatCursor;
import io.watchparty.server.chat.ChatIds;
import io.watchparty.server.chat.ChatLog;
import io.watchparty.server.chat.ChatSettings;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The chat's {@link ChatLog} in Cassandra (tables of {@code V004__chat.cql}): prepared statements
 * only, every call asynchronous. Also owns the {@code slow_mode_ms} column of {@code rooms}: slow
 * mode is a room setting that only chat moderation changes.
 */
public final class CassandraChatLog implements ChatLog {
  /** Queries one history page may run before it returns what it found with a cursor. */
  static final int MAX_QUERIES_PER_PAGE = 64;

  private final CqlSession session;
  private final InstantSource clock;
  private final long bucketMillis;
  private final int ttlSeconds;
  private final int bucketTtlSeconds;

  /** Buckets whose index row this server has written (or is writing); failures are dropped. */
  private final AsyncCache<BucketKey, Boolean> indexedBuckets;

  private final PreparedStatement insertSend;
  private final PreparedStatement selectSend;
  private final PreparedStatement bucketsSince;
  private final PreparedStatement insertMessage;
  private final PreparedStatement selectMessage;
  private final PreparedStatement markDeleted;
  private final PreparedStatement insertBucket;
  private final PreparedStatement withdrawMessage;
  private final PreparedStatement withdrawSend;
  private final PreparedStatement newestBucket;
  private final PreparedStatement olderBucket;
  private final PreparedStatement pageOfBucket;
  private final PreparedStatement insertMute;
  private final PreparedStatement deleteMute;
  private final PreparedStatement selectMutes;
  private final PreparedStatement updateSlowMode;

  private record BucketKey(UUID roomId, long bucket) {}

  public CassandraChatLog(CqlSession session, ChatSettings settings, InstantSource clock) {
    this.session = session;
    this.clock = clock;
    this.bucketMillis = settings.bucket().toMillis();
    this.ttlSeconds = Math.toIntExact(settings.ttl().toSeconds());
    this.bucketTtlSeconds = Math.toIntExact(settings.ttl().plus(settings.bucket()).toSeconds() + 1);
    this.indexedBuckets =
        Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofMillis(Math.max(2 * bucketMillis, 60_000)))
            .maximumSize(100_000)
            .buildAsync();
    String columns = "message_id, user_id, display_name, client_message_id, text, deleted_by";
    insertSend =
        session.prepare(
            "INSERT INTO chat_sends (room_id, bucket, user_id, client_message_id, message_id)"
                + " VALUES (?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
    selectSend =
        session.prepare(
            "SELECT message_id FROM chat_sends"
                + " WHERE room_id = ? AND bucket = ? AND user_id = ? AND client_message_id = ?");
    bucketsSince =
        session.prepare("SELECT bucket FROM chat_buckets WHERE room_id = ? AND bucket >= ?");
    insertMessage =
        session.prepare(
            "INSERT INTO chat_messages (room_id, bucket, message_id, user_id, display_name,"
                + " client_message_id, text) VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " USING TTL ? AND TIMESTAMP ?");
    selectMessage =
        session.prepare(
            "SELECT "
                + columns
                + " FROM chat_messages WHERE room_id = ? AND bucket = ? AND message_id = ?");
    markDeleted =
        session.prepare(
            "UPDATE chat_messages USING TTL ? AND TIMESTAMP ? SET text = '', deleted_by = ?"
                + " WHERE room_id = ? AND bucket = ? AND message_id = ?");
    insertBucket =
        session.prepare("INSERT INTO chat_buckets (room_id, bucket) VALUES (?, ?) USING TTL ?");
    withdrawMessage =
        session.prepare(
            "DELETE FROM chat_messages USING TIMESTAMP ?"
                + " WHERE room_id = ? AND bucket = ? AND message_id = ?");
    withdrawSend =
        session.prepare(
            "DELETE FROM chat_sends USING TIMESTAMP ?"
                + " WHERE room_id = ? AND bucket = ? AND user_id = ? AND client_message_id = ?");
    newestBucket = session.prepare("SELECT bucket FROM chat_buckets WHERE room_id = ? LIMIT 1");
    olderBucket =
        session.prepare("SELECT bucket FROM chat_buckets WHERE room_id = ? AND bucket < ? LIMIT 1");
    pageOfBucket =
        session.prepare(
            "SELECT "
                + columns
                + " FROM chat_messages WHERE room_id = ? AND bucket = ? AND message_id < ?"
                + " LIMIT ?");
    insertMute =
        session.prepare(
            "INSERT INTO chat_mutes (room_id, user_id, until_ms, by_user_id) VALUES (?, ?, ?, ?)"
                + " USING TTL ? AND TIMESTAMP ?");
    deleteMute =
        session.prepare(
            "DELETE FROM chat_mutes USING TIMESTAMP ? WHERE room_id = ? AND user_id = ?");
    selectMutes = session.prepare("SELECT user_id, until_ms FROM chat_mutes WHERE room_id = ?");
    updateSlowMode =
        session.prepare("UPDATE rooms USING TIMESTAMP ? SET slow_mode_ms = ? WHERE room_id = ?");
  }

  /** The history bucket of a message id. */
  @Override
  public long bucketOf(UUID messageId) {
    return bucketAt(ChatIds.millis(messageId));
  }

  private long bucketAt(long epochMillis) {
    return Math.floorDiv(epochMillis, bucketMillis) * bucketMillis;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /**
   * Stores a message once per (room, sender, client message id); completes when Cassandra has the
   * message and its bucket is indexed, so history can find it.
   *
   * <p>Idempotence: the message is written together with its send's row in {@code chat_sends}, in
   * one single-partition batch (one mutation: both or neither). Copies of a send that race are the
   * room's to settle in memory: one instance serves a room at a time and admits one copy ({@code
   * StoredRoomChat}). What the room may no longer remember, a retry after a restart or after its
   * memory overflowed ({@code mayBeARetry}), is looked up first in the buckets of the {@linkplain
   * ChatSettings#RETRY_WINDOW retry window}: a copy found there is answered with the stored
   * message, as it is now (deleted or not).
   */
  @Override
  public CompletionStage<Stored> store(UUID roomId, ChatMessage message, boolean mayBeARetry) {
    if (!mayBeARetry) {
      return write(roomId, message).thenApply(v -> new Stored(message, Outcome.STORED));
    }
    return earlierCopy(roomId, message)
        .thenCompose(
            earlier ->
                earlier.isPresent()
                    ? CompletableFuture.completedFuture(earlier.get())
                    : write(roomId, message).thenApply(v -> new Stored(message, Outcome.STORED)));
  }

  /** The stored copy of this send, if one was written within the retry window. */
  private CompletionStage<Optional<Stored>> earlierCopy(UUID roomId, ChatMessage message) {
    long since = bucketAt(clock.millis() - ChatSettings.RETRY_WINDOW.toMillis());
    return execute(bucketsSince.bind(roomId, since))
        .thenCompose(
            buckets -> {
              // A bucket is indexed before any of its messages is written, so these are all the
              // buckets that may hold a copy: a few (one per minute of the window).
              List<CompletableFuture<Optional<UUID>>> lookups = new ArrayList<>();
              for (Row bucket : buckets.currentPage()) {
                lookups.add(
                    execute(
                            selectSend.bind(
                                roomId,
                                bucket.getLong(0),
                                message.getUserId(),
                                message.getClientMessageId()))
                        .thenApply(rs -> Optional.ofNullable(rs.one()).map(row -> row.getUuid(0))));
              }
              return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                  .thenApply(
                      v ->
                          lookups.stream()
                              .map(CompletableFuture::join)
                              .flatMap(Optional::stream)
                              .findFirst());
            })
        .thenCompose(
            original ->
                original.isEmpty()
                    ? CompletableFuture.completedFuture(Optional.<Stored>empty())
                    : find(roomId, original.get())
                        .thenApply(
                            found ->
                                found.map(
                                    f ->
                                        new Stored(
                                            f.message(),
                                            f.deleted()
                                                ? Outcome.DELETED
                                                : Outcome.ALREADY_STORED))));
  }

  /** The message and its send's row, in one mutation, once the bucket is indexed. */
  private CompletionStage<Void> write(UUID roomId, ChatMessage message) {
    return writeAll(roomId, List.of(message));
  }

  /**
   * Stores messages of one room that need no lookup for an earlier copy (see {@link #store}): each
   * with its send's row, in one single-partition batch per history bucket, so that a burst of a
   * room's messages costs Cassandra one mutation instead of one each. Completes when all are
   * stored; fails if any bucket's batch failed (its messages may or may not be stored, as for any
   * failed write: a retry of them looks them up).
   */
  @Override
  public CompletionStage<Void> writeAll(UUID roomId, List<ChatMessage> messages) {
    List<CompletableFuture<?>> batches = new ArrayList<>();
    perBucket(
            messages,
            (message, id, bucket) -> {
              int ttl = remainingTtl(id);
              long micros = ChatIds.micros(id);
              return List.of(
                  insertSend.bind(
                      roomId,
                      bucket,
                      message.getUserId(),
                      message.getClientMessageId(),
                      id,
                      ttl,
                      micros),
                  insertMessage.bind(
                      roomId,
                      bucket,
                      id,
                      message.getUserId(),
                      message.getDisplayName(),
                      message.getClientMessageId(),
                      message.getText(),
                      ttl,
                      micros));
            })
        .forEach(
            (bucket, batch) ->
                // Indexed first: a stored message is always in a bucket that history and retries
                // find.
                batches.add(indexed(roomId, bucket).thenCompose(v -> execute(batch))));
    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new));
  }

  /**
   * Deletes each message and its send's row one microsecond after the message's own write time, in
   * one single-partition batch per bucket (as {@link #writeAll} wrote them): the deletion wins over
   * the write whichever reaches Cassandra first.
   */
  @Override
  public CompletionStage<Void> withdraw(UUID roomId, List<ChatMessage> messages) {
    return CompletableFuture.allOf(
        perBucket(
                messages,
                (message, id, bucket) -> {
                  long after = ChatIds.micros(id) + 1;
                  return List.of(
                      withdrawMessage.bind(after, roomId, bucket, id),
                      withdrawSend.bind(
                          after,
                          roomId,
                          bucket,
                          message.getUserId(),
                          message.getClientMessageId()));
                })
            .values()
            .stream()
            .map(this::execute)
            .toArray(CompletableFuture[]::new));
  }

  /** The statements of one message, which lives in {@code bucket} under {@code id}. */
  private interface MessageStatements {
    List<BatchableStatement<?>> of(ChatMessage message, UUID id, long bucket);
  }

  /**
   * The statements of each message, as one idempotent single-partition batch per history bucket
   * (the messages of one bucket share their partition), in bucket order.
   */
  private Map<Long, BatchStatement> perBucket(
      List<ChatMessage> messages, MessageStatements statements) {
    Map<Long, List<BatchableStatement<?>>> byBucket = new LinkedHashMap<>();
    for (ChatMessage message : messages) {
      UUID id = UUID.fromString(message.getMessageId());
      long bucket = bucketOf(id);
      byBucket
          .computeIfAbsent(bucket, b -> new ArrayList<>())
          .addAll(statements.of(message, id, bucket));
    }
    Map<Long, BatchStatement> batches = new LinkedHashMap<>();
    byBucket.forEach(
        (bucket, batch) ->
            batches.put(
                bucket,
                BatchStatement.newInstance(DefaultBatchType.UNLOGGED, batch).setIdempotent(true)));
    return batches;
  }

  /** Writes the bucket's index row unless this server already did. */
  private CompletableFuture<Boolean> indexed(UUID roomId, long bucket) {
    // A failed write is removed from the cache by Caffeine, so the next message retries it.
    return indexedBuckets.get(
        new BucketKey(roomId, bucket),
        (key, executor) ->
            execute(insertBucket.bind(roomId, bucket, bucketTtlSeconds).setIdempotent(true))
                .thenApply(rs -> Boolean.TRUE));
  }

  /** A message by id, deleted or not; empty if it was never stored (or has expired). */
  @Override
  public CompletionStage<Optional<Found>> find(UUID roomId, UUID messageId) {
    return execute(selectMessage.bind(roomId, bucketOf(messageId), messageId))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(row -> found(roomId, row)));
  }

  /**
   * Marks a message deleted: its text becomes empty and {@code deleted_by} is set, at a write
   * timestamp later than the message's own, with the TTL the message has left.
   */
  @Override
  public CompletionStage<Void> markDeleted(
      UUID roomId, UUID messageId, String byUserId, long micros) {
    return execute(
            markDeleted
                .bind(
                    remainingTtl(messageId),
                    Math.max(micros, ChatIds.micros(messageId) + 1),
                    byUserId,
                    roomId,
                    bucketOf(messageId),
                    messageId)
                .setIdempotent(true))
        .thenApply(rs -> null);
  }

  // ---------------------------------------------------------------------------------------------
  // History

  /**
   * Up to {@code size} messages older than {@code from} (the newest if empty), newest first,
   * walking back through the room's buckets; deleted messages are skipped. The next cursor is empty
   * when nothing older is left.
   */
  @Override
  public CompletionStage<Page> page(UUID roomId, Optional<ChatCursor> from, int size) {
    var walk = new Walk(roomId, size);
    if (from.isPresent()) {
      return walk.scan(from.get(), 0);
    }
    return execute(newestBucket.bind(roomId))
        .thenCompose(
            rs -> {
              Row newest = rs.one();
              return newest == null
                  ? CompletableFuture.completedFuture(new Page(List.of(), Optional.empty()))
                  : walk.scan(ChatCursor.wholeBucket(newest.getLong(0), bucketMillis), 1);
            });
  }

  /** The state of one page being read. */
  private final class Walk {
    private final UUID roomId;
    private final int size;
    private final List<ChatMessage> found = new ArrayList<>();
    private final List<Long> foundIn = new ArrayList<>();

    Walk(UUID roomId, int size) {
      this.roomId = roomId;
      this.size = size;
    }

    /** Reads on from {@code at}; one more message than the page holds tells if there is more. */
    CompletionStage<Page> scan(ChatCursor at, int queries) {
      if (queries >= MAX_QUERIES_PER_PAGE) {
        return CompletableFuture.completedFuture(new Page(List.copyOf(found), Optional.of(at)));
      }
      int limit = size + 1 - found.size();
      return execute(pageOfBucket.bind(roomId, at.bucket(), at.before(), limit))
          .thenCompose(
              rs -> {
                int rows = 0;
                UUID last = at.before();
                for (Row row : rs.currentPage()) {
                  rows++;
                  last = row.getUuid("message_id");
                  if (row.getString("deleted_by") == null) {
                    found.add(found(roomId, row).message());
                    foundIn.add(at.bucket());
                  }
                }
                if (found.size() > size) {
                  return CompletableFuture.completedFuture(full());
                }
                if (rows == limit) {
                  // Deleted rows took places: more may be left in this bucket.
                  return scan(new ChatCursor(at.bucket(), last), queries + 1);
                }
                return execute(olderBucket.bind(roomId, at.bucket()))
                    .thenCompose(
                        older -> {
                          Row next = older.one();
                          return next == null
                              ? CompletableFuture.completedFuture(
                                  new Page(List.copyOf(found), Optional.empty()))
                              : scan(
                                  ChatCursor.wholeBucket(next.getLong(0), bucketMillis),
                                  queries + 2);
                        });
              });
    }

    private Page full() {
      ChatMessage last = found.get(size - 1);
      return new Page(
          List.copyOf(found.subList(0, size)),
          Optional.of(new ChatCursor(foundIn.get(size - 1), UUID.fromString(last.getMessageId()))));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Moderation state

  @Override
  public CompletionStage<Void> mute(
      UUID roomId, String userId, long untilMs, String byUserId, Duration length, long micros) {
    int ttl = (int) Math.max(1, (length.toMillis() + 999) / 1000);
    return execute(
            insertMute.bind(roomId, userId, untilMs, byUserId, ttl, micros).setIdempotent(true))
        .thenApply(rs -> null);
  }

  @Override
  public CompletionStage<Void> unmute(UUID roomId, String userId, long micros) {
    return execute(deleteMute.bind(micros, roomId, userId).setIdempotent(true))
        .thenApply(rs -> null);
  }

  /** The room's mutes that have not expired yet: user id to the end of the mute. */
  @Override
  public CompletionStage<Map<String, Long>> mutes(UUID roomId) {
    return execute(selectMutes.bind(roomId))
        .thenApply(
            rs -> {
              // One partition of at most a few hundred rows: the first page holds them all.
              Map<String, Long> mutes = new HashMap<>();
              for (Row row : rs.currentPage()) {
                mutes.put(row.getString("user_id"), row.getLong("until_ms"));
              }
              return mutes;
            });
  }

  @Override
  public CompletionStage<Void> setSlowMode(UUID roomId, long slowModeMs, long micros) {
    return execute(updateSlowMode.bind(micros, slowModeMs, roomId).setIdempotent(true))
        .thenApply(rs -> null);
  }

  // ---------------------------------------------------------------------------------------------

  private CompletableFuture<AsyncResultSet> execute(Statement<?> statement) {
    return session.executeAsync(statement).toCompletableFuture();
  }

  /** What is left of the retention period of a message: its rows expire together. */
  private int remainingTtl(UUID messageId) {
    long ageSeconds = Math.max(0, (clock.millis() - ChatIds.millis(messageId)) / 1000);
    return (int) Math.max(1, ttlSeconds - ageSeconds);
  }

  private static Found found(UUID roomId, Row row) {
    UUID id = row.getUuid("message_id");
    String deletedBy = row.getString("deleted_by");
    return new Found(
        ChatMessage.newBuilder()
            .setMessageId(id.toString())
            .setRoomId(roomId.toString())
            .setUserId(Objects.requireNonNullElse(row.getString("user_id"), ""))
            .setDisplayName(Objects.requireNonNullElse(row.getString("display_name"), ""))
            .setClientMessageId(Objects.requireNonNullElse(row.getString("client_message_id"), ""))
            .setText(deletedBy == null ? Objects.requireNonNullElse(row.getString("text"), "") : "")
            .setSentAtMs(ChatIds.millis(id))
            .build(),
        deletedBy != null);
  }
}
