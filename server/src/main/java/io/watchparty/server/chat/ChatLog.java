package io.watchparty.server.chat;

import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.server.room.RoomMoved;
import io.watchparty.server.room.RoomOwner;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * Where the chat keeps what must outlive a server: every room's messages (kept for the retention
 * period of {@link ChatSettings#ttl()}, in history buckets of {@link ChatSettings#bucket()}), the
 * sends already stored (so a retry is answered, not stored twice), mutes and slow mode. Every call
 * is asynchronous: none may block the thread that calls it. {@link StoredRoomChat} is its one user;
 * the Cassandra adapter is {@code store.CassandraChatLog}.
 *
 * <p>Every write is made under the epoch of the room's owner ({@link RoomOwner}), as the room's own
 * writes are: a write of an instance that lost the room (paused, partitioned) is refused, and fails
 * with {@link RoomMoved} naming the owner storage holds now. An owner {@linkplain #fence fences} a
 * room's chat right after claiming the room, before it reads or writes any of it.
 */
public interface ChatLog {

  /** What storing a message found. */
  enum Outcome {
    /** Stored by this call: the room has not seen it yet. */
    STORED,
    /** Stored by an earlier send of the same client message id. */
    ALREADY_STORED,
    /** Stored by an earlier send, and deleted since. */
    DELETED
  }

  /** A message as stored, and what storing it found. */
  record Stored(ChatMessage message, Outcome outcome) {}

  /** A message read back, and whether it was deleted (its text is then empty). */
  record Found(ChatMessage message, boolean deleted) {}

  /** One page of history, newest first, and where the next (older) one starts. */
  record Page(List<ChatMessage> messages, Optional<ChatCursor> next) {}

  /** The history bucket of a message id. */
  long bucketOf(UUID messageId);

  /**
   * Takes a room's chat for the owner of {@code epoch}, who has just claimed the room: from now on
   * no earlier owner's write of it is stored, and every write of theirs that was stored is read by
   * what follows (its recent messages, a retry's lookup). Fails with {@link RoomMoved} if a newer
   * owner claimed the room since.
   */
  CompletionStage<Void> fence(UUID roomId, long epoch);

  /**
   * Stores messages of one room each of which may be a retry of a send stored before (the room may
   * no longer remember the first copy): each is looked up within {@link ChatSettings#RETRY_WINDOW}
   * by (sender, client message id), a copy found there is its answer as it is now (deleted or not),
   * and the others are written together, as {@link #writeAll} writes. Completes, with what each
   * message's storing found in the order given, when history can find them all; fails as {@link
   * #writeAll} does.
   */
  CompletionStage<List<Stored>> storeOnce(UUID roomId, long epoch, List<ChatMessage> messages);

  /**
   * Stores messages of one room that need no lookup for an earlier copy, together where they can
   * be. Completes when all are stored; fails if any failed (those may or may not be stored, as for
   * any failed write: a retry of them looks them up).
   */
  CompletionStage<Void> writeAll(UUID roomId, long epoch, List<ChatMessage> messages);

  /**
   * Withdraws messages whose write failed and so may or may not be stored: the messages are deleted
   * after any write of them still in progress has settled, so no copy of that write is left, and a
   * retry of the send is stored anew. Idempotent.
   */
  CompletionStage<Void> withdraw(UUID roomId, long epoch, List<ChatMessage> messages);

  /** A message by id, deleted or not; empty if it was never stored (or has expired). */
  CompletionStage<Optional<Found>> find(UUID roomId, UUID messageId);

  /**
   * Marks a message deleted (its text becomes empty), after its own write, for what is left of its
   * retention period.
   */
  CompletionStage<Void> markDeleted(UUID roomId, long epoch, UUID messageId, String byUserId);

  /**
   * Up to {@code size} messages older than {@code from} (the newest if empty), newest first;
   * deleted messages are skipped. The next cursor is empty when nothing older is left.
   */
  CompletionStage<Page> page(UUID roomId, Optional<ChatCursor> from, int size);

  /** Mutes a user until {@code untilMs}; the mute is forgotten once {@code length} has passed. */
  CompletionStage<Void> mute(
      UUID roomId, long epoch, String userId, long untilMs, String byUserId, Duration length);

  CompletionStage<Void> unmute(UUID roomId, long epoch, String userId);

  /** The room's mutes that have not expired yet: user id to the end of the mute. */
  CompletionStage<Map<String, Long>> mutes(UUID roomId);

  CompletionStage<Void> setSlowMode(UUID roomId, long epoch, long slowModeMs);
}
