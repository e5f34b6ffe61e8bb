package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.LeaveRoomRequest;
import io.watchparty.proto.v1.ListMyRoomsRequest;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** "Your parties": the open rooms a user hosts or joined and did not leave (ListMyRooms). */
class MyRoomsIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  private static List<String> myRooms(String userId) {
    return wp
        .as(userId)
        .listMyRooms(ListMyRoomsRequest.getDefaultInstance())
        .getRoomsList()
        .stream()
        .map(RoomInfo::getRoomId)
        .toList();
  }

  @Test
  void yourPartiesAreTheOnesYouHostOrJoinedAndDidNotLeave() {
    var mine = wp.createRoom("gabriela", Visibility.PRIVATE);
    String hosted = mine.getRoom().getRoomId();
    String joined = wp.createRoom("hiro", Visibility.PUBLIC).getRoom().getRoomId();
    String left = wp.createRoom("hiro", Visibility.PUBLIC).getRoom().getRoomId();
    String ended =
        wp.createRoom("hiro", Visibility.PUBLIC, HostLeavePolicy.END_ROOM).getRoom().getRoomId();
    StreamProbe inJoined = wp.connect("gabriela").join(joined);
    inJoined.snapshot();
    inJoined.disconnect(); // a dropped connection keeps the party
    wp.connect("gabriela").join(left).snapshot();
    wp.as("gabriela").leaveRoom(LeaveRoomRequest.newBuilder().setRoomId(left).build());
    wp.connect("gabriela").join(ended).snapshot();
    StreamProbe host = wp.connect("hiro").join(ended);
    host.snapshot();
    host.leave(); // the room ends with its host

    // Joins are written behind the room (room.proto): listed once Cassandra has them.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(myRooms("gabriela")).contains(hosted, joined));
    List<String> parties = myRooms("gabriela");
    assertThat(parties).doesNotContain(left, ended);
    assertThat(parties.indexOf(joined)).as("newest first").isLessThan(parties.indexOf(hosted));
    assertThat(myRooms("hiro")).contains(joined, left).doesNotContain(ended);
    var listed =
        wp.as("gabriela").listMyRooms(ListMyRoomsRequest.getDefaultInstance()).getRoomsList();
    assertThat(listed).allSatisfy(r -> assertThat(r.getCanWatch()).isTrue());
  }
}
