package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.TestServer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A field far larger than any valid value is refused on its own call, with a short echo of what was
 * sent, over a real HTTP/2 connection that goes on serving the caller's other calls: a refusal that
 * quoted the whole value made trailers no client accepts, and the connection stopped answering.
 */
class OversizedFieldsIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().overLoopback().build();

  private static final String HUGE = "a".repeat(65_536);

  private final ManagedChannel channel = wp.newChannel();

  @AfterEach
  void closeChannel() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private RoomServiceGrpc.RoomServiceBlockingStub rooms(String userId) {
    return TestServer.withToken(RoomServiceGrpc.newBlockingStub(channel), wp.token(userId))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static CreateRoomRequest room(String titleId, String name) {
    return CreateRoomRequest.newBuilder()
        .setTitleId(titleId)
        .setName(name)
        .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
        .build();
  }

  @Test
  void aHugeRoomIdIsRefusedWithAShortEchoAndTheConnectionServesOn() {
    ErrorInfo info =
        assertRefused(
            () -> rooms("bob").getRoom(GetRoomRequest.newBuilder().setRoomId(HUGE).build()),
            Code.INVALID_ARGUMENT,
            ErrorReason.MALFORMED_ID);

    info.getMetadataMap().values().forEach(value -> assertThat(value).hasSizeLessThan(200));
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    assertThat(
            rooms("bob").getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build()).getRoomId())
        .isEqualTo(roomId);
  }

  @Test
  void aRefusalQuotesAtMostTheStartOfAHugeValue() {
    StatusRuntimeException refused =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            StatusRuntimeException.class, () -> rooms("alice").createRoom(room(HUGE, "x")));

    assertThat(refused.getStatus().getCode()).isEqualTo(Code.INVALID_ARGUMENT);
    assertThat(refused.getStatus().getDescription())
        .startsWith("title id 'aaaa")
        .contains("(65536 characters)")
        .hasSizeLessThan(200);
    assertThat(rooms("alice").createRoom(room("sintel", "after")).getRoom().getName())
        .isEqualTo("after");
  }
}
