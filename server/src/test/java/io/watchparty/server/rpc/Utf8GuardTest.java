package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.testing.CapturedLog;
import io.watchparty.server.testing.RawRequests;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class Utf8GuardTest {
  private static final ByteString INVALID = RawRequests.NOT_UTF8;

  @Test
  void validMessagesParseAsUsual() {
    ClientMessage message =
        ClientMessage.newBuilder()
            .setRequestId("r1")
            .setSendChat(SendChat.newBuilder().setClientMessageId("m1").setText("héllo 👋"))
            .build();
    ClientMessage parsed = parse(message.toByteArray());
    assertThat(parsed).isEqualTo(message);
    Utf8Guard.requireValid(parsed);
  }

  @Test
  void invalidChatTextIsDroppedAndMarkedNotFatal() {
    ClientMessage parsed = parse(RawRequests.clientMessageWithRawText("r7", INVALID));

    assertThat(parsed.getRequestId()).isEqualTo("r7");
    assertThat(parsed.getSendChat().getClientMessageId()).isEqualTo("m1");
    assertThat(parsed.getSendChat().getText()).isEmpty();
    RefusedException refused =
        catchThrowableOfType(RefusedException.class, () -> Utf8Guard.requireValid(parsed));
    assertThat(refused.reason()).isEqualTo(ErrorReason.CHAT_TEXT_INVALID_UTF8);
    assertThat(refused.details()).containsEntry("field", "send_chat.text");
  }

  @Test
  void invalidUtf8ElsewhereIsInvalidUtf8() throws IOException {
    var bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeBytes(1, INVALID); // request_id
    out.flush();
    ClientMessage parsed = parse(bytes.toByteArray());
    RefusedException refused =
        catchThrowableOfType(RefusedException.class, () -> Utf8Guard.requireValid(parsed));
    assertThat(refused.reason()).isEqualTo(ErrorReason.INVALID_UTF8);
    assertThat(refused.details()).containsEntry("field", "request_id");
  }

  @Test
  void sendChatRequestsAreGuardedToo() throws IOException {
    var inner = new ByteArrayOutputStream();
    CodedOutputStream chat = CodedOutputStream.newInstance(inner);
    chat.writeString(1, "m1");
    chat.writeBytes(2, INVALID);
    chat.flush();
    var outer = new ByteArrayOutputStream();
    CodedOutputStream request = CodedOutputStream.newInstance(outer);
    request.writeString(1, "room");
    request.writeBytes(2, ByteString.copyFrom(inner.toByteArray()));
    request.flush();

    SendChatRequest parsed =
        Utf8Guard.marshaller(SendChatRequest.getDefaultInstance())
            .parse(new ByteArrayInputStream(outer.toByteArray()));
    assertThat(parsed.getRoomId()).isEqualTo("room");
    RefusedException refused =
        catchThrowableOfType(RefusedException.class, () -> Utf8Guard.requireValid(parsed));
    assertThat(refused.reason()).isEqualTo(ErrorReason.CHAT_TEXT_INVALID_UTF8);
  }

  @Test
  void guardedServiceRefusesARequestWithInvalidUtf8AndServesTheNextOne() throws IOException {
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .intercept(new ErrorInterceptor(new ErrorMapper(List.of())))
            .addService(Utf8Guard.guard(new HealthStatusManager().getHealthService().bindService()))
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try (var log = CapturedLog.of(ErrorMapper.class)) {
      byte[] badServiceName = RawRequests.fields().bytes(1, INVALID).toByteArray();

      var info =
          assertRefused(
              () -> RawRequests.unary(channel, HealthGrpc.getCheckMethod(), badServiceName),
              Status.Code.INVALID_ARGUMENT,
              ErrorReason.INVALID_UTF8);

      assertThat(info.getMetadataMap()).containsEntry("field", "service");
      assertThat(
              HealthGrpc.newBlockingStub(channel)
                  .check(HealthCheckRequest.getDefaultInstance())
                  .getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(log.at(ch.qos.logback.classic.Level.ERROR)).isEmpty();
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  /**
   * Bytes that are no message of the type are marked and refused as MALFORMED_MESSAGE, which the
   * services answer as INVALID_ARGUMENT; a failed parse made gRPC answer UNKNOWN and log an error.
   */
  @Test
  void bytesThatAreNotProtobufAreRefusedAsAMalformedMessage() {
    ClientMessage parsed = parse(new byte[] {(byte) 0xFF, (byte) 0xFF});

    RefusedException refused =
        catchThrowableOfType(RefusedException.class, () -> Utf8Guard.requireValid(parsed));
    assertThat(refused.reason()).isEqualTo(ErrorReason.MALFORMED_MESSAGE);
    assertThat(refused).hasMessage("the request is not a ClientMessage message");
  }

  private static ClientMessage parse(byte[] bytes) {
    return Utf8Guard.marshaller(ClientMessage.getDefaultInstance())
        .parse(new ByteArrayInputStream(bytes));
  }
}
