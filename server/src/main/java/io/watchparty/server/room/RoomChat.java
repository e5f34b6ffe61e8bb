package io.watchparty.server.room;

import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatModeration;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.server.auth.Identity;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The chat of one room, built by {@code io.watchparty.server.chat}. The room holds one and hands it
 * its commands; the chat keeps its state under the room's lock and changes the room only through
 * {@link Room#withChatLock}, so chat events and all other room events share one sequence.
 */
public interface RoomChat {

  /**
   * Sends a message as {@code who}. Completes with the stored message once Cassandra has it (and
   * after the room has published it); a retried client message id completes with the message stored
   * the first time.
   */
  CompletionStage<ChatMessage> send(Identity who, SendChat message);

  /** A reaction: counted now, published with the others of its window. Refusals are thrown. */
  void react(Identity who, React reaction);

  /** A chat moderation command (delete, mute, unmute, slow mode). Not called under the lock. */
  CompletionStage<CommandAccepted> moderate(Identity who, ChatModeration command);

  /** Older messages, newest first, for a caller allowed to read this room's chat. */
  CompletionStage<ListChatHistoryResponse> history(Identity who, String pageToken, int pageSize);

  /** Adds the recent messages, oldest first, to a snapshot being built under the room lock. */
  void addRecent(Snapshot.Builder snapshot);

  /**
   * Whether no message waits for storage (its write, its retries, its withdrawal): only then may
   * the room leave memory, which stops its timers. Called under the room lock.
   */
  boolean idle();

  /** Builds the chat of each room the registry creates or loads. */
  interface Factory {
    /**
     * What builds the chat of room {@code roomId}, owned by this instance under {@code epoch}, once
     * the room is built. For a room loaded from storage ({@code created} false) it completes once
     * the chat is fenced for this owner and its recent messages and current mutes are read; for a
     * room just created, at once. The completion may run on a driver thread.
     */
    CompletionStage<Function<Room, RoomChat>> prepare(UUID roomId, long epoch, boolean created);
  }

  /** Where a user stands in the room, as far as chat is concerned. */
  enum Presence {
    /** A member (connected, or within the reconnect grace), a viewer a relay names, or a relay. */
    PRESENT,
    BANNED,
    ABSENT
  }

  /** What chat code may read and do while it holds the room lock. */
  interface Access {
    /**
     * Refuses with ROOM_CLOSED once the room has ended, and with ROOM_MOVED once another instance
     * owns it.
     */
    void requireOpen();

    boolean closed();

    Presence presence(String userId);

    Role role(String userId);

    /** Refuses anyone but the host and co-hosts. */
    void requireController(String userId);

    /** The host moderates anyone but themself; co-hosts moderate viewers (as for kick and ban). */
    void requireMayModerate(String actor, String target, Sanction sanction);

    /** Authors delete their own messages; the host any message, a co-host a viewer's. */
    void requireMayDelete(String actor, String author);

    RoomSettings settings();

    /** Changes the slow-mode setting (persisting it is the chat's job). */
    void setSlowMode(long slowModeMs);

    /** Numbers, serializes once and delivers a chat event; returns its sequence. */
    long publish(ServerMessage.Builder event);

    /**
     * Stores a moderation change behind the room (see the rule in {@code room.proto}): {@code
     * write} runs after the lock is released, after the room's writes recorded before it, and
     * again, with backoff, until it succeeds, so it must be idempotent (the same write again). A
     * write refused with {@link RoomMoved} lets the room go.
     */
    void writeBehind(String what, Supplier<CompletionStage<?>> write);

    /**
     * Storage refused a chat write because {@code owner} owns the room now: the room lets go of
     * itself (its streams are sent to the owner), as for a refused write of its own.
     */
    void lostTo(RoomOwner owner);

    /** Completes once every change recorded so far (this step's too) is stored. */
    CompletionStage<Void> whenStored();

    /**
     * Runs {@code task} after {@code delayMs} on the room's timers, which the room cancels when it
     * retires; the task takes the lock itself ({@link Room#withChatLock}).
     */
    void schedule(Runnable task, long delayMs);
  }
}
