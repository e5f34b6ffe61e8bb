package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The answer to a {@code SendChat} is written once Cassandra has the message, from the thread that
 * releases it into the room. That thread must be a platform thread: the transport keeps a
 * pooled-buffer cache per thread that serializes, and a virtual thread per reply built a new one
 * for every message.
 */
class ChatReplyThreadsIT {
  /** The threads that wrote SendChat replies to the transport. */
  private static final List<Thread> replyThreads = new CopyOnWriteArrayList<>();

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .chat(ChatSettings.DEFAULTS.withMessageRate(10_000, 10_000))
          .overLoopback()
          .intercept(new ReplyThreads())
          .build();

  @Test
  void sendChatRepliesAreWrittenFromPlatformThreads() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();

    for (int i = 1; i <= 20; i++) {
      ChatMessage stored =
          wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "t-" + i, "message " + i));
      assertThat(stored.getText()).isEqualTo("message " + i);
    }

    assertThat(replyThreads).hasSize(20);
    assertThat(replyThreads).noneMatch(Thread::isVirtual);
  }

  private static final class ReplyThreads implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      if (!call.getMethodDescriptor()
          .getFullMethodName()
          .equals(ChatServiceGrpc.getSendChatMethod().getFullMethodName())) {
        return next.startCall(call, headers);
      }
      return next.startCall(
          new SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
              replyThreads.add(Thread.currentThread());
              super.sendMessage(message);
            }
          },
          headers);
    }
  }
}
