package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.chat.ChatCursor;
import io.watchparty.server.chat.ChatIds;
import io.watchparty.server.chat.ChatLog;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.refusal.RefusedException;
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
 *
 * <p>Every write is conditional on the room owner's epoch (the rules are in {@code
 * V008__chat_fenced.cql}): a history bucket's writes, one single-partition batch conditional on the
 * bucket's static {@code owner_epoch}; the mutes' on the mutes partition's; slow mode on the room
 * row's. Conditional writes carry no write timestamps of ours (Paxos orders them), so a deletion
 * after a write is also later in storage.
 */
public final class CassandraChatLog implements ChatLog {
  /** Queries one history page may run before it returns what it found with a cursor. */
  static final int MAX_QUERIES_PER_PAGE = 64;

  /**
   * How long after its time (its id's) a message may still be written, retries included: an owner
   * refuses to write an older one, so a new owner fences only the buckets of this window (plus
   * {@link #CLOCK_SKEW}). A send is stored or given up within seconds (see {@code
   * StoredRoomChat.SETTLE_RETRY}); this leaves room for a long stall of the writer, not a pause of
   * minutes between the check and the write itself.
   */
  static final Duration WRITABLE_FOR = Duration.ofMinutes(1);

  /** How far the clocks of two instances may disagree, for the window a new owner fences. */
  static final Duration CLOCK_SKEW = Duration.ofMinutes(1);

  /**
   * How often a partition's epoch is raised before giving up (others keep raising it meanwhile).
   */
  private static final int RAISE_ATTEMPTS = 5;

  private final CqlSession session;
  private final InstantSource clock;
  private final RoomOwners owners;
  private final long bucketMillis;
  private final int ttlSeconds;
  private final int bucketTtlSeconds;

  /**
   * Buckets this server has opened for writing, per owner epoch (indexed, raised to the epoch, the
   * ownership confirmed after), or is opening; failures are dropped.
   */
  private final Cache<OpenBucket, CompletableFuture<Void>> openBuckets;

  private final EpochColumn bucketEpoch;
  private final EpochColumn mutesEpoch;
  private final PreparedStatement bucketsSince;
  private final PreparedStatement insertMessage;
  private final PreparedStatement selectMessage;
  private final PreparedStatement selectByClientId;
  private final PreparedStatement markDeleted;
  private final PreparedStatement insertBucket;
  private final PreparedStatement withdrawMessage;
  private final PreparedStatement newestBucket;
  private final PreparedStatement olderBucket;
  private final PreparedStatement pageOfBucket;
  private final PreparedStatement updateMute;
  private final PreparedStatement deleteMute;
  private final PreparedStatement selectMutes;
  private final PreparedStatement updateSlowMode;

  private record OpenBucket(UUID roomId, long bucket, long epoch) {}

  /**
   * The static {@code owner_epoch} column of a table whose partitions a room's owner writes: the
   * statements that hold it (a write's condition, which rewrites the epoch it checks) and raise it.
   */
  private final class EpochColumn {
    final PreparedStatement hold;
    final PreparedStatement raiseOlder;
    final PreparedStatement raiseUnset;

    EpochColumn(String table, String partitionKey) {
      String set = "UPDATE " + table + " USING TTL ? SET owner_epoch = ? WHERE " + partitionKey;
      hold = session.prepare(set + " IF owner_epoch = ?");
      raiseOlder = session.prepare(set + " IF owner_epoch < ?");
      raiseUnset = session.prepare(set + " IF owner_epoch = null");
    }
  }

  /** One partition of an {@link EpochColumn}'s table: its key and how long its epoch lives. */
  private record Partition(EpochColumn column, UUID roomId, List<Object> key, int ttlSeconds) {
    BoundStatement hold(long epoch) {
      return bind(column.hold, epoch, true);
    }

    BoundStatement raiseOlder(long epoch) {
      return bind(column.raiseOlder, epoch, true);
    }

    BoundStatement raiseUnset(long epoch) {
      return bind(column.raiseUnset, epoch, false);
    }

    private BoundStatement bind(PreparedStatement statement, long epoch, boolean condition) {
      List<Object> values = new ArrayList<>();
      values.add(ttlSeconds);
      values.add(epoch);
      values.addAll(key);
      if (condition) {
        values.add(epoch);
      }
      return statement.bind(values.toArray());
    }
  }

