package io.watchparty.server.chat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.watchparty.server.room.RateLimiter;
import io.watchparty.server.room.Room;
import io.watchparty.server.room.RoomChat;
import java.time.InstantSource;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The chat of every room on this server: builds each room's chat ({@link RoomChat.Factory}) and
 * holds what they share: the chat log, the per-user rate limits, the id generator.
 *
 * <p>Threads: sends are stored asynchronously, never under the room lock; their completions hop to
 * {@code executor} (not the driver's I/O threads) to publish into the room. Reaction windows are
 * flushed on each room's own timers.
 */
public final class ChatRooms implements RoomChat.Factory {
  final ChatSettings settings;
  final ChatLog store;
  final InstantSource clock;
  final Executor executor;
  final RateLimiter messageLimiter;
  final RateLimiter reactionLimiter;
  final ChatIds ids = new ChatIds();

  /**
   * @param store where messages, mutes and slow mode are kept
   * @param clock the server's clock: message times, mutes, slow mode
   * @param ticker measures rate-limit intervals
   * @param executor publishes stored messages into their room and answers their senders (whose
   *     replies are serialized on it: platform threads, so the transport's per-thread buffer caches
   *     are kept)
   */
  public ChatRooms(
      ChatLog store, ChatSettings settings, InstantSource clock, Ticker ticker, Executor executor) {
    this.settings = settings;
    this.store = store;
    this.clock = clock;
    this.executor = executor;
    this.messageLimiter =
        new RateLimiter(
            "chat messages", settings.messagesPerSecond(), settings.messageBurst(), ticker);
    this.reactionLimiter =
        new RateLimiter(
            "reactions", settings.reactionsPerSecond(), settings.reactionBurst(), ticker);
  }

  @Override
  public CompletionStage<Function<Room, RoomChat>> prepare(
      UUID roomId, long epoch, boolean created) {
    if (created) {
      return CompletableFuture.completedFuture(
          room -> new StoredRoomChat(this, room, epoch, true, StoredRoomChat.Preloaded.NOTHING));
    }
    // Fenced before it is read: what an earlier owner stored is settled and read.
    return store
        .fence(roomId, epoch)
        .thenCompose(fenced -> StoredRoomChat.load(this, roomId))
        .thenApply(stored -> room -> new StoredRoomChat(this, room, epoch, false, stored));
  }
}
