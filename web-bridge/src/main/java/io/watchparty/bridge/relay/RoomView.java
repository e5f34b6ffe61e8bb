package io.watchparty.bridge.relay;

import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import java.util.List;
import java.util.Optional;

/**
 * The room as the relay last heard it: the upstream snapshot with every later event folded in, so
 * that a browser arriving at sequence {@code n} is handed the snapshot of sequence {@code n} at
 * once, without a round trip to the server and however long ago the upstream snapshot came.
 *
 * <p>It folds what a snapshot shows (playback, members and their roles, counts, recent chat, slow
 * mode, closing); events that leave no state behind (reactions, notices, buffering counts) pass
 * through without changing it. Not thread-safe: its relay's lock guards it.
 */
final class RoomView {
  private Snapshot snapshot;
  private long sequence;
  private final int recentChatLimit;

  RoomView(Snapshot snapshot, long sequence) {
    this.snapshot = snapshot;
    this.sequence = sequence;
    // The server sends as many recent messages as it keeps; keep the same number, at least 50.
    this.recentChatLimit = Math.max(50, snapshot.getRecentChatCount());
  }

  long sequence() {
    return sequence;
  }

  String titleId() {
    return snapshot.getPlayback().getTitleId();
  }

  boolean closed() {
    return snapshot.getRoom().getClosed();
  }

  /** The snapshot at {@link #sequence()}, as the relay sees it (role VIEWER, can watch). */
  Snapshot snapshot() {
    return snapshot;
  }

  /**
   * Folds a room event (sequence above the current one) into the view.
   *
   * @return the title the event switched to, when it changed the title
   */
  Optional<String> apply(ServerMessage event) {
    String titleBefore = titleId();
    Snapshot.Builder next = snapshot.toBuilder();
    switch (event.getKindCase()) {
      case PLAYBACK_CHANGED -> {
        next.setPlayback(event.getPlaybackChanged().getState());
        next.getRoomBuilder().setTitleId(event.getPlaybackChanged().getState().getTitleId());
      }
      case MEMBER_JOINED -> {
        Member member = event.getMemberJoined().getMember();
        removeMember(next, member.getUserId());
        next.addMembers(member).setMemberCount(next.getMemberCount() + 1);
        next.getRoomBuilder().setMemberCount(next.getMemberCount());
      }
      case MEMBER_LEFT -> {
        if (removeMember(next, event.getMemberLeft().getUserId()) || next.getMembersCount() == 0) {
          next.setMemberCount(Math.max(0, next.getMemberCount() - 1));
          next.getRoomBuilder().setMemberCount(next.getMemberCount());
        }
      }
      case ROLE_CHANGED -> {
        var change = event.getRoleChanged();
        for (int i = 0; i < next.getMembersCount(); i++) {
          if (next.getMembers(i).getUserId().equals(change.getUserId())) {
            next.setMembers(i, next.getMembers(i).toBuilder().setRole(change.getRole()));
          }
        }
        if (change.getRole() == Role.HOST) {
          next.getRoomBuilder().setHostUserId(change.getUserId());
          displayName(next, change.getUserId())
              .ifPresent(name -> next.getRoomBuilder().setHostDisplayName(name));
        }
      }
      case PRESENCE -> {
        next.setMemberCount(event.getPresence().getMemberCount());
        next.getRoomBuilder().setMemberCount(event.getPresence().getMemberCount());
      }
      case CHAT -> {
        next.addRecentChat(event.getChat());
        while (next.getRecentChatCount() > recentChatLimit) {
          next.removeRecentChat(0);
        }
      }
      case CHAT_DELETED -> {
        List<ChatMessage> kept =
            next.getRecentChatList().stream()
                .filter(m -> !m.getMessageId().equals(event.getChatDeleted().getMessageId()))
                .toList();
        next.clearRecentChat().addAllRecentChat(kept);
      }
      case SLOW_MODE_CHANGED -> {
        long slowMode = event.getSlowModeChanged().getSlowModeMs();
        next.setSlowModeMs(slowMode);
        next.getRoomBuilder().getSettingsBuilder().setSlowModeMs(slowMode);
      }
      case ROOM_CLOSED -> next.getRoomBuilder().setClosed(true);
      default -> {
        // Reactions, notices, buffering counts, mutes: shown as they come, no lasting state.
      }
    }
    snapshot = next.build();
    sequence = event.getSequence();
    String titleAfter = titleId();
    return titleAfter.equals(titleBefore) ? Optional.empty() : Optional.of(titleAfter);
  }

  private static boolean removeMember(Snapshot.Builder snapshot, String userId) {
    for (int i = 0; i < snapshot.getMembersCount(); i++) {
      if (snapshot.getMembers(i).getUserId().equals(userId)) {
        snapshot.removeMembers(i);
        return true;
      }
    }
    return false;
  }

  private static Optional<String> displayName(Snapshot.Builder snapshot, String userId) {
    return snapshot.getMembersList().stream()
        .filter(m -> m.getUserId().equals(userId))
        .map(Member::getDisplayName)
        .findFirst();
  }
}
