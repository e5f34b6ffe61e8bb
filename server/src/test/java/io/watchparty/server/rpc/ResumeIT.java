package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.NoticeCode;
import io.watchparty.proto.v1.Resumed;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Reconnecting: replay from the room's bounded event log, snapshots, the grace period. */
class ResumeIT {
  static final int EVENT_LOG = 8;

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder().rooms(r -> r.eventLogCapacity(EVENT_LOG)).build();

  @Test
  void resumeReplaysExactlyTheMissedEventsAndAnnouncesNoLeaveOrJoin() {
    var created = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = created.getRoom().getRoomId();
    String invite = created.getInviteToken();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId, invite);
    bob.snapshot();
    alice.next(KindCase.MEMBER_JOINED);
    alice.resultOf(alice.command(Commands.play()));
    long lastSeen = bob.next(KindCase.PLAYBACK_CHANGED).getSequence();

    bob.disconnect();
    // Bob is still a member, only not connected: he keeps his place for the grace period.
    Snapshot seenByChiara = wp.connect("chiara").join(roomId, invite).snapshot();
    assertThat(seenByChiara.getMembersList())
        .filteredOn(m -> m.getUserId().equals("bob"))
        .singleElement()
        .satisfies(m -> assertThat(m.getConnected()).isFalse());
    alice.command(Commands.seek(1_000));
    alice.command(Commands.seek(2_000));
    alice.command(Commands.pause());
    List<ServerMessage> missed =
        alice
            .until(m -> m.hasPlaybackChanged() && !m.getPlaybackChanged().getState().getPlaying())
            .stream()
            .filter(m -> m.getSequence() > 0)
            .toList();
    assertThat(missed)
        .extracting(ServerMessage::getKindCase)
        .containsExactly(
            KindCase.MEMBER_JOINED,
            KindCase.PLAYBACK_CHANGED,
            KindCase.PLAYBACK_CHANGED,
            KindCase.PLAYBACK_CHANGED);

    StreamProbe back = wp.connect("bob").resume(roomId, invite, lastSeen);

    Resumed resumed = back.next(KindCase.RESUMED).getResumed();
    assertThat(resumed.getFromSequence()).isEqualTo(lastSeen + 1);
    assertThat(resumed.getToSequence()).isEqualTo(lastSeen + missed.size());
    for (ServerMessage expected : missed) {
      assertThat(back.next()).isEqualTo(expected);
    }
    assertThat(missed)
        .extracting(ServerMessage::getSequence)
        .containsExactly(lastSeen + 1, lastSeen + 2, lastSeen + 3, lastSeen + 4);
    // Per-connection notices are not replayed; whether Bob may watch the title is restated.
    ServerMessage restated = back.next(KindCase.WATCHABILITY);
    assertThat(restated.getSequence()).isZero();
    assertThat(restated.getWatchability().getCanWatch()).isTrue();

