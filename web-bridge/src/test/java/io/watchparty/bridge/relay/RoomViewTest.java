package io.watchparty.bridge.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.ChatDeleted;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.MemberJoined;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.PresenceCount;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoleChanged;
import io.watchparty.proto.v1.RoomClosed;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.SlowModeChanged;
import io.watchparty.proto.v1.Snapshot;
import org.junit.jupiter.api.Test;

/**
 * The relay's view of a room: a snapshot with every later event folded in, as the server would show
 * it.
 */
class RoomViewTest {
  private static final Member ALICE =
      Member.newBuilder().setUserId("alice").setDisplayName("Alice").setRole(Role.HOST).build();

  private static RoomView view() {
    return new RoomView(
        Snapshot.newBuilder()
            .setRoom(
                RoomInfo.newBuilder()
                    .setRoomId("r")
                    .setTitleId("sintel")
                    .setHostUserId("alice")
                    .setMemberCount(1))
            .setPlayback(PlaybackState.newBuilder().setTitleId("sintel").setSequence(5))
            .addMembers(ALICE)
            .setMemberCount(1)
            .build(),
        5);
  }

  private static ServerMessage.Builder at(long sequence) {
    return ServerMessage.newBuilder().setSequence(sequence);
  }

  @Test
  void playbackChangesReplaceTheStateAndReportATitleSwitch() {
    RoomView view = view();
    PlaybackState playing =
        PlaybackState.newBuilder()
            .setTitleId("sintel")
            .setPlaying(true)
            .setPositionMs(9_000)
            .build();
    assertThat(
            view.apply(
                at(6).setPlaybackChanged(PlaybackChanged.newBuilder().setState(playing)).build()))
        .isEmpty();
    assertThat(view.snapshot().getPlayback()).isEqualTo(playing);
    assertThat(view.sequence()).isEqualTo(6);

    PlaybackState other = PlaybackState.newBuilder().setTitleId("spring").build();
    assertThat(
            view.apply(
                at(7).setPlaybackChanged(PlaybackChanged.newBuilder().setState(other)).build()))
        .contains("spring");
    assertThat(view.snapshot().getRoom().getTitleId()).isEqualTo("spring");
  }

  @Test
  void membersRolesAndCountsFollowTheirEvents() {
    RoomView view = view();
    Member bob =
        Member.newBuilder().setUserId("bob").setDisplayName("Bob").setRole(Role.VIEWER).build();
    view.apply(at(6).setMemberJoined(MemberJoined.newBuilder().setMember(bob)).build());
    assertThat(view.snapshot().getMembersList())
        .extracting(Member::getUserId)
        .containsExactly("alice", "bob");
    assertThat(view.snapshot().getMemberCount()).isEqualTo(2);

    view.apply(
        at(7).setRoleChanged(RoleChanged.newBuilder().setUserId("bob").setRole(Role.HOST)).build());
    assertThat(view.snapshot().getMembers(1).getRole()).isEqualTo(Role.HOST);
    assertThat(view.snapshot().getRoom().getHostUserId()).isEqualTo("bob");
    assertThat(view.snapshot().getRoom().getHostDisplayName()).isEqualTo("Bob");

    view.apply(
        at(8)
            .setMemberLeft(
                MemberLeft.newBuilder().setUserId("alice").setReason(MemberLeft.Reason.LEFT))
            .build());
    assertThat(view.snapshot().getMembersList())
        .extracting(Member::getUserId)
        .containsExactly("bob");
    assertThat(view.snapshot().getMemberCount()).isEqualTo(1);

    view.apply(at(9).setPresence(PresenceCount.newBuilder().setMemberCount(40)).build());
    assertThat(view.snapshot().getMemberCount()).isEqualTo(40);
    assertThat(view.snapshot().getRoom().getMemberCount()).isEqualTo(40);
  }

  @Test
  void recentChatKeepsTheNewestAndForgetsDeletedMessages() {
    RoomView view = view();
    for (int i = 0; i < 60; i++) {
      view.apply(
          at(6 + i)
              .setChat(ChatMessage.newBuilder().setMessageId("m" + i).setText("hi " + i))
              .build());
    }
    assertThat(view.snapshot().getRecentChatCount()).isEqualTo(50);
    assertThat(view.snapshot().getRecentChat(0).getMessageId()).isEqualTo("m10");
    view.apply(at(66).setChatDeleted(ChatDeleted.newBuilder().setMessageId("m59")).build());
    assertThat(view.snapshot().getRecentChatList())
        .extracting(ChatMessage::getMessageId)
        .doesNotContain("m59");
  }

  @Test
  void slowModeAndClosingAreKept() {
    RoomView view = view();
    view.apply(at(6).setSlowModeChanged(SlowModeChanged.newBuilder().setSlowModeMs(5_000)).build());
    assertThat(view.snapshot().getSlowModeMs()).isEqualTo(5_000);
    assertThat(view.snapshot().getRoom().getSettings().getSlowModeMs()).isEqualTo(5_000);
    assertThat(view.closed()).isFalse();
    view.apply(at(7).setRoomClosed(RoomClosed.newBuilder().setReason("HOST_LEFT")).build());
    assertThat(view.closed()).isTrue();
  }
}
