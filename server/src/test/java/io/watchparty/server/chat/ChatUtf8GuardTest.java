package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.server.RefusedException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ChatUtf8GuardTest {
  /** "caf" followed by a lone continuation-less lead byte: not UTF-8. */
  static final ByteString INVALID = ByteString.copyFrom(new byte[] {'c', 'a', 'f', (byte) 0xC3});

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
    ClientMessage parsed = parse(clientMessageWithRawText("r7", INVALID));

    assertThat(parsed.getRequestId()).isEqualTo("r7");
    assertThat(parsed.getSendChat().getClientMessageId()).isEqualTo("m1");
    assertThat(parsed.getSendChat().getText()).isEmpty();
    RefusedException refused =
        catchThrowableOfType(RefusedException.class, () -> Utf8Guard.requireValid(parsed));
    assertThat(refused.reason()).isEqualTo(ErrorReason.CHAT_TEXT_INVALID_UTF8);
    assertThat(refused.details()).containsEntry("field", "send_chat.text");
  }

  @Test
  void invalidUtf8ElsewhereIsAMalformedField() throws IOException {
    var bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeBytes(1, INVALID); // request_id
    out.flush();
    ClientMessage parsed = parse(bytes.toByteArray());
    RefusedException refused =
        catchThrowableOfType(RefusedException.class, () -> Utf8Guard.requireValid(parsed));
    assertThat(refused.reason()).isEqualTo(ErrorReason.MALFORMED_ID);
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
  void bytesThatAreNotProtobufStillFail() {
    StatusRuntimeException failure =
        catchThrowableOfType(
            StatusRuntimeException.class, () -> parse(new byte[] {(byte) 0xFF, (byte) 0xFF}));
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
  }

  /** A ClientMessage whose send_chat.text holds arbitrary bytes. */
  static byte[] clientMessageWithRawText(String requestId, ByteString text) {
    try {
      var inner = new ByteArrayOutputStream();
      CodedOutputStream chat = CodedOutputStream.newInstance(inner);
      chat.writeString(1, "m1");
      chat.writeBytes(2, text);
      chat.flush();
      var outer = new ByteArrayOutputStream();
      CodedOutputStream message = CodedOutputStream.newInstance(outer);
      message.writeString(1, requestId);
      message.writeBytes(8, ByteString.copyFrom(inner.toByteArray()));
      message.flush();
      return outer.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static ClientMessage parse(byte[] bytes) {
    return Utf8Guard.marshaller(ClientMessage.getDefaultInstance())
        .parse(new ByteArrayInputStream(bytes));
  }
}
