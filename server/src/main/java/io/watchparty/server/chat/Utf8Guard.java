package io.watchparty.server.chat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.RefusedException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Request parsing that survives invalid UTF-8.
 *
 * <p>Protobuf refuses a {@code string} field that is not valid UTF-8 while parsing, and gRPC then
 * ends the call with {@code UNKNOWN} ("Application error processing RPC") and logs the failure as
 * severe: on the room stream, one bad chat text would end the member's whole stream. With this
 * marshaller such a request is parsed without the offending fields, marked, and handed to the
 * service, which refuses just that request ({@link #requireValid}): {@code INVALID_ARGUMENT} with
 * {@code CHAT_TEXT_INVALID_UTF8} for a chat text, {@code MALFORMED_ID} for any other field. Bytes
 * that are not protobuf at all fail as before.
 */
public final class Utf8Guard {
  /**
   * The unknown field that marks a request parsed without some fields: their paths, comma
   * separated. The highest field number protobuf allows; no API message uses it.
   */
  private static final int MARKER = (1 << 29) - 1;

  /** Chat texts, as paths in a ClientMessage and in a SendChatRequest. */
  private static final Set<String> CHAT_TEXTS = Set.of("send_chat.text", "message.text");

  private Utf8Guard() {}

  /** Parses requests of {@code prototype}'s type, marking (not failing) those with bad UTF-8. */
  public static <T extends Message> MethodDescriptor.Marshaller<T> marshaller(T prototype) {
    MethodDescriptor.Marshaller<T> strict = ProtoUtils.marshaller(prototype);
    return new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(T value) {
        return strict.stream(value);
      }

      @Override
      public T parse(InputStream stream) {
        byte[] bytes;
        try {
          bytes = stream.readAllBytes();
        } catch (IOException e) {
          throw Status.INTERNAL
              .withDescription("cannot read the request")
              .withCause(e)
              .asRuntimeException();
        }
        try {
          @SuppressWarnings("unchecked")
          T parsed = (T) prototype.getParserForType().parseFrom(bytes);
          return parsed;
        } catch (InvalidProtocolBufferException strictFailure) {
          return tolerant(prototype, bytes, strictFailure);
        }
      }
    };
  }

  /** Refuses a request that arrived with fields that were not valid UTF-8. */
  public static void requireValid(Message request) {
    UnknownFieldSet.Field marker = request.getUnknownFields().getField(MARKER);
    if (marker.getLengthDelimitedList().isEmpty()) {
      return;
    }
    String fields = marker.getLengthDelimitedList().getFirst().toStringUtf8();
    boolean chatText = Arrays.stream(fields.split(",")).anyMatch(CHAT_TEXTS::contains);
    throw new RefusedException(
        chatText ? ErrorReason.CHAT_TEXT_INVALID_UTF8 : ErrorReason.MALFORMED_ID,
        "not valid UTF-8: " + fields,
        Map.of("field", fields));
  }

  private static <T extends Message> T tolerant(
      T prototype, byte[] bytes, InvalidProtocolBufferException strictFailure) {
    try {
      List<String> dropped = new ArrayList<>();
      UnknownFieldSet clean =
          withoutInvalidStrings(
              UnknownFieldSet.parseFrom(bytes), prototype.getDescriptorForType(), "", dropped);
      if (dropped.isEmpty()) {
        throw strictFailure;
      }
      @SuppressWarnings("unchecked")
      T parsed = (T) prototype.getParserForType().parseFrom(clean.toByteString());
      UnknownFieldSet marked =
          parsed.getUnknownFields().toBuilder()
              .addField(
                  MARKER,
                  UnknownFieldSet.Field.newBuilder()
                      .addLengthDelimited(ByteString.copyFromUtf8(String.join(",", dropped)))
                      .build())
              .build();
      @SuppressWarnings("unchecked")
      T result = (T) parsed.toBuilder().setUnknownFields(marked).build();
      return result;
    } catch (InvalidProtocolBufferException notProtobuf) {
      throw Status.INTERNAL
          .withDescription("Invalid protobuf byte sequence")
          .withCause(notProtobuf)
          .asRuntimeException();
    }
  }

  /** A copy of {@code fields} without the string fields that are not valid UTF-8, recursively. */
  private static UnknownFieldSet withoutInvalidStrings(
      UnknownFieldSet fields, Descriptor type, String prefix, List<String> dropped)
      throws InvalidProtocolBufferException {
    UnknownFieldSet.Builder clean = UnknownFieldSet.newBuilder();
    for (Map.Entry<Integer, UnknownFieldSet.Field> entry : fields.asMap().entrySet()) {
      FieldDescriptor field = type.findFieldByNumber(entry.getKey());
      UnknownFieldSet.Field value = entry.getValue();
      if (field == null
          || value.getLengthDelimitedList().isEmpty()
          || (field.getType() != FieldDescriptor.Type.STRING
              && field.getType() != FieldDescriptor.Type.MESSAGE)) {
        clean.addField(entry.getKey(), value);
        continue;
      }
      UnknownFieldSet.Field.Builder kept = UnknownFieldSet.Field.newBuilder();
      value.getVarintList().forEach(kept::addVarint);
      value.getFixed32List().forEach(kept::addFixed32);
      value.getFixed64List().forEach(kept::addFixed64);
      value.getGroupList().forEach(kept::addGroup);
      String path = prefix + field.getName();
      for (ByteString bytes : value.getLengthDelimitedList()) {
        if (field.getType() == FieldDescriptor.Type.MESSAGE) {
          kept.addLengthDelimited(
              withoutInvalidStrings(
                      UnknownFieldSet.parseFrom(bytes), field.getMessageType(), path + ".", dropped)
                  .toByteString());
        } else if (bytes.isValidUtf8()) {
          kept.addLengthDelimited(bytes);
        } else {
          dropped.add(path);
        }
      }
      clean.addField(entry.getKey(), kept.build());
    }
    return clean.build();
  }
}
