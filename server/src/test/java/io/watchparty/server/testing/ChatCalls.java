package io.watchparty.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatModeration;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.SendChatRequest;
import java.util.concurrent.atomic.AtomicInteger;

/** Chat as a test client does it: on a room stream ({@link StreamProbe}) or over ChatService. */
public final class ChatCalls {
  private static final AtomicInteger requestIds = new AtomicInteger();

  private ChatCalls() {}

  /** Sends a chat message on a stream; returns the request id its CommandResult will carry. */
  public static String send(StreamProbe probe, String clientMessageId, String text) {
    String requestId = "chat-" + requestIds.incrementAndGet();
    probe.send(
        ClientMessage.newBuilder()
            .setRequestId(requestId)
            .setSendChat(SendChat.newBuilder().setClientMessageId(clientMessageId).setText(text))
            .build());
    return requestId;
  }

  /** The message stored for a send, waiting for its result (room events before it are skipped). */
  public static ChatMessage stored(StreamProbe probe, String requestId) {
    CommandResult result = probe.resultOf(requestId);
    assertThat(result.hasChatStored()).as("result of %s: %s", requestId, result).isTrue();
    return result.getChatStored();
  }

  public static String react(StreamProbe probe, String emoji) {
    String requestId = "react-" + requestIds.incrementAndGet();
    probe.send(
        ClientMessage.newBuilder()
            .setRequestId(requestId)
            .setReact(React.newBuilder().setEmoji(emoji))
            .build());
    return requestId;
  }

  public static SendChatRequest request(String roomId, String clientMessageId, String text) {
    return SendChatRequest.newBuilder()
        .setRoomId(roomId)
        .setMessage(SendChat.newBuilder().setClientMessageId(clientMessageId).setText(text))
        .build();
  }

  public static Command delete(String messageId) {
    return moderation(ChatModeration.newBuilder().setDeleteMessageId(messageId));
  }

  public static Command mute(String userId, long durationMs) {
    return moderation(
        ChatModeration.newBuilder()
            .setMute(ChatModeration.Mute.newBuilder().setUserId(userId).setDurationMs(durationMs)));
  }

  public static Command unmute(String userId) {
    return moderation(ChatModeration.newBuilder().setUnmute(userId));
  }

  public static Command slowMode(long slowModeMs) {
    return moderation(ChatModeration.newBuilder().setSetSlowModeMs(slowModeMs));
  }

  private static Command moderation(ChatModeration.Builder command) {
    return Command.newBuilder().setChat(command).build();
  }

  // ---------------------------------------------------------------------------------------------
  // Requests the generated stubs cannot send: bytes that are not valid UTF-8 where a string goes.

  /** A unary SendChat with raw request bytes, as {@code userId}. */
  public static ChatMessage rawSendChat(TestServer wp, String userId, byte[] request) {
    return RawRequests.unary(authorized(wp, userId), ChatServiceGrpc.getSendChatMethod(), request);
  }

  /** A room stream whose client messages are raw bytes. */
  public static StreamObserver<byte[]> rawConnect(
      TestServer wp, String userId, StreamObserver<byte[]> responses) {
    return RawRequests.connect(authorized(wp, userId), responses);
  }

  private static Channel authorized(TestServer wp, String userId) {
    return ClientInterceptors.intercept(
        wp.channel(),
        MetadataUtils.newAttachHeadersInterceptor(TestServer.bearer(wp.token(userId))));
  }
}
