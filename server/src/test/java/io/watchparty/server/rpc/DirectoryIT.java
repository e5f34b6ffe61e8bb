package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.grpc.Status.Code;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.ListPublicRoomsResponse;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The public directory: open public rooms only, busiest first, page by page. */
class DirectoryIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  @Test
  void listsOpenPublicRoomsBusiestFirstPageByPage() {
    String quiet = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    String busy = wp.createRoom("bob", Visibility.PUBLIC).getRoom().getRoomId();
    String small = wp.createRoom("chiara", Visibility.PUBLIC).getRoom().getRoomId();
    var hidden = wp.createRoom("alice", Visibility.PRIVATE);
    String ended =
        wp.createRoom("emma", Visibility.PUBLIC, HostLeavePolicy.END_ROOM).getRoom().getRoomId();
    for (String user : new String[] {"bob", "chiara", "emma"}) {
      wp.connect(user).join(busy).snapshot();
    }
    wp.connect("farid").join(small).snapshot();
    for (String user : new String[] {"alice", "bob", "chiara", "emma"}) {
      wp.connect(user).join(hidden.getRoom().getRoomId(), hidden.getInviteToken()).snapshot();
    }
    StreamProbe leaving = wp.connect("emma").join(ended);
    leaving.snapshot();
    leaving.leave();
    leaving.awaitEnd();

    ListPublicRoomsResponse all = list(0, "");
    assertThat(all.getRoomsList())
        .extracting(RoomInfo::getRoomId, RoomInfo::getMemberCount)
        .containsExactly(tuple(busy, 3L), tuple(small, 1L), tuple(quiet, 0L));
    assertThat(all.getNextPageToken()).isEmpty();
    assertThat(all.getRoomsList().getFirst().getHostUserId()).isEqualTo("bob");

    ListPublicRoomsResponse first = list(2, "");
    assertThat(first.getRoomsList()).extracting(RoomInfo::getRoomId).containsExactly(busy, small);
    assertThat(first.getNextPageToken()).isNotEmpty();
    ListPublicRoomsResponse second = list(2, first.getNextPageToken());
    assertThat(second.getRoomsList()).extracting(RoomInfo::getRoomId).containsExactly(quiet);
    assertThat(second.getNextPageToken()).isEmpty();

    List<String> walked = new ArrayList<>();
    String token = "";
    do {
      ListPublicRoomsResponse page = list(1, token);
      assertThat(page.getRoomsList()).hasSize(1);
      walked.add(page.getRooms(0).getRoomId());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(walked).containsExactly(busy, small, quiet);
  }

  @Test
  void pageSizeOutOfRangeAndForeignPageTokensAreRefused() {
    for (int size : new int[] {-1, 101, Integer.MAX_VALUE}) {
      assertRefused(
          () -> list(size, ""), Code.INVALID_ARGUMENT, ErrorReason.PAGE_SIZE_OUT_OF_RANGE);
    }
    String negative =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(ByteBuffer.allocate(4).putInt(-1).array());
    for (String token : new String[] {"!!!", "AAAA", negative, "a page"}) {
      assertRefused(() -> list(10, token), Code.INVALID_ARGUMENT, ErrorReason.INVALID_PAGE_TOKEN);
    }
    assertThat(list(100, "").getRoomsList()).hasSizeLessThanOrEqualTo(100);
  }

  private static ListPublicRoomsResponse list(int pageSize, String pageToken) {
    return wp.as("hiro")
        .listPublicRooms(
            ListPublicRoomsRequest.newBuilder()
                .setPageSize(pageSize)
                .setPageToken(pageToken)
                .build());
  }
}
