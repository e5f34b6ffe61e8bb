package io.watchparty.bridge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * The invite each user joined a private room with. The browser hands the invite over once, in the
 * body of its join (it came in the share link's URL fragment, which never reaches a server); the
 * event stream and room lookups that follow use it from here, so that it never travels in a URL.
 */
final class Invites {
  private final Cache<String, String> byUserAndRoom =
      Caffeine.newBuilder().maximumSize(200_000).expireAfterAccess(Duration.ofHours(24)).build();

  void remember(String userId, String roomId, String invite) {
    if (!invite.isEmpty()) {
      byUserAndRoom.put(key(userId, roomId), invite);
    }
  }

  /** The user's invite to the room, or "" (public rooms, members, hosts need none). */
  String of(String userId, String roomId) {
    String invite = byUserAndRoom.getIfPresent(key(userId, roomId));
    return invite == null ? "" : invite;
  }

  void forget(String userId, String roomId) {
    byUserAndRoom.invalidate(key(userId, roomId));
  }

  private static String key(String userId, String roomId) {
    return userId + "/" + roomId;
  }
}
