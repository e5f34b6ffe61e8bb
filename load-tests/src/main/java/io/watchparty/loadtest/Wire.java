package io.watchparty.loadtest;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.watchparty.proto.ByteArrayMarshaller;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.RoomServiceGrpc;
import java.io.IOException;

/**
 * The room stream as raw bytes, shared by the generator's viewers and the baseline server: the
 * baseline sends pre-serialized frames as they are, and a viewer reads only the two leading fields
 * of each {@code ServerMessage} (sequence and kind) instead of parsing it, so the generator's cost
 * per message stays far below the server's.
 */
final class Wire {
  /** {@code ServerMessage} field numbers of the kinds the load test looks at. */
  static final int SNAPSHOT = 2;

  /** Field 1 (sequence), varint: {@code 1 << 3 | 0}. */
  private static final int SEQUENCE_TAG = 8;

  static final int PLAYBACK_CHANGED = 3;
  static final int CHAT = 11;
  static final int REACTIONS = 13;

  /**
   * Frames kept serialized, the server's own marshaller: the baseline drains its pre-serialized
   * bytes into gRPC's buffer as the platform does, and viewers read each frame at its exact length.
   */
  static final MethodDescriptor.Marshaller<byte[]> BYTES = new ByteArrayMarshaller();

  /** {@code RoomService/Connect} with the server's messages left serialized. */
  static final MethodDescriptor<ClientMessage, byte[]> CONNECT =
      RoomServiceGrpc.getConnectMethod().toBuilder(
              ProtoUtils.marshaller(ClientMessage.getDefaultInstance()), BYTES)
          .build();

  private Wire() {}

  /**
   * The sequence (field 1) and kind (the oneof's field number) of a serialized {@code
   * ServerMessage}, packed as {@code sequence << 8 | kind}; protobuf writes fields in number order,
   * so both are at the front. Sequence 0 (not a room event) is absent on the wire.
   */
  static long header(byte[] frame) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(frame);
      int tag = in.readTag();
      long sequence = 0;
      if (tag == SEQUENCE_TAG) {
        sequence = in.readInt64();
        tag = in.readTag();
      }
      return sequence << 8 | (WireFormat.getTagFieldNumber(tag) & 0xff);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a ServerMessage: " + e.getMessage(), e);
    }
  }

  static long sequence(long header) {
    return header >>> 8;
  }

  static int kind(long header) {
    return (int) (header & 0xff);
  }
}
