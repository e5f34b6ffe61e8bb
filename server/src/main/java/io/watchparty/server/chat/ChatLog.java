package io.watchparty.server.chat;

import io.watchparty.proto.v1.ChatMessage;
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
   * Stores a message once per (room, sender, client message id); completes when history can find
   * it. A send that {@code mayBeARetry} (the room may no longer remember the first copy) is first
   * looked up within {@link ChatSettings#RETRY_WINDOW}: a copy found there is answered as it is
   * now, deleted or not.
   */
  CompletionStage<Stored> store(UUID roomId, ChatMessage message, boolean mayBeARetry);

  /**
   * Stores messages of one room that need no lookup for an earlier copy, together where they can
   * be. Completes when all are stored; fails if any failed (those may or may not be stored, as for
   * any failed write: a retry of them looks them up).
   */
  CompletionStage<Void> writeAll(UUID roomId, List<ChatMessage> messages);

  /**
   * Withdraws messages whose write failed and so may or may not be stored: each message and its
   * send's row are deleted as of a time later than the message's own, so no copy of that write,
   * stored before or arriving after, is left, and a retry of the send is stored anew. Idempotent.
   */
  CompletionStage<Void> withdraw(UUID roomId, List<ChatMessage> messages);

  /** A message by id, deleted or not; empty if it was never stored (or has expired). */
  CompletionStage<Optional<Found>> find(UUID roomId, UUID messageId);

  /**
   * Marks a message deleted (its text becomes empty) as of {@code micros}, a time later than the
   * message's own, for what is left of its retention period.
   */
  CompletionStage<Void> markDeleted(UUID roomId, UUID messageId, String byUserId, long micros);

  /**
   * Up to {@code size} messages older than {@code from} (the newest if empty), newest first;
   * deleted messages are skipped. The next cursor is empty when nothing older is left.
   */
  CompletionStage<Page> page(UUID roomId, Optional<ChatCursor> from, int size);

  /** Mutes a user until {@code untilMs}; the mute is forgotten once {@code length} has passed. */
  CompletionStage<Void> mute(
      UUID roomId, String userId, long untilMs, String byUserId, Duration length, long micros);

  CompletionStage<Void> unmute(UUID roomId, String userId, long micros);

  /** The room's mutes that have not expired yet: user id to the end of the mute. */
  CompletionStage<Map<String, Long>> mutes(UUID roomId);

  CompletionStage<Void> setSlowMode(UUID roomId, long slowModeMs, long micros);
}
