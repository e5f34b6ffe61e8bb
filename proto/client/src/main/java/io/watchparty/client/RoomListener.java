package io.watchparty.client;

import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.NoticeCode;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.Snapshot;
import java.util.Map;
import java.util.Optional;

/**
 * The room's events, one method per kind, in room sequence order. Every method has an empty
 * default: implement those the app needs. The values are the protocol's plain data messages
 * (immutable); nothing needs switching on.
 *
 * <p>Thread safety: the library calls a connection's listener from its own client thread, one call
 * at a time, in order; never from a gRPC thread. A listener must not block for long: it delays
 * every later event and the player sync.
 */
public interface RoomListener {
  /**
   * The connection's state changed. {@code refusal} says why for {@link ConnectionState#REFUSED}
   * (the server's reason), {@link ConnectionState#GAVE_UP}, {@link ConnectionState#ROOM_CLOSED} and
   * {@link ConnectionState#RECONNECTING} (what dropped); it is empty otherwise.
   */
  default void onConnectionState(ConnectionState state, Optional<Refusal> refusal) {}

  /** The whole room: on a fresh join, and on a resync after a reconnect. */
  default void onSnapshot(Snapshot snapshot) {}

  /** The playback state changed (the library's player sync applies it at its effective time). */
  default void onPlayback(PlaybackState state, String byUserId, PlaybackChanged.Cause cause) {}

  /** A member joined. */
  default void onMemberJoined(Member member) {}

  /** A member left, timed out, or was kicked or banned. */
  default void onMemberLeft(String userId, MemberLeft.Reason reason) {}

  /** A member's role changed. */
  default void onRoleChanged(String userId, Role role, String byUserId) {}

  /** Large rooms: the member count. */
  default void onPresence(long memberCount) {}

  /** A notice for the room (the host disconnected, reconnected, ...). */
  default void onNotice(NoticeCode code, String text) {}

  /** The number of members buffering changed. */
  default void onBuffering(long bufferingCount) {}

  /** A chat message was stored and delivered (the app's own messages included). */
  default void onChat(ChatMessage message) {}

  /** A chat message was deleted. */
  default void onChatDeleted(String messageId, String byUserId) {}

  /** The reactions of the last window, counted per emoji. */
  default void onReactions(Map<String, Long> counts) {}

  /** A user was muted until {@code untilMs} (server time), or unmuted ({@code untilMs == 0}). */
  default void onUserMuted(String userId, long untilMs, String byUserId) {}

  /** Slow mode changed (0 = off). */
  default void onSlowMode(long slowModeMs, String byUserId) {}

  /**
   * Whether this member may watch the current title now; while not, an attached player stays
   * paused. {@code availableFromMs} is when it becomes available, if known (else 0).
   */
  default void onWatchability(
      String titleId, boolean canWatch, String reason, long availableFromMs) {}

  /** The room ended ({@code reason} e.g. {@code "HOST_LEFT"}); the connection ends with it. */
  default void onRoomClosed(String reason) {}
}