  public CassandraChatLog(CqlSession session, ChatSettings settings, InstantSource clock) {
    this.session = session;
    this.clock = clock;
    this.owners = new RoomOwners(session);
    this.bucketMillis = settings.bucket().toMillis();
    this.ttlSeconds = Math.toIntExact(settings.ttl().toSeconds());
    this.bucketTtlSeconds = Math.toIntExact(settings.ttl().plus(settings.bucket()).toSeconds() + 1);
    this.openBuckets =
        Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofMillis(Math.max(2 * bucketMillis, 60_000)))
            .maximumSize(100_000)
            .build();
    this.bucketEpoch = new EpochColumn("chat_messages", "room_id = ? AND bucket = ?");
    this.mutesEpoch = new EpochColumn("chat_mutes", "room_id = ?");
    String columns = "message_id, user_id, display_name, client_message_id, text, deleted_by";
    bucketsSince =
        session.prepare("SELECT bucket FROM chat_buckets WHERE room_id = ? AND bucket >= ?");
    insertMessage =
        session.prepare(
            "INSERT INTO chat_messages (room_id, bucket, message_id, user_id, display_name,"
                + " client_message_id, text) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?");
    selectMessage =
        session.prepare(
            "SELECT "
                + columns
                + " FROM chat_messages WHERE room_id = ? AND bucket = ? AND message_id = ?");
    selectByClientId =
        session.prepare(
            "SELECT "
                + columns
                + " FROM chat_messages WHERE room_id = ? AND bucket = ? AND client_message_id = ?");
    markDeleted =
        session.prepare(
            "UPDATE chat_messages USING TTL ? SET text = '', deleted_by = ?"
                + " WHERE room_id = ? AND bucket = ? AND message_id = ?");
    insertBucket =
        session.prepare("INSERT INTO chat_buckets (room_id, bucket) VALUES (?, ?) USING TTL ?");
    withdrawMessage =
        session.prepare(
            "DELETE FROM chat_messages WHERE room_id = ? AND bucket = ? AND message_id = ?");
    newestBucket = session.prepare("SELECT bucket FROM chat_buckets WHERE room_id = ? LIMIT 1");
    olderBucket =
        session.prepare("SELECT bucket FROM chat_buckets WHERE room_id = ? AND bucket < ? LIMIT 1");
    pageOfBucket =
        session.prepare(
            "SELECT "
                + columns
                + " FROM chat_messages WHERE room_id = ? AND bucket = ? AND message_id < ?"
                + " LIMIT ?");
    updateMute =
        session.prepare(
            "UPDATE chat_mutes USING TTL ? SET until_ms = ?, by_user_id = ?"
                + " WHERE room_id = ? AND user_id = ?");
    deleteMute = session.prepare("DELETE FROM chat_mutes WHERE room_id = ? AND user_id = ?");
    selectMutes = session.prepare("SELECT user_id, until_ms FROM chat_mutes WHERE room_id = ?");
    updateSlowMode =
        session.prepare("UPDATE rooms SET slow_mode_ms = ? WHERE room_id = ? IF owner_epoch = ?");
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
  // Fencing

  private Partition bucketPartition(UUID roomId, long bucket) {
    return new Partition(bucketEpoch, roomId, List.of(roomId, bucket), bucketTtlSeconds);
  }

  private Partition mutePartition(UUID roomId) {
    // 0: no TTL. The partition's rows expire, its epoch must not.
    return new Partition(mutesEpoch, roomId, List.of(roomId), 0);
  }

  /**
   * Raises the epoch of the room's mutes and of every bucket indexed within the window a message
   * may still be written in (see {@code V008__chat_fenced.cql}).
   */
  @Override
  public CompletionStage<Void> fence(UUID roomId, long epoch) {
    long since =
        bucketAt(
            clock.millis()
                - WRITABLE_FOR.plus(CLOCK_SKEW).plus(Duration.ofMillis(bucketMillis)).toMillis());
    CompletableFuture<Void> buckets =
        execute(bucketsSince.bind(roomId, since))
            .thenCompose(
                rs -> {
                  // A few rows: one per bucket of the window.
                  List<CompletableFuture<Void>> raised = new ArrayList<>();
                  for (Row row : rs.currentPage()) {
                    raised.add(
                        raise(bucketPartition(roomId, row.getLong(0)), epoch, 1)
                            .toCompletableFuture());
                  }
                  return CompletableFuture.allOf(raised.toArray(CompletableFuture[]::new));
                });
    return CompletableFuture.allOf(
        buckets, raise(mutePartition(roomId), epoch, 1).toCompletableFuture());
  }

