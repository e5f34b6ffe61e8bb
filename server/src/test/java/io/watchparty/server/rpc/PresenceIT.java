package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Large rooms announce how many are present, throttled, instead of every join and leave. */
class PresenceIT {
  static final int DETAIL_LIMIT = 2;

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .rooms(
              r ->
                  r.presenceDetailLimit(DETAIL_LIMIT)
                      // Long enough that the joins of one test land in one interval and coalesce.
                      .presenceInterval(Duration.ofSeconds(5)))
          .build();

  @Test
  void largeRoomSendsThrottledCountsInsteadOfJoins() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    wp.connect("bob").join(roomId).snapshot();
    assertThat(alice.next(KindCase.MEMBER_JOINED).getMemberJoined().getMember().getUserId())
        .isEqualTo("bob");

    List<String> crowd = List.of("chiara", "emma", "farid", "gabriela");
    Snapshot last = null;
    StreamProbe leaving = null;
    for (String user : crowd) {
      leaving = wp.connect(user);
      last = leaving.join(roomId).snapshot();
    }

    // A joiner of a large room gets the count, not the member list.
    assertThat(last.getMembersList()).isEmpty();
    assertThat(last.getMemberCount()).isEqualTo(6);
    List<ServerMessage> seen =
        alice.until(m -> m.hasPresence() && m.getPresence().getMemberCount() == 6);
    assertThat(seen)
        .extracting(ServerMessage::getKindCase)
        .containsOnly(KindCase.PRESENCE)
        .hasSizeLessThan(crowd.size());
    assertThat(seen)
        .extracting(m -> m.getPresence().getMemberCount())
        .isSorted()
        .doesNotHaveDuplicates();
    assertThat(seen).extracting(ServerMessage::getSequence).allMatch(s -> s > 0);

    // Leaves are counted too, not announced one by one.
    leaving.leave();
    List<ServerMessage> afterLeave =
        alice.until(m -> m.hasPresence() && m.getPresence().getMemberCount() == 5);
    assertThat(afterLeave).extracting(ServerMessage::getKindCase).containsOnly(KindCase.PRESENCE);
  }

  @Test
  void aClientThatClosesItsSideGetsTheEndOfItsStreamAtOnce() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();

    bob.closeSide(); // it will send nothing more: the server ends the stream, it does not wait
    assertThat(bob.awaitEnd().getCode()).isEqualTo(Status.Code.OK);
    // The host's stream goes on.
    alice.ping(7);
    assertThat(alice.skipTo(KindCase.PONG).getPong().getClientSendTimeMs()).isEqualTo(7);
  }
}
