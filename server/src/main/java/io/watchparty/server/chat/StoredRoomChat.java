package io.watchparty.server.chat;

import io.watchparty.proto.Backoff;
import io.watchparty.proto.v1.ChatDeleted;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatModeration;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.Reactions;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.SlowModeChanged;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.UserMuted;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.chat.ChatLog.Found;
import io.watchparty.server.chat.ChatLog.Stored;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.Failures;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.Room;
import io.watchparty.server.room.RoomChat;
import io.watchparty.server.room.RoomMoved;
import io.watchparty.server.room.RoomRegistry;
import io.watchparty.server.room.Sanction;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat of one room: admission of messages (membership, mutes, slow mode, rate), their storage
 * and their release into the room, moderation, reactions, and the recent messages of snapshots.
 *
 * <p>All state is guarded by the room's lock and touched only inside {@link Room#withChatLock}, so
 * a snapshot shows the chat exactly as of its sequence. Nothing under the lock waits for Cassandra:
 * a send is admitted under the lock (and gets its time-ordered id there), stored outside it, and
 * released under it again. Sends are released in id order: a message is published, and its sender
 * acknowledged, once it and every message admitted before it are settled, so the order members see
 * is the order history pages back through.
 *
 * <p>A room has at most one batch of new messages being written at a time: sends admitted meanwhile
 * wait for it and are then written together, in one Cassandra batch (up to {@link #MAX_BATCH}). A
 * quiet room writes each message at once; a busy one pays one write per batch instead of one per
 * message, which is most of what a message costs the server and Cassandra. Sends that may be
 * retries are looked up together and those not found written in one batch, in their turn: a room's
 * chat writes go one at a time.
 */
final class StoredRoomChat implements RoomChat {
  private static final Logger log = LoggerFactory.getLogger(StoredRoomChat.class);

  /**
   * How a batch whose write failed is written again. A failed write may still have been applied (a
   * timeout, an answer lost with its connection): the same write, idempotent, is tried until it is
   * stored or {@link #SETTLE_ATTEMPTS} are spent, and then withdrawn, so that what a sender is told
   * is what history shows. About 4 s of retries besides the writes' own time.
   */
  static final Backoff SETTLE_RETRY =
      Backoff.doubling(Duration.ofMillis(200), Duration.ofSeconds(2));

  static final int SETTLE_ATTEMPTS = 5;
  static final Duration MIN_MUTE = Duration.ofSeconds(1);
  static final Duration MAX_MUTE = Duration.ofHours(24);

  /** Deleted ids remembered for late releases. */
  private static final int REMEMBERED = 1024;

  /**
   * Settled sends remembered for retries, per room: 2 minutes of a 500 messages/s party. A room
   * busier than that looks its retries up in Cassandra instead.
   */
  private static final int REMEMBERED_SENDS = 65_536;

  /**
   * The most messages written in one batch (at most 128 KB of text at the longest messages): one
   * mutation of one partition, which Cassandra does not hold to its batch size thresholds.
   */
  static final int MAX_BATCH = 64;

  /** Above this many, slow-mode entries older than the interval are dropped. */
  private static final int SLOW_MODE_ENTRIES = 4096;

  private final ChatRooms chat;
  private final Room room;
  private final UUID roomId;

  /** The epoch of this instance's ownership of the room: every write is made under it. */
  private final long epoch;

  // Everything below is guarded by the room lock.

  /** The most recent published messages, oldest first. */
  private final ArrayDeque<ChatMessage> recent = new ArrayDeque<>();

  /** The newest id this room has given or loaded: the next one is later. */
  private Optional<UUID> newestId = Optional.empty();

  private final Map<String, Long> mutedUntil = new HashMap<>();

  /** Slow mode: when each viewer last had a message admitted. */
  private final Map<String, Long> lastPostedAt = new HashMap<>();

  /** Admitted sends not released yet, in id order. */
  private final ArrayDeque<Send> sends = new ArrayDeque<>();

  private final Map<RecentSends.Key, Send> inFlight = new HashMap<>();

  /** Admitted sends that need no lookup and wait for the batch being written to finish. */
  private final ArrayDeque<Send> unwritten = new ArrayDeque<>();

  /** Whether a batch of this room's messages is being written. */
  private boolean writing;

  /**
   * Sends whose write failed and whose withdrawal is not stored yet: a retry of one is refused
   * until it is, or it could find the copy about to be withdrawn and be acknowledged with it. A
   * withdrawal the room's writer gives up on (Cassandra failing for all its attempts) leaves its
   * keys here, refused, and keeps the room in memory: the room cannot know what storage holds.
   */
  private final Set<RecentSends.Key> withdrawing = new HashSet<>();

  /** Sends settled within the retry window: a retry gets the same answer without a new message. */
  private final RecentSends settled;

  private final Set<String> deletedIds = Collections.newSetFromMap(lru(REMEMBERED));

  private final Map<String, Long> reactionCounts = new LinkedHashMap<>();
  private boolean reactionFlushDue;

  /** An admitted send waiting for Cassandra. */
  private static final class Send {
    final RecentSends.Key key;
    final ChatMessage message;
    final boolean slowed;
    final long admittedAt;
    final Optional<Long> previousPostedAt;

    /** Whether an earlier copy of this send may be stored already: look it up before writing. */
    final boolean mayBeARetry;

    final CompletableFuture<ChatMessage> ack = new CompletableFuture<>();
    boolean settled;
    Stored stored;
    Throwable failure;

    Send(
        RecentSends.Key key,
        ChatMessage message,
        boolean slowed,
        long admittedAt,
        Optional<Long> previousPostedAt,
        boolean mayBeARetry) {
      this.key = key;
      this.message = message;
      this.slowed = slowed;
      this.admittedAt = admittedAt;
      this.previousPostedAt = previousPostedAt;
      this.mayBeARetry = mayBeARetry;
    }
  }

  /** What a send was told, and what to write once the lock is released. */
  private record Admission(CompletionStage<ChatMessage> result, List<Send> toWrite) {
    static Admission answered(CompletionStage<ChatMessage> result) {
      return new Admission(result, List.of());
    }
  }

  /** What a room loaded from storage starts its chat with: recent messages and mutes. */
  record Preloaded(List<ChatMessage> newestFirst, Map<String, Long> mutedUntil) {
    static final Preloaded NOTHING = new Preloaded(List.of(), Map.of());
  }

  /**
   * @param stored what {@link #load} read for a room loaded from storage; {@link Preloaded#NOTHING}
   *     for a room just created
   */
  StoredRoomChat(ChatRooms chat, Room room, long epoch, boolean created, Preloaded stored) {
    this.chat = chat;
    this.room = room;
    this.roomId = room.id();
    this.epoch = epoch;
    // A loaded room may get retries of sends an earlier run of it answered.
    this.settled =
        new RecentSends(
            ChatSettings.RETRY_WINDOW,
            REMEMBERED_SENDS,
            created ? Long.MIN_VALUE : chat.clock.millis() + ChatSettings.RETRY_WINDOW.toMillis());
    stored.newestFirst().reversed().forEach(recent::addLast);
    newestId =
        stored.newestFirst().stream().findFirst().map(m -> UUID.fromString(m.getMessageId()));
    long now = chat.clock.millis();
    stored
        .mutedUntil()
        .forEach(
            (userId, until) -> {
              if (until > now) {
                mutedUntil.put(userId, until);
              }
            });
  }

  /** Reads the recent messages and current mutes of a room loaded from storage, concurrently. */
  static CompletionStage<Preloaded> load(ChatRooms chat, UUID roomId) {
    int size = chat.settings.recentMessages();
    CompletionStage<List<ChatMessage>> page =
        size == 0
            ? CompletableFuture.completedFuture(List.of())
            : chat.store.page(roomId, Optional.empty(), size).thenApply(ChatLog.Page::messages);
    return page.thenCombine(chat.store.mutes(roomId), Preloaded::new);
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  @Override
  public CompletionStage<ChatMessage> send(Identity who, SendChat request) {
    String clientMessageId = ChatText.clientMessageId(request.getClientMessageId());
    String text = ChatText.normalize(request.getText(), chat.settings.maxLength());
    Admission admission = room.withChatLock(access -> admit(access, who, clientMessageId, text));
    if (!admission.toWrite().isEmpty()) {
      write(admission.toWrite());
    }
    return admission.result();
  }

  private Admission admit(Access access, Identity who, String clientMessageId, String text) {
    access.requireOpen();
    requireParticipant(access, who);
    String userId = who.userId();
    RecentSends.Key key = new RecentSends.Key(userId, clientMessageId);
    if (withdrawing.contains(key)) {
      throw new RefusedException(
          ErrorReason.STORAGE_UNAVAILABLE,
          "storing this message failed, and storage has not confirmed it is gone yet; retry",
          Map.of("client_message_id", clientMessageId));
    }
    Optional<ChatMessage> done = settled.acknowledged(key);
    if (done.isPresent()) {
      return Admission.answered(CompletableFuture.completedStage(done.get()));
    }
    Send running = inFlight.get(key);
    if (running != null) {
      return Admission.answered(running.ack.minimalCompletionStage());
    }
    long now = chat.clock.millis();
    requireNotMuted(userId, now);
    // Slow mode holds back viewers; the host and co-hosts moderate the chat and are not slowed.
    long slowModeMs = access.settings().getSlowModeMs();
    boolean slowed = slowModeMs > 0 && access.role(userId) == Role.VIEWER;
    if (slowed) {
      Long last = lastPostedAt.get(userId);
      if (last != null && now - last < slowModeMs) {
        long retryMs = last + slowModeMs - now;
        throw new RefusedException(
            ErrorReason.SLOW_MODE,
            "slow mode: one message every " + slowModeMs + " ms; retry in " + retryMs + " ms",
            Map.of(
                "retry_after_ms", Long.toString(retryMs),
                "slow_mode_ms", Long.toString(slowModeMs)));
      }
    }
    chat.messageLimiter.acquire(userId);
    UUID id = chat.ids.next(now, newestId);
    newestId = Optional.of(id);
    ChatMessage message =
        ChatMessage.newBuilder()
            .setMessageId(id.toString())
            .setRoomId(roomId.toString())
            .setUserId(userId)
            .setDisplayName(who.displayName())
            .setText(text)
            .setSentAtMs(ChatIds.millis(id))
            .setClientMessageId(clientMessageId)
            .build();
    Optional<Long> previous = Optional.empty();
    if (slowed) {
      previous = Optional.ofNullable(lastPostedAt.put(userId, now));
      if (lastPostedAt.size() > SLOW_MODE_ENTRIES) {
        lastPostedAt.values().removeIf(at -> now - at >= slowModeMs);
      }
    }
    boolean mayBeARetry = settled.failed(key) || settled.mayHaveForgotten(now);
    Send send = new Send(key, message, slowed, now, previous, mayBeARetry);
    sends.addLast(send);
    inFlight.put(key, send);
    unwritten.addLast(send);
    return new Admission(send.ack.minimalCompletionStage(), writing ? List.of() : nextBatch());
  }

  /**
   * The next batch to write, which this caller must write; empty if nothing waits (lock held). A
   * batch holds either sends that may be retries (looked up first) or sends that need no lookup,
   * the longest run of one kind at the head of the queue, up to {@link #MAX_BATCH}.
   */
  private List<Send> nextBatch() {
    if (unwritten.isEmpty()) {
      writing = false;
      return List.of();
    }
    writing = true;
    boolean retries = unwritten.peekFirst().mayBeARetry;
    List<Send> batch = new ArrayList<>(Math.min(unwritten.size(), MAX_BATCH));
    while (!unwritten.isEmpty()
        && batch.size() < MAX_BATCH
        && unwritten.peekFirst().mayBeARetry == retries) {
      batch.add(unwritten.pollFirst());
    }
    return batch;
  }

  /**
   * Writes a batch of new messages (outside the lock), or looks up a batch of sends that may be
   * retries and stores those not found; settles them when it completes, and writes the next batch.
   * One write at a time: every conditional write of a room's chat goes to the same partition, where
   * concurrent Paxos rounds would contend (and, timing out, be retried into more contention).
   */
  private void write(List<Send> batch) {
    if (batch.getFirst().mayBeARetry) {
      storeOnce(batch, 1);
    } else {
      write(batch, 1);
    }
  }

  private void write(List<Send> batch, int attempt) {
    CompletionStage<Void> written;
    try {
      written = chat.store.writeAll(roomId, epoch, messagesOf(batch));
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    written.whenCompleteAsync((v, failure) -> written(batch, attempt, failure), chat.executor);
  }

  /** A batch's write completed: settled, or written again (see {@link #retryOrWithdraw}). */
  private void written(List<Send> batch, int attempt, Throwable failure) {
    if (failure == null) {
      settle(batch, storedAsSent(batch), null);
    } else if (Failures.unwrap(failure) instanceof RoomMoved moved) {
      settle(batch, null, lostTo(moved));
    } else {
      retryOrWithdraw(
          batch, attempt, failure, next -> write(batch, next), () -> settle(batch, null, failure));
    }
  }

  private static List<Stored> storedAsSent(List<Send> batch) {
    return batch.stream().map(send -> new Stored(send.message, ChatLog.Outcome.STORED)).toList();
  }

  /**
   * Storing {@code sends} failed, which is not an answer (see {@link #SETTLE_RETRY}): they are
   * written {@code again}, or, once the attempts are spent, withdrawn behind the room and {@code
   * givenUp} (their senders are told they were not sent; a retry of theirs waits for the withdrawal
   * to be stored).
   */
  private void retryOrWithdraw(
      List<Send> sends, int attempt, Throwable failure, IntConsumer again, Runnable givenUp) {
    Throwable cause = Failures.unwrap(failure);
    if (attempt < SETTLE_ATTEMPTS) {
      long delayMs = SETTLE_RETRY.delayMs(attempt - 1);
      log.warn(
          "Room {}: storing {} chat message(s) failed ({}); they may be stored all the same, so"
              + " they are written again in {} ms (attempt {} of {})",
          roomId,
          sends.size(),
          cause.toString(),
          delayMs,
          attempt + 1,
          SETTLE_ATTEMPTS);
      room.withChatLock(
          access -> {
            access.schedule(() -> again.accept(attempt + 1), delayMs);
            return null;
          });
      return;
    }
    List<ChatMessage> messages = messagesOf(sends);
    List<RecentSends.Key> keys = sends.stream().map(send -> send.key).toList();
    log.warn(
        "Room {}: storing {} chat message(s) failed {} times ({}); withdrawing them from storage,"
            + " and their senders are told they were not sent",
        roomId,
        sends.size(),
        SETTLE_ATTEMPTS,
        cause.toString());
    room.withChatLock(
        access -> {
          withdrawing.addAll(keys);
          access.writeBehind(
              "the withdrawal of " + messages.size() + " chat message(s)",
              () ->
                  chat.store
                      .withdraw(roomId, epoch, messages)
                      .thenRunAsync(() -> withdrawn(keys), chat.executor));
          return null;
        });
    givenUp.run();
  }

  /**
   * Another instance owns the room now (a write was refused under our epoch): the room lets go, and
   * the senders of what was not stored here are sent to the owner, where a retry of theirs is
   * looked up and answered as storage has it.
   */
  private Throwable lostTo(RoomMoved moved) {
    room.withChatLock(
        access -> {
          access.lostTo(moved.owner());
          return null;
        });
    return moved.owner().movedHere(roomId);
  }

  private void withdrawn(List<RecentSends.Key> keys) {
    room.withChatLock(
        access -> {
          keys.forEach(withdrawing::remove);
          return null;
        });
  }

  private static List<ChatMessage> messagesOf(List<Send> batch) {
    return batch.stream().map(send -> send.message).toList();
  }

  /**
   * A batch is settled, stored as {@code stored} says (one per send, in order) or failed with
   * {@code failure}: its sends are released in their turn, and the next batch is written.
   */
  private void settle(List<Send> batch, List<Stored> stored, Throwable failure) {
    Next next =
        room.withChatLock(
            access -> {
              for (int i = 0; i < batch.size(); i++) {
                Send send = batch.get(i);
                send.settled = true;
                send.stored = failure == null ? stored.get(i) : null;
                send.failure = failure;
              }
              return new Next(releaseSettled(access), nextBatch());
            });
    proceed(next);
  }

  /** Writes the next batch and answers the settled sends (outside the lock). */
  private void proceed(Next next) {
    if (!next.batch().isEmpty()) {
      write(next.batch());
    }
    // Outside the lock: the stream's reply code runs in these completions.
    next.replies().forEach(Runnable::run);
  }

  /** Stores sends that may be retries (each looked up first); they settle as a batch does. */
  private void storeOnce(List<Send> batch, int attempt) {
    CompletionStage<List<Stored>> stored;
    try {
      stored = chat.store.storeOnce(roomId, epoch, messagesOf(batch));
    } catch (RuntimeException e) {
      stored = CompletableFuture.failedFuture(e);
    }
    stored.whenCompleteAsync(
        (results, failure) -> {
          if (failure == null) {
            settle(batch, results, null);
          } else if (Failures.unwrap(failure) instanceof RoomMoved moved) {
            settle(batch, null, lostTo(moved));
          } else {
            retryOrWithdraw(
                batch,
                attempt,
                failure,
                next -> storeOnce(batch, next),
                () -> settle(batch, null, failure));
          }
        },
        chat.executor);
  }

  /** After a write settled: the answers to send and the next batch to write. */
  private record Next(List<Runnable> replies, List<Send> batch) {}

  /** Releases the settled sends at the head of the queue, in id order; how to answer each. */
  private List<Runnable> releaseSettled(Access access) {
    List<Runnable> released = new ArrayList<>();
    while (!sends.isEmpty() && sends.peekFirst().settled) {
      released.add(release(access, sends.pollFirst()));
    }
    return released;
  }

  /** Publishes a settled send if the room has not seen it; returns how to answer its sender. */
  private Runnable release(Access access, Send send) {
    inFlight.remove(send.key);
    long now = chat.clock.millis();
    if (send.failure != null) {
      settled.fail(send.key, now);
      String userId = send.key.userId();
      if (send.slowed && Objects.equals(lastPostedAt.get(userId), send.admittedAt)) {
        // Not stored, so not posted: slow mode counts from the message before.
        send.previousPostedAt.ifPresentOrElse(
            at -> lastPostedAt.put(userId, at), () -> lastPostedAt.remove(userId));
      }
      Throwable failure = Failures.unwrap(send.failure);
      return () -> send.ack.completeExceptionally(failure);
    }
    ChatMessage message = send.stored.message();
    boolean unseen =
        switch (send.stored.outcome()) {
          case STORED -> true;
          case ALREADY_STORED -> settled.failed(send.key);
          case DELETED -> false;
        };
    if (unseen && !deletedIds.contains(message.getMessageId()) && !access.closed()) {
      access.publish(ServerMessage.newBuilder().setChat(message));
      recent.addLast(message);
      while (recent.size() > chat.settings.recentMessages()) {
        recent.removeFirst();
      }
    }
    settled.acknowledge(send.key, message, now);
    return () -> send.ack.complete(message);
  }

  @Override
  public void addRecent(Snapshot.Builder snapshot) {
    snapshot.addAllRecentChat(recent);
  }

  @Override
  public boolean idle() {
    return sends.isEmpty() && withdrawing.isEmpty();
  }

  @Override
  public CompletionStage<ListChatHistoryResponse> history(
      Identity who, String pageToken, int pageSize) {
    Optional<ChatCursor> from = ChatCursor.decode(pageToken);
    room.withChatLock(
        access -> {
          requireReader(access, who);
          return null;
        });
    return chat.store
        .page(roomId, from, pageSize)
        .thenApply(
            page ->
                ListChatHistoryResponse.newBuilder()
                    .addAllMessages(page.messages())
                    .setNextPageToken(page.next().map(ChatCursor::encode).orElse(""))
                    .build());
  }

  // ---------------------------------------------------------------------------------------------
  // Reactions

  /**
   * Counts a reaction. The first reaction of a window schedules its end; then one Reactions event
   * carries the counts of the whole window, however many viewers reacted.
   */
  @Override
  public void react(Identity who, React reaction) {
    String emoji = ChatEmoji.canonical(reaction.getEmoji());
    room.withChatLock(
        access -> {
          access.requireOpen();
          requireParticipant(access, who);
          requireNotMuted(who.userId(), chat.clock.millis());
          chat.reactionLimiter.acquire(who.userId());
          reactionCounts.merge(emoji, 1L, Long::sum);
          if (!reactionFlushDue) {
            reactionFlushDue = true;
            access.schedule(this::flushReactions, chat.settings.reactionWindow().toMillis());
          }
          return null;
        });
  }

  private void flushReactions() {
    room.withChatLock(
        access -> {
          reactionFlushDue = false;
          if (!reactionCounts.isEmpty() && !access.closed()) {
            access.publish(
                ServerMessage.newBuilder()
                    .setReactions(Reactions.newBuilder().putAllCounts(reactionCounts)));
          }
          reactionCounts.clear();
          return null;
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Moderation

  @Override
  public CompletionStage<CommandAccepted> moderate(Identity who, ChatModeration command) {
    return switch (command.getActionCase()) {
      case DELETE_MESSAGE_ID -> delete(who, command.getDeleteMessageId());
      case MUTE -> mute(who, command.getMute());
      case UNMUTE -> unmute(who, command.getUnmute());
      case SET_SLOW_MODE_MS -> slowMode(who, command.getSetSlowModeMs());
      case ACTION_NOT_SET ->
          throw new RefusedException(ErrorReason.FIELD_MISSING, "the chat command has no action");
    };
  }

  /**
   * Deletes a message: its author may, the host may delete any, a co-host any viewer's. A message
   * not among the recent ones is looked up first; then, as for every command, the deletion is
   * applied and announced at once and stored behind.
   */
  private CompletionStage<CommandAccepted> delete(Identity who, String messageId) {
    UUID id =
        ChatIds.parse(messageId)
            .orElseThrow(
                () ->
                    new RefusedException(
                        ErrorReason.MALFORMED_ID,
                        Echo.quoted(messageId) + " is not a message id",
                        Map.of("field", "delete_message_id")));
    Optional<ChatMessage> recentCopy =
        room.withChatLock(
            access -> {
              access.requireOpen();
              if (!controller(access, who.userId())) {
                requireParticipant(access, who);
              }
              return recent.stream().filter(m -> m.getMessageId().equals(messageId)).findFirst();
            });
    CompletionStage<Optional<Found>> lookup =
        recentCopy.isPresent()
            ? CompletableFuture.completedStage(Optional.of(new Found(recentCopy.get(), false)))
            : chat.store.find(roomId, id);
    return lookup.thenComposeAsync(
        found ->
            room.withChatLock(
                access -> {
                  access.requireOpen();
                  Found message = found.orElseThrow(() -> messageNotFound(messageId));
                  access.requireMayDelete(who.userId(), message.message().getUserId());
                  if (message.deleted() || !deletedIds.add(messageId)) {
                    return CompletableFuture.completedStage(accepted(0));
                  }
                  recent.removeIf(m -> m.getMessageId().equals(messageId));
                  settled.deleted(messageId);
                  access.writeBehind(
                      "the deletion of message " + messageId,
                      () -> chat.store.markDeleted(roomId, epoch, id, who.userId()));
                  return stored(
                      access,
                      access.publish(
                          ServerMessage.newBuilder()
                              .setChatDeleted(
                                  ChatDeleted.newBuilder()
                                      .setMessageId(messageId)
                                      .setByUserId(who.userId()))));
                }),
        chat.executor);
  }

  /** Mutes a user for a while: applied and announced at once, and stored to survive a restart. */
  private CompletionStage<CommandAccepted> mute(Identity who, ChatModeration.Mute mute) {
    String target = Identity.requireUserId(mute.getUserId());
    Duration length = Duration.ofMillis(mute.getDurationMs());
    if (length.compareTo(MIN_MUTE) < 0 || length.compareTo(MAX_MUTE) > 0) {
      throw new RefusedException(
          ErrorReason.INVALID_SETTING,
          "mute.duration_ms must be "
              + MIN_MUTE.toMillis()
              + ".."
              + MAX_MUTE.toMillis()
              + ", got "
              + mute.getDurationMs(),
          Map.of("field", "mute.duration_ms"));
    }
    return room.withChatLock(
        access -> {
          access.requireOpen();
          access.requireMayModerate(who.userId(), target, Sanction.MUTE);
          long until = chat.clock.millis() + length.toMillis();
          mutedUntil.put(target, until);
          access.writeBehind(
              "the mute of " + target,
              () -> chat.store.mute(roomId, epoch, target, until, who.userId(), length));
          return stored(access, announceMute(access, target, until, who));
        });
  }

  private CompletionStage<CommandAccepted> unmute(Identity who, String userId) {
    String target = Identity.requireUserId(userId);
    return room.withChatLock(
        access -> {
          access.requireOpen();
          access.requireMayModerate(who.userId(), target, Sanction.MUTE);
          Long until = mutedUntil.remove(target);
          if (until == null || until <= chat.clock.millis()) {
            return CompletableFuture.completedStage(accepted(0));
          }
          access.writeBehind(
              "the unmute of " + target, () -> chat.store.unmute(roomId, epoch, target));
          return stored(access, announceMute(access, target, 0, who));
        });
  }

  private CompletionStage<CommandAccepted> slowMode(Identity who, long slowModeMs) {
    if (slowModeMs < 0 || slowModeMs > RoomRegistry.MAX_SLOW_MODE_MS) {
      throw new RefusedException(
          ErrorReason.INVALID_SETTING,
          "set_slow_mode_ms must be 0.." + RoomRegistry.MAX_SLOW_MODE_MS + ", got " + slowModeMs,
          Map.of("field", "set_slow_mode_ms"));
    }
    return room.withChatLock(
        access -> {
          access.requireOpen();
          access.requireController(who.userId());
          if (access.settings().getSlowModeMs() == slowModeMs) {
            return CompletableFuture.completedStage(accepted(0));
          }
          access.setSlowMode(slowModeMs);
          if (slowModeMs == 0) {
            lastPostedAt.clear();
          }
          access.writeBehind(
              "the slow mode", () -> chat.store.setSlowMode(roomId, epoch, slowModeMs));
          return stored(
              access,
              access.publish(
                  ServerMessage.newBuilder()
                      .setSlowModeChanged(
                          SlowModeChanged.newBuilder()
                              .setSlowModeMs(slowModeMs)
                              .setByUserId(who.userId()))));
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Rules (under the room lock)

  /**
   * Members chat; kicked users are no longer members, banned ones are told why. A private room is
   * not confirmed to exist to others.
   */
  private void requireParticipant(Access access, Identity who) {
    if (who.relay()) {
      throw new RefusedException(
          ErrorReason.NOT_JOINED,
          "a relay does not chat itself: it sends each viewer's message under that viewer's token");
    }
    switch (access.presence(who.userId())) {
      case PRESENT -> {}
      case BANNED -> throw banned();
      case ABSENT -> {
        if (access.settings().getVisibility() != Visibility.PUBLIC) {
          throw roomNotFound();
        }
        throw new RefusedException(
            ErrorReason.NOT_JOINED,
            "join the room to chat in it",
            Map.of("room_id", roomId.toString()));
      }
    }
  }

  /**
   * History: members and the room's host and co-hosts; anyone subscribed for a public room. A
   * private room is not confirmed to exist to others.
   */
  private void requireReader(Access access, Identity who) {
    switch (access.presence(who.userId())) {
      case PRESENT -> {}
      case BANNED -> throw banned();
      case ABSENT -> {
        if (controller(access, who.userId())) {
          return;
        }
        if (access.settings().getVisibility() == Visibility.PUBLIC) {
          RoomRegistry.requireSubscribed(who);
          return;
        }
        throw roomNotFound();
      }
    }
  }

  private void requireNotMuted(String userId, long now) {
    Long until = mutedUntil.get(userId);
    if (until == null) {
      return;
    }
    if (until <= now) {
      mutedUntil.remove(userId);
      return;
    }
    throw new RefusedException(
        ErrorReason.MUTED,
        "you are muted in this room for another " + (until - now) + " ms",
        Map.of("until_ms", Long.toString(until), "retry_after_ms", Long.toString(until - now)));
  }

  private static boolean controller(Access access, String userId) {
    return access.role(userId) != Role.VIEWER;
  }

  private RefusedException banned() {
    return new RefusedException(
        ErrorReason.BANNED_FROM_ROOM,
        "you are banned from this room",
        Map.of("room_id", roomId.toString()));
  }

  private RefusedException roomNotFound() {
    return new RefusedException(
        ErrorReason.ROOM_NOT_FOUND, "no room " + roomId, Map.of("room_id", roomId.toString()));
  }

  private static RefusedException messageNotFound(String messageId) {
    return new RefusedException(
        ErrorReason.MESSAGE_NOT_FOUND,
        "no message " + messageId + " in this room",
        Map.of("message_id", messageId));
  }

  /** Tells the room that {@code target} is muted until {@code untilMs} (0: no longer muted). */
  private static long announceMute(Access access, String target, long untilMs, Identity by) {
    return access.publish(
        ServerMessage.newBuilder()
            .setUserMuted(
                UserMuted.newBuilder()
                    .setUserId(target)
                    .setUntilMs(untilMs)
                    .setByUserId(by.userId())));
  }

  /** Acknowledges a moderation command once Cassandra has it (see {@code room.proto}). */
  private static CompletionStage<CommandAccepted> stored(Access access, long sequence) {
    return access.whenStored().thenApply(v -> accepted(sequence));
  }

  private static CommandAccepted accepted(long sequence) {
    return CommandAccepted.newBuilder().setSequence(sequence).build();
  }

  private static <K, V> Map<K, V> lru(int capacity) {
    return new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
      }
    };
  }
}
