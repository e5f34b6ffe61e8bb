package io.watchparty.server.rpc;

import static io.watchparty.server.testing.RawRequests.NOT_UTF8;
import static io.watchparty.server.testing.RawRequests.fields;
import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Status.Code;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.CatalogAdminServiceGrpc;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.RawRequests;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A string field that is not UTF-8, in a request of any service, is refused with INVALID_ARGUMENT
 * and a reason naming the field, and the server goes on serving.
 */
class InvalidUtf8IT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  private static Channel as(String userId) {
    return ClientInterceptors.intercept(
        wp.channel(),
        MetadataUtils.newAttachHeadersInterceptor(TestServer.bearer(wp.token(userId))));
  }

  @Test
  void createRoomWithANameThatIsNotUtf8IsRefusedAndTheServerServesOn() {
    byte[] request = fields().string(1, "big-buck-bunny").bytes(2, NOT_UTF8).toByteArray();

    ErrorInfo info =
        assertRefused(
            () -> RawRequests.unary(as("alice"), RoomServiceGrpc.getCreateRoomMethod(), request),
            Code.INVALID_ARGUMENT,
            ErrorReason.INVALID_UTF8);

    assertThat(info.getMetadataMap()).containsEntry("field", "name");
    assertThat(wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId()).isNotEmpty();
  }

  @Test
  void sendChatToARoomIdThatIsNotUtf8IsRefused() {
    byte[] request =
        fields()
            .bytes(1, NOT_UTF8)
            .message(2, fields().string(1, "m1").string(2, "hello"))
            .toByteArray();

    ErrorInfo info =
        assertRefused(
            () -> RawRequests.unary(as("bob"), ChatServiceGrpc.getSendChatMethod(), request),
            Code.INVALID_ARGUMENT,
            ErrorReason.INVALID_UTF8);

    assertThat(info.getMetadataMap()).containsEntry("field", "room_id");
  }

  @Test
  void joinWhoseRoomIdIsNotUtf8EndsTheStreamRefused() {
    byte[] join = fields().string(1, "j-1").message(2, fields().bytes(1, NOT_UTF8)).toByteArray();

    ErrorInfo info = refusalOfJoin("bob", join, ErrorReason.INVALID_UTF8);

    assertThat(info.getMetadataMap()).containsEntry("field", "join.room_id");
  }

  @Test
  void joinWhoseInviteTokenIsNotUtf8EndsTheStreamRefusedAndTheRealTokenStillWorks() {
    CreateRoomResponse room = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = room.getRoom().getRoomId();
    byte[] join =
        fields()
            .string(1, "j-1")
            .message(2, fields().string(1, roomId).bytes(2, NOT_UTF8))
            .toByteArray();

    ErrorInfo info = refusalOfJoin("bob", join, ErrorReason.INVALID_UTF8);

    assertThat(info.getMetadataMap()).containsEntry("field", "join.invite_token");
    assertThat(
            wp.connect("bob").join(roomId, room.getInviteToken()).snapshot().getRoom().getRoomId())
        .isEqualTo(roomId);
  }

  @Test
  void requestBytesThatAreNoMessageOfTheirTypeAreRefusedAsMalformed() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0x01};

    assertRefused(
        () -> RawRequests.unary(as("bob"), RoomServiceGrpc.getGetRoomMethod(), garbage),
        Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_MESSAGE);
    assertRefused(
        () -> RawRequests.unary(wp.channel(), HealthGrpc.getCheckMethod(), garbage),
        Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_MESSAGE);
    assertThat(wp.as("bob").getServerTime(ClockPing.newBuilder().setClientSendTimeMs(9).build()))
        .satisfies(pong -> assertThat(pong.getClientSendTimeMs()).isEqualTo(9));
  }

  @Test
  void everyServiceRefusesAStringThatIsNotUtf8() {
    byte[] firstFieldNotUtf8 = fields().bytes(1, NOT_UTF8).toByteArray();

    assertRefused(
        () -> RawRequests.unary(as("bob"), RoomServiceGrpc.getGetRoomMethod(), firstFieldNotUtf8),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_UTF8);
    assertRefused(
        () ->
            RawRequests.unary(
                as("bob"), ChatServiceGrpc.getListChatHistoryMethod(), firstFieldNotUtf8),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_UTF8);
    assertRefused(
        () ->
            RawRequests.unary(as("bob"), CatalogServiceGrpc.getGetTitleMethod(), firstFieldNotUtf8),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_UTF8);
    assertRefused(
        () ->
            RawRequests.unary(
                as("bob"), CatalogAdminServiceGrpc.getGetAvailabilityMethod(), firstFieldNotUtf8),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_UTF8);
    assertRefused(
        () ->
            RawRequests.unary(
                wp.channel(), DemoAuthServiceGrpc.getIssueDemoTokenMethod(), firstFieldNotUtf8),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_UTF8);
    assertRefused(
        () -> RawRequests.unary(wp.channel(), HealthGrpc.getCheckMethod(), firstFieldNotUtf8),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_UTF8);
    assertThat(wp.as("bob").getServerTime(ClockPing.newBuilder().setClientSendTimeMs(7).build()))
        .satisfies(pong -> assertThat(pong.getClientSendTimeMs()).isEqualTo(7));
  }

  /** Opens a room stream, sends one raw join, and returns the refusal the stream ends with. */
  private static ErrorInfo refusalOfJoin(String userId, byte[] join, ErrorReason reason) {
    var end = new CompletableFuture<Throwable>();
    StreamObserver<byte[]> stream =
        RawRequests.connect(
            as(userId),
            new StreamObserver<>() {
              @Override
              public void onNext(byte[] frame) {}

              @Override
              public void onError(Throwable failure) {
                end.complete(failure);
              }

              @Override
              public void onCompleted() {
                end.completeExceptionally(new AssertionError("the stream ended without refusal"));
              }
            });
    stream.onNext(join);
    return assertRefused(
        () -> {
          throw end.get(StreamProbe.WAIT.toSeconds(), TimeUnit.SECONDS);
        },
        Code.INVALID_ARGUMENT,
        reason);
  }
}
