package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status.Code;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Memory stays bounded by the active rooms: closed rooms and rooms nobody is in leave memory at the
 * registry's sweeps, and come back from Cassandra, intact, when someone returns.
 */
class RoomMemoryIT {
  /**
   * A server of each test's own (an instance field), so that every test starts with no room loaded.
   */
  @RegisterExtension
  final TestServer wp =
      TestServer.builder().rooms(r -> r.reconnectGrace(Duration.ofMillis(200))).build();

  private RoomRegistry registry() {
    return wp.server().rooms();
  }

  private boolean loaded(Room room) {
    return RoomFixture.settled(wp.server().rooms().find(room.id().toString())) == room;
  }

  @Test
  void anEmptyRoomLeavesMemoryAfterTwoSweepsAndComesBackIntact() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    alice.resultOf(alice.command(Commands.seek(42_000)));
    Room before = RoomFixture.settled(registry().find(roomId));
    alice.leave();
    alice.awaitEnd();
    // The seek is persisted in the background: let it land before the room leaves memory.
    assertThat(registry().flush(Duration.ofSeconds(10))).isTrue();

    registry().sweep();
    assertThat(loaded(before)).as("one empty sweep is not enough").isTrue();
    registry().sweep();
    assertThat(registry().loadedRooms()).isZero();

    StreamProbe bob = wp.connect("bob").join(roomId);
    Snapshot snapshot = bob.snapshot();
    assertThat(snapshot.getPlayback().getPositionMs()).isEqualTo(42_000);
    // Nobody was there to take the host role over when alice left: she keeps it.
    assertThat(snapshot.getRoom().getHostUserId()).isEqualTo("alice");
    assertThat(RoomFixture.settled(registry().find(roomId))).isNotSameAs(before);
  }

  @Test
  void theDirectoryListsRoomsOutOfMemoryWithoutLoadingThem() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    registry().sweep();
    registry().sweep();
    assertThat(registry().loadedRooms()).isZero();

    var listed =
        wp
            .as("bob")
            .listPublicRooms(ListPublicRoomsRequest.newBuilder().setPageSize(100).build())
            .getRoomsList()
            .stream()
            .filter(r -> r.getRoomId().equals(roomId))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getMemberCount()).isZero();
    assertThat(listed.getCanWatch()).isTrue();
    assertThat(listed.getHostUserId()).isEqualTo("alice");
    assertThat(registry().loadedRooms()).as("listing loads no room").isZero();
  }

  @Test
  void aRoomWithMembersStays() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    Room room = RoomFixture.settled(registry().find(roomId));
    registry().sweep();
    registry().sweep();
    registry().sweep();
    assertThat(RoomFixture.settled(registry().find(roomId))).isSameAs(room);
    assertThat(alice.resultOf(alice.command(Commands.play())).getAccepted().getSequence())
        .isPositive();
  }

  @Test
  void aClosedRoomLeavesAtTheNextSweepAndStaysClosed() {
    String roomId =
        wp.createRoom("alice", Visibility.PUBLIC, HostLeavePolicy.END_ROOM).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    alice.leave();
    alice.awaitEnd();
    await().atMost(StreamProbe.WAIT).until(() -> registry().flush(Duration.ofSeconds(1)));

    registry().sweep();
    assertThat(registry().loadedRooms()).isZero();
    wp.connect("bob").join(roomId).awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.ROOM_CLOSED);
  }
}
