package io.watchparty.server.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.ByteArrayMarshaller;
import io.watchparty.proto.v1.RoomServiceGrpc;

/** Requests the generated stubs cannot send: bytes that are not valid UTF-8 where a string goes. */
public final class RawRequests {
  /** "caf" followed by a lead byte without its continuation: not UTF-8. */
  public static final ByteString NOT_UTF8 =
      ByteString.copyFrom(new byte[] {'c', 'a', 'f', (byte) 0xC3});

  private RawRequests() {}

  /** A message written field by field, so that a string field may hold any bytes. */
  public static Fields fields() {
    return new Fields();
  }

  /** A ClientMessage whose send_chat.text holds arbitrary bytes. */
  public static byte[] clientMessageWithRawText(String requestId, ByteString text) {
    return fields()
        .string(1, requestId)
        .message(8, fields().string(1, "m1").bytes(2, text))
        .toByteArray();
  }

  /** One unary call of {@code method} with raw request bytes. */
  public static <R> R unary(Channel channel, MethodDescriptor<?, R> method, byte[] request) {
    return ClientCalls.blockingUnaryCall(
        channel,
        method.toBuilder(new ByteArrayMarshaller(), method.getResponseMarshaller()).build(),
        CallOptions.DEFAULT,
        request);
  }

  /** A room stream whose client messages and server messages are raw bytes. */
  public static StreamObserver<byte[]> connect(Channel channel, StreamObserver<byte[]> responses) {
    MethodDescriptor<byte[], byte[]> method =
        RoomServiceGrpc.getConnectMethod().toBuilder(
                new ByteArrayMarshaller(), new ByteArrayMarshaller())
            .build();
    return ClientCalls.asyncBidiStreamingCall(
        channel.newCall(method, CallOptions.DEFAULT), responses);
  }

  /** Protobuf wire format built from numbered fields. */
  public static final class Fields {
    private final UnknownFieldSet.Builder fields = UnknownFieldSet.newBuilder();

    private Fields() {}

    public Fields string(int number, String value) {
      return bytes(number, ByteString.copyFromUtf8(value));
    }

    public Fields bytes(int number, ByteString value) {
      fields.mergeField(
          number, UnknownFieldSet.Field.newBuilder().addLengthDelimited(value).build());
      return this;
    }

    public Fields message(int number, Fields message) {
      return bytes(number, message.fields.build().toByteString());
    }

    public byte[] toByteArray() {
      return fields.build().toByteArray();
    }
  }
}