  /**
   * Sets a partition's epoch to {@code epoch} unless it holds a newer one ({@link
   * io.watchparty.server.room.RoomMoved} then). A Paxos round: any write of the partition still in
   * progress settles first.
   */
  private CompletionStage<Void> raise(Partition partition, long epoch, int attempt) {
    return execute(partition.raiseOlder(epoch))
        .thenCompose(
            raised -> {
              if (raised.wasApplied()) {
                return done();
              }
              Optional<Long> held = epochIn(raised.one());
              if (held.isPresent()) {
                return raisedBy(partition, epoch, held.get(), attempt);
              }
              return execute(partition.raiseUnset(epoch))
                  .thenCompose(
                      first ->
                          first.wasApplied()
                              ? done()
                              : raisedBy(
                                  partition, epoch, epochIn(first.one()).orElse(0L), attempt));
            });
  }

  /** A raise was not applied because the partition holds {@code held}. */
  private CompletionStage<Void> raisedBy(Partition partition, long epoch, long held, int attempt) {
    if (held == epoch) {
      return done();
    }
    if (held > epoch) {
      return owners.moved(partition.roomId());
    }
    if (attempt >= RAISE_ATTEMPTS) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("could not raise a chat partition's epoch to " + epoch));
    }
    // Changed between the two conditions: try again.
    return raise(partition, epoch, attempt + 1);
  }

  /**
   * Makes a bucket writable under {@code epoch}, once per bucket and epoch: indexed first (so a new
   * owner's fence finds it), raised to the epoch, and then the room read to be still this owner's,
   * so the raise was not made after a newer owner's fence.
   */
  private CompletableFuture<Void> opened(UUID roomId, long bucket, long epoch) {
    OpenBucket key = new OpenBucket(roomId, bucket, epoch);
    CompletableFuture<Void> opening =
        openBuckets.get(
            key,
            k ->
                execute(insertBucket.bind(roomId, bucket, bucketTtlSeconds).setIdempotent(true))
                    .thenCompose(indexed -> raise(bucketPartition(roomId, bucket), epoch, 1))
                    .thenCompose(raised -> owners.confirm(roomId, epoch))
                    .toCompletableFuture());
    // A failure is not kept: the next write opens the bucket again.
    opening.whenComplete(
        (open, failure) -> {
          if (failure != null) {
            openBuckets.asMap().remove(key, opening);
          }
        });
    return opening;
  }

  /**
   * Writes {@code writes} in one batch conditional on the partition's epoch being {@code epoch}. A
   * partition this owner has not raised yet (never written under its epoch) is raised and the
   * ownership confirmed, then the batch tried once more; a newer epoch fails it with {@link
   * io.watchparty.server.room.RoomMoved}.
   */
  private CompletionStage<Void> underEpoch(
      Partition partition, long epoch, List<? extends BatchableStatement<?>> writes) {
    return underEpoch(partition, epoch, writes, false);
  }

  private CompletionStage<Void> underEpoch(
      Partition partition,
      long epoch,
      List<? extends BatchableStatement<?>> writes,
      boolean raisedNow) {
    BatchStatement batch =
        BatchStatement.newInstance(DefaultBatchType.UNLOGGED)
            .add(partition.hold(epoch))
            .addAll(writes);
    return execute(batch)
        .thenCompose(
            rs -> {
              if (rs.wasApplied()) {
                return done();
              }
              long held = epochIn(rs.one()).orElse(0L);
              if (held > epoch) {
                return owners.moved(partition.roomId());
              }
              if (raisedNow) {
                return CompletableFuture.failedFuture(
                    new IllegalStateException(
                        "a chat partition raised to epoch " + epoch + " holds " + held));
              }
              return raise(partition, epoch, 1)
                  .thenCompose(raised -> owners.confirm(partition.roomId(), epoch))
                  .thenCompose(confirmed -> underEpoch(partition, epoch, writes, true));
            });
  }

  /** The epoch a not-applied conditional write found, if the partition has one. */
  private static Optional<Long> epochIn(Row row) {
    // A partition with no epoch answers [applied] alone.
    return row == null
            || !row.getColumnDefinitions().contains("owner_epoch")
            || row.isNull("owner_epoch")
        ? Optional.empty()
        : Optional.of(row.getLong("owner_epoch"));
  }

  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /**
   * Stores messages once per (room, sender, client message id); completes when Cassandra has them
   * and their buckets are indexed, so history can find them.
   *
   * <p>Idempotence: copies of a send that race are the room's to settle in memory: one instance
   * serves a room at a time and admits one copy ({@code StoredRoomChat}). What the room may no
   * longer remember, a retry after a restart, a takeover, or after its memory overflowed, is looked
   * up first by its client message id in the buckets of the {@linkplain ChatSettings#RETRY_WINDOW
   * retry window}: a copy found there is answered with the stored message, as it is now (deleted or
   * not). The lookups of a batch run together, and what none found is written in one batch per
   * bucket: after a takeover, when every send may be a retry, a busy room still pays one Paxos
   * round per batch.
   */
  @Override
  public CompletionStage<List<Stored>> storeOnce(
      UUID roomId, long epoch, List<ChatMessage> messages) {
    return earlierCopies(roomId, messages)
        .thenCompose(
            earlier -> {
              List<ChatMessage> unstored = new ArrayList<>();
              List<Stored> outcomes = new ArrayList<>(messages.size());
              for (int i = 0; i < messages.size(); i++) {
                ChatMessage message = messages.get(i);
                Optional<Stored> copy = earlier.get(i);
                if (copy.isEmpty()) {
                  unstored.add(message);
                }
                outcomes.add(copy.orElseGet(() -> new Stored(message, Outcome.STORED)));
              }
              return unstored.isEmpty()
                  ? CompletableFuture.completedFuture(outcomes)
                  : writeAll(roomId, epoch, unstored).thenApply(v -> outcomes);
            });
  }

  /**
   * The stored copy of each send, if one was written within the retry window, in the order given.
   * The window's buckets are read once; each message is then looked up in each of them, all at
   * once.
   */
  private CompletionStage<List<Optional<Stored>>> earlierCopies(
      UUID roomId, List<ChatMessage> messages) {
    long since = bucketAt(clock.millis() - ChatSettings.RETRY_WINDOW.toMillis());
    return execute(bucketsSince.bind(roomId, since))
        .thenCompose(
            buckets -> {
              // A bucket is indexed before any of its messages is written, so these are all the
              // buckets that may hold a copy: a few (one per minute of the window).
              List<Long> window = new ArrayList<>();
              buckets.currentPage().forEach(bucket -> window.add(bucket.getLong(0)));
              List<CompletableFuture<Optional<Stored>>> lookups = new ArrayList<>();
              for (ChatMessage message : messages) {
                lookups.add(earlierCopy(roomId, window, message));
              }
              return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                  .thenApply(v -> lookups.stream().map(CompletableFuture::join).toList());
            });
  }

  /** The stored copy of one send in the buckets of the window, if there is one. */
  private CompletableFuture<Optional<Stored>> earlierCopy(
      UUID roomId, List<Long> window, ChatMessage message) {
    List<CompletableFuture<Optional<Found>>> lookups = new ArrayList<>();
    for (long bucket : window) {
      lookups.add(
          execute(selectByClientId.bind(roomId, bucket, message.getClientMessageId()))
              .thenApply(
                  rs -> {
                    // Client message ids are the sender's own: others' rarely match.
                    for (Row row : rs.currentPage()) {
                      if (message.getUserId().equals(row.getString("user_id"))) {
                        return Optional.of(found(roomId, row));
                      }
                    }
                    return Optional.<Found>empty();
                  }));
    }
    return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
        .thenApply(
            v ->
                lookups.stream()
                    .map(CompletableFuture::join)
                    .flatMap(Optional::stream)
                    .findFirst()
                    .map(
                        f ->
                            new Stored(
                                f.message(),
                                f.deleted() ? Outcome.DELETED : Outcome.ALREADY_STORED)));
  }

  /**
   * Stores messages of one room that need no lookup for an earlier copy (see {@link #store}): one
   * batch per history bucket, conditional on the owner's epoch, so that a burst of a room's
   * messages costs Cassandra one Paxos round instead of one each. Completes when all are stored;
   * fails if any bucket's batch failed (its messages may or may not be stored, as for any failed
   * write: a retry of them looks them up), and refuses messages older than {@link #WRITABLE_FOR}.
   */
  @Override
  public CompletionStage<Void> writeAll(UUID roomId, long epoch, List<ChatMessage> messages) {
    long oldest = clock.millis() - WRITABLE_FOR.toMillis();
    for (ChatMessage message : messages) {
      if (ChatIds.millis(UUID.fromString(message.getMessageId())) < oldest) {
        return CompletableFuture.failedFuture(
            new RefusedException(
                ErrorReason.STORAGE_UNAVAILABLE,
                "the message could not be stored in time; send it again",
                Map.of("client_message_id", message.getClientMessageId())));
      }
    }
    List<CompletableFuture<?>> batches = new ArrayList<>();
    perBucket(
            messages,
            (message, id, bucket) ->
                insertMessage.bind(
                    roomId,
                    bucket,
                    id,
                    message.getUserId(),
                    message.getDisplayName(),
                    message.getClientMessageId(),
                    message.getText(),
                    remainingTtl(id)))
        .forEach(
            (bucket, writes) ->
                batches.add(
                    opened(roomId, bucket, epoch)
                        .thenCompose(
                            open -> underEpoch(bucketPartition(roomId, bucket), epoch, writes))));
    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new));
  }

  /**
   * Deletes each message in one conditional batch per bucket (as {@link #writeAll} wrote them): its
   * Paxos round first settles any write of them still in progress, so the deletion comes after it.
   */
  @Override
  public CompletionStage<Void> withdraw(UUID roomId, long epoch, List<ChatMessage> messages) {
    List<CompletableFuture<?>> batches = new ArrayList<>();
    perBucket(messages, (message, id, bucket) -> withdrawMessage.bind(roomId, bucket, id))
        .forEach(
            (bucket, writes) ->
                batches.add(
                    underEpoch(bucketPartition(roomId, bucket), epoch, writes)
                        .toCompletableFuture()));
    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new));
  }

  /** The statement of one message, which lives in {@code bucket} under {@code id}. */
  private interface MessageStatement {
    BoundStatement of(ChatMessage message, UUID id, long bucket);
  }

  /**
   * The statements of each message, grouped per history bucket (the messages of one bucket share
   * their partition), in bucket order.
   */
  private Map<Long, List<BoundStatement>> perBucket(
      List<ChatMessage> messages, MessageStatement statement) {
    Map<Long, List<BoundStatement>> byBucket = new LinkedHashMap<>();
    for (ChatMessage message : messages) {
      UUID id = UUID.fromString(message.getMessageId());
      long bucket = bucketOf(id);
      byBucket
          .computeIfAbsent(bucket, b -> new ArrayList<>())
          .add(statement.of(message, id, bucket));
    }
    return byBucket;
  }

  /** A message by id, deleted or not; empty if it was never stored (or has expired). */
  @Override
  public CompletionStage<Optional<Found>> find(UUID roomId, UUID messageId) {
    return execute(selectMessage.bind(roomId, bucketOf(messageId), messageId))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(row -> found(roomId, row)));
  }

  /**
   * Marks a message deleted: its text becomes empty and {@code deleted_by} is set, with the TTL the
   * message has left, conditional on the owner's epoch like the message's own write (and so after
   * it).
   */
  @Override
  public CompletionStage<Void> markDeleted(
      UUID roomId, long epoch, UUID messageId, String byUserId) {
    long bucket = bucketOf(messageId);
    return underEpoch(
        bucketPartition(roomId, bucket),
        epoch,
        List.of(markDeleted.bind(remainingTtl(messageId), byUserId, roomId, bucket, messageId)));
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
      UUID roomId, long epoch, String userId, long untilMs, String byUserId, Duration length) {
    int ttl = (int) Math.max(1, (length.toMillis() + 999) / 1000);
    return underEpoch(
        mutePartition(roomId),
        epoch,
        List.of(updateMute.bind(ttl, untilMs, byUserId, roomId, userId)));
  }

  @Override
  public CompletionStage<Void> unmute(UUID roomId, long epoch, String userId) {
    return underEpoch(mutePartition(roomId), epoch, List.of(deleteMute.bind(roomId, userId)));
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
  public CompletionStage<Void> setSlowMode(UUID roomId, long epoch, long slowModeMs) {
    return execute(updateSlowMode.bind(slowModeMs, roomId, epoch))
        .thenCompose(rs -> rs.wasApplied() ? done() : owners.moved(roomId));
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
