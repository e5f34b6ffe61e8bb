package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.cql.Row;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.MutableClock;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Rooms live in Cassandra: a new server on the same keyspace carries on where the old one was. */
class RestartIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  @Test
  void roomsRolesBansAndPlaybackSurviveARestart() {
    CreateRoomResponse created =
        wp.createRoom("alice", Visibility.PRIVATE, HostLeavePolicy.TRANSFER_HOST);
    String roomId = created.getRoom().getRoomId();
    String invite = created.getInviteToken();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    for (String user : new String[] {"bob", "chiara", "emma"}) {
      wp.connect(user).join(roomId, invite).snapshot();
    }
    alice.resultOf(alice.command(Commands.grantCohost("bob")));
    alice.resultOf(alice.command(Commands.ban("chiara")));
    alice.resultOf(alice.command(Commands.transferHost("emma")));
    alice.resultOf(alice.command(Commands.play()));
    String seek = alice.command(Commands.seek(30_000));
    List<ServerMessage> seen =
        alice.until(m -> m.hasCommandResult() && m.getCommandResult().getRequestId().equals(seek));
    long seekSequence = seen.getLast().getCommandResult().getAccepted().getSequence();
    PlaybackState before =
        seen.stream()
            .filter(m -> m.getSequence() == seekSequence)
            .findFirst()
            .orElseThrow()
            .getPlaybackChanged()
            .getState();
    // Playback is stored in the background (it must go on while Cassandra is away): wait for it.
    await().atMost(StreamProbe.WAIT).until(() -> storedPlaybackSequence(roomId) == seekSequence);

    wp.restart();

    assertThat(alice.awaitEnd().getCode()).isNotEqualTo(Code.OK);
    var info = wp.as("alice").getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build());
    assertThat(info.toBuilder().clearCanWatch().build())
        .isEqualTo(
            created.getRoom().toBuilder()
                .clearCanWatch()
                .setHostUserId("emma")
                .setHostDisplayName("Emma")
                .build());

    StreamProbe emma = wp.connect("emma").join(roomId);
    ServerMessage snapshot = emma.next(KindCase.SNAPSHOT);
    assertThat(snapshot.getSnapshot().getYourRole()).isEqualTo(Role.HOST);
    assertThat(snapshot.getSnapshot().getPlayback()).isEqualTo(before);
    // Sequences go on increasing past everything the old server numbered.
    assertThat(snapshot.getSequence()).isGreaterThan(seekSequence);

    // Back with the old server's last sequence: a snapshot, never a replay of other events.
    StreamProbe aliceBack = wp.connect("alice").resume(roomId, "", seekSequence);
    Snapshot aliceSnapshot = aliceBack.snapshot();
    assertThat(aliceSnapshot.getYourRole()).isEqualTo(Role.COHOST);
    StreamProbe bob = wp.connect("bob").join(roomId);
    assertThat(bob.snapshot().getMembersList())
        .extracting(Member::getUserId, Member::getRole)
        .containsExactly(
            tuple("emma", Role.HOST), tuple("alice", Role.COHOST), tuple("bob", Role.COHOST));

    wp.connect("chiara")
        .join(roomId, invite)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.BANNED_FROM_ROOM);
    assertThat(wp.connect("hiro").join(roomId, invite).snapshot().getYourRole())
        .isEqualTo(Role.VIEWER);
    long paused = bob.resultOf(bob.command(Commands.pause())).getAccepted().getSequence();
    assertThat(paused).isGreaterThan(snapshot.getSequence());
    assertThat(emma.skipTo(KindCase.PLAYBACK_CHANGED).getPlaybackChanged().getByUserId())
        .isEqualTo("bob");
  }

  @Test
  void closedRoomStaysClosedAfterARestart() {
    String roomId =
        wp.createRoom("alice", Visibility.PUBLIC, HostLeavePolicy.END_ROOM).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    alice.leave();
    assertThat(alice.awaitEnd().getCode()).isEqualTo(Code.OK);
    await().atMost(StreamProbe.WAIT).until(() -> storedClosed(roomId));

    wp.restart();

    assertThat(
            wp.as("bob").getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build()).getClosed())
        .isTrue();
    wp.connect("bob").join(roomId).awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.ROOM_CLOSED);
  }

  @Test
  void aCommandInTheMillisecondTheRoomWasCreatedIsStored() {
    // The server's clock stands still, so creation and the first command share one millisecond
    // of it, as they may on a fast client; Cassandra's own write clock moves on meanwhile.
    try (TestServer frozen = TestServer.builder().clock(MutableClock.atNow()).start(wp.session())) {
      String roomId = frozen.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      frozen.connect("alice").join(roomId).snapshot();
      long sequence =
          frozen
              .as("alice")
              .sendCommand(
                  SendCommandRequest.newBuilder()
                      .setRoomId(roomId)
                      .setCommand(Commands.seek(42_000))
                      .build())
              .getSequence();

      await().atMost(StreamProbe.WAIT).until(() -> storedPlaybackSequence(roomId) == sequence);
      // Stopping, it hands the room to the other live instance, which serves it from storage.
      frozen.restart();

      Snapshot snapshot = wp.connect("alice").join(roomId).snapshot();
      assertThat(snapshot.getPlayback().getPositionMs()).isEqualTo(42_000);
      assertThat(snapshot.getPlayback().getSequence()).isEqualTo(sequence);
    }
  }

  private static long storedPlaybackSequence(String roomId) {
    return row(roomId).getLong("sequence");
  }

  private static boolean storedClosed(String roomId) {
    return row(roomId).getBoolean("closed");
  }

  private static Row row(String roomId) {
    return wp.session()
        .execute("SELECT sequence, closed FROM rooms WHERE room_id = ?", UUID.fromString(roomId))
        .one();
  }
}
