package io.watchparty.bridge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.watchparty.bridge.relay.EndReason;
import java.time.Duration;
import java.util.Optional;

/**
 * Whose event streams ended for good in which room (kicked, left, room closed). {@code EventSource}
 * reconnects by itself after a stream ends, sending {@code Last-Event-ID}; such a reconnect is
 * answered {@code 204 No Content}, which makes it stop, instead of being served again. A deliberate
 * join ({@code POST /join}) forgets the end: a kicked user may come back if the room lets them.
 */
final class EndedStreams {
  private final Cache<String, EndReason> ended =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofHours(1)).build();

  void remember(String userId, String roomId, EndReason reason) {
    ended.put(key(userId, roomId), reason);
  }

  Optional<EndReason> of(String userId, String roomId) {
    return Optional.ofNullable(ended.getIfPresent(key(userId, roomId)));
  }

  void forget(String userId, String roomId) {
    ended.invalidate(key(userId, roomId));
  }

  private static String key(String userId, String roomId) {
    return userId + "/" + roomId;
  }
}