    // Live again, and the others were told neither that Bob left nor that he came back.
    long next = wp.as("alice").sendCommand(command(roomId, Commands.play())).getSequence();
    assertThat(back.next(KindCase.PLAYBACK_CHANGED).getSequence()).isEqualTo(next);
    assertThat(next).isEqualTo(lastSeen + missed.size() + 1);
    List<ServerMessage> sinceThen = alice.until(m -> m.getSequence() == next);
    assertThat(sinceThen)
        .extracting(ServerMessage::getKindCase)
        .doesNotContain(KindCase.MEMBER_JOINED, KindCase.MEMBER_LEFT);
    assertThat(wp.as("alice").getRoom(get(roomId)).getMemberCount()).isEqualTo(3);
  }

  @Test
  void resumeWithNothingMissedReplaysNothing() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    alice.command(Commands.play());
    long seen = bob.next(KindCase.PLAYBACK_CHANGED).getSequence();
    bob.disconnect();

    StreamProbe back = wp.connect("bob").resume(roomId, "", seen);

    Resumed resumed = back.next(KindCase.RESUMED).getResumed();
    assertThat(resumed.getFromSequence()).isEqualTo(seen + 1);
    assertThat(resumed.getToSequence()).isEqualTo(seen);
    assertThat(back.next(KindCase.WATCHABILITY).getSequence()).isZero();
    long next = wp.as("alice").sendCommand(command(roomId, Commands.pause())).getSequence();
    assertThat(next).isEqualTo(seen + 1);
    assertThat(back.next(KindCase.PLAYBACK_CHANGED).getSequence()).isEqualTo(next);
  }

  @Test
  void resumeOlderThanTheEventLogGetsAFreshSnapshot() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    long lastSeen = bob.next(KindCase.SNAPSHOT).getSequence();
    bob.disconnect();

    long last = 0;
    for (int i = 1; i <= EVENT_LOG + 2; i++) {
      last = wp.as("alice").sendCommand(command(roomId, Commands.seek(i * 1_000L))).getSequence();
    }

    StreamProbe back = wp.connect("bob").resume(roomId, "", lastSeen);
    ServerMessage first = back.next(KindCase.SNAPSHOT);
    assertThat(first.getSequence()).isEqualTo(last);
    assertThat(first.getSnapshot().getPlayback().getPositionMs())
        .isEqualTo((EVENT_LOG + 2) * 1_000L);
    assertThat(first.getSnapshot().getPlayback().getSequence()).isEqualTo(last);
    assertThat(first.getSnapshot().getYourRole()).isEqualTo(Role.VIEWER);

    // A sequence this room never issued is no basis for a replay either. (Chiara is new: her
    // snapshot already counts her own arrival.)
    StreamProbe confused = wp.connect("chiara").resume(roomId, "", last + 1_000);
    ServerMessage snapshot = confused.next(KindCase.SNAPSHOT);
    assertThat(snapshot.getSequence()).isEqualTo(last + 1);
    assertThat(snapshot.getSnapshot().getMemberCount()).isEqualTo(3);
  }

  @Test
  void hostWhoReconnectsWithinTheGraceKeepsTheHostRole() {
    var created = wp.createRoom("alice", Visibility.PRIVATE, HostLeavePolicy.END_ROOM);
    String roomId = created.getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId, created.getInviteToken());
    bob.snapshot();

    alice.disconnect();
    ServerMessage notice = bob.next(KindCase.NOTICE);
    assertThat(notice.getNotice().getCode()).isEqualTo(NoticeCode.HOST_DISCONNECTED);

    StreamProbe back = wp.connect("alice").join(roomId);
    Snapshot snapshot = back.snapshot();
    assertThat(snapshot.getYourRole()).isEqualTo(Role.HOST);
    assertThat(snapshot.getRoom().getHostUserId()).isEqualTo("alice");
    assertThat(snapshot.getMembersList())
        .extracting(Member::getUserId, Member::getRole, Member::getConnected)
        .containsExactly(tuple("alice", Role.HOST, true), tuple("bob", Role.VIEWER, true));
    assertThat(bob.next(KindCase.NOTICE).getNotice().getCode())
        .isEqualTo(NoticeCode.HOST_RECONNECTED);
    long played = back.resultOf(back.command(Commands.play())).getAccepted().getSequence();
    ServerMessage seen = bob.next();
    assertThat(seen.getSequence()).isEqualTo(played);
    assertThat(seen.getPlaybackChanged().getByUserId()).isEqualTo("alice");
  }

  @Test
  void memberNotBackWithinTheGraceTimesOutAndAHostIsSucceeded() {
    try (TestServer shortGrace =
        TestServer.builder()
            .rooms(r -> r.reconnectGrace(Duration.ofMillis(300)))
            .start(wp.session())) {
      String roomId = shortGrace.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      StreamProbe alice = shortGrace.connect("alice").join(roomId);
      alice.snapshot();
      StreamProbe bob = shortGrace.connect("bob").join(roomId);
      bob.snapshot();
      StreamProbe chiara = shortGrace.connect("chiara").join(roomId);
      chiara.snapshot();
      alice.resultOf(alice.command(Commands.grantCohost("chiara")));

      bob.disconnect();
      MemberLeft bobLeft = alice.skipTo(KindCase.MEMBER_LEFT).getMemberLeft();
      assertThat(bobLeft.getUserId()).isEqualTo("bob");
      assertThat(bobLeft.getReason()).isEqualTo(MemberLeft.Reason.TIMED_OUT);

      alice.disconnect();
      List<ServerMessage> seen =
          chiara.until(m -> m.hasRoleChanged() && m.getRoleChanged().getRole() == Role.HOST);
      assertThat(seen)
          .filteredOn(ServerMessage::hasMemberLeft)
          .extracting(m -> m.getMemberLeft().getUserId(), m -> m.getMemberLeft().getReason())
          .containsExactly(
              tuple("bob", MemberLeft.Reason.TIMED_OUT),
              tuple("alice", MemberLeft.Reason.TIMED_OUT));
      assertThat(seen)
          .filteredOn(ServerMessage::hasNotice)
          .extracting(m -> m.getNotice().getCode())
          .containsExactly(NoticeCode.HOST_DISCONNECTED);
      assertThat(seen.getLast().getRoleChanged().getUserId()).isEqualTo("chiara");
      assertThat(seen.getLast().getRoleChanged().getRole()).isEqualTo(Role.HOST);
      assertThat(shortGrace.as("chiara").getRoom(get(roomId)).getHostUserId()).isEqualTo("chiara");
    }
  }

  private static GetRoomRequest get(String roomId) {
    return GetRoomRequest.newBuilder().setRoomId(roomId).build();
  }

  private static SendCommandRequest command(String roomId, Command command) {
    return SendCommandRequest.newBuilder().setRoomId(roomId).setCommand(command).build();
  }
}
