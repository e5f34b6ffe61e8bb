package io.watchparty.server.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.watchparty.proto.ByteArrayMarshaller;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Request parsing that survives invalid UTF-8, for every service.
 *
 * <p>Protobuf refuses a {@code string} field that is not valid UTF-8 while parsing, and gRPC then
 * ends the call with {@code UNKNOWN} ("Application error processing RPC") and logs the failure as
 * severe: the parse happens before any interceptor or service sees the request. With {@link
 * #marshaller} such a request is parsed without the offending fields, marked, and handed on; {@link
 * #requireValid} refuses a marked request with {@code INVALID_ARGUMENT} and {@code
 * CHAT_TEXT_INVALID_UTF8} for a chat text, {@code INVALID_UTF8} for any other field. Bytes that are
 * not a message of the request's type at all are marked the same way and refused with {@code
 * INVALID_ARGUMENT} and {@code MALFORMED_MESSAGE}: gRPC would answer them {@code UNKNOWN} and log
 * each as an error.
 *
 * <p>{@link #guard} applies this to all the methods of a service: a marked request ends its call
 * (for a stream, the whole stream) with the refusal. A method whose request marshaller already is
 * {@link #marshaller} (the room stream) is left alone: its service refuses marked messages one by
 * one and the stream goes on.
 */
public final class Utf8Guard {
  /**
   * The unknown field that marks a request parsed without some fields: their paths, comma
   * separated. The highest field number protobuf allows; no API message uses it.
   */
  private static final int MARKER = (1 << 29) - 1;

  /** The unknown field that marks a request whose bytes were not a message of its type. */
  private static final int MALFORMED = MARKER - 1;

  /** Reads a request's bytes at their announced length, as the room stream's frames are. */
  private static final ByteArrayMarshaller BYTES = new ByteArrayMarshaller();

  /** Chat texts, as the request type's full name and the path of the field in it. */
  private static final Set<String> CHAT_TEXTS =
      Set.of(
          "watchparty.v1.ClientMessage.send_chat.text",
          "watchparty.v1.SendChatRequest.message.text");

  private Utf8Guard() {}

  /**
   * {@code service} with every protobuf request parsed by {@link #marshaller} and refused, ending
   * the call, if it was marked; methods already parsing with {@link #marshaller} are kept as they
   * are.
   */
  public static ServerServiceDefinition guard(ServerServiceDefinition service) {
    List<ServerMethodDefinition<?, ?>> methods =
        service.getMethods().stream()
            .<ServerMethodDefinition<?, ?>>map(Utf8Guard::guarded)
            .toList();
    // A service definition must list the very descriptors its methods are bound with.
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(service.getServiceDescriptor().getName())
            .setSchemaDescriptor(service.getServiceDescriptor().getSchemaDescriptor());
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder guarded = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(guarded::addMethod);
    return guarded.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> guarded(ServerMethodDefinition<Q, R> method) {
    MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
    if (descriptor.getRequestMarshaller() instanceof Tolerant<?>
        || !(descriptor.getRequestMarshaller()
            instanceof MethodDescriptor.PrototypeMarshaller<Q> strict)
        || !(strict.getMessagePrototype() instanceof Message prototype)) {
      return method;
    }
    @SuppressWarnings("unchecked")
    MethodDescriptor.Marshaller<Q> tolerant =
        (MethodDescriptor.Marshaller<Q>) (MethodDescriptor.Marshaller<?>) marshaller(prototype);
    ServerCallHandler<Q, R> handler = method.getServerCallHandler();
    return ServerMethodDefinition.create(
        descriptor.toBuilder(tolerant, descriptor.getResponseMarshaller()).build(),
        (call, headers) ->
            new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                handler.startCall(call, headers)) {
              @Override
              public void onMessage(Q message) {
                requireValid((Message) message);
                super.onMessage(message);
              }
            });
  }

  /** Parses requests of {@code prototype}'s type, marking (not failing) those with bad UTF-8. */
  public static <T extends Message> MethodDescriptor.Marshaller<T> marshaller(T prototype) {
    return new Tolerant<>(prototype);
  }

  private static final class Tolerant<T extends Message>
      implements MethodDescriptor.PrototypeMarshaller<T> {
    private final T prototype;
    private final MethodDescriptor.Marshaller<T> strict;

    Tolerant(T prototype) {
      this.prototype = prototype;
      this.strict = ProtoUtils.marshaller(prototype);
    }

    @Override
    public T getMessagePrototype() {
      return prototype;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Class<T> getMessageClass() {
      return (Class<T>) prototype.getClass();
    }

    @Override
    public InputStream stream(T value) {
      return strict.stream(value);
    }

    @Override
    public T parse(InputStream stream) {
      byte[] bytes;
      try {
        bytes = BYTES.parse(stream);
      } catch (UncheckedIOException e) {
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
  }

  /** Refuses a request that arrived with fields that were not valid UTF-8. */
  public static void requireValid(Message request) {
    if (request.getUnknownFields().hasField(MALFORMED)) {
      throw new RefusedException(
          ErrorReason.MALFORMED_MESSAGE,
          "the request is not a " + request.getDescriptorForType().getName() + " message");
    }
    UnknownFieldSet.Field marker = request.getUnknownFields().getField(MARKER);
    if (marker.getLengthDelimitedList().isEmpty()) {
      return;
    }
    String fields = marker.getLengthDelimitedList().getFirst().toStringUtf8();
    String type = request.getDescriptorForType().getFullName();
    boolean chatText =
        Arrays.stream(fields.split(",")).anyMatch(path -> CHAT_TEXTS.contains(type + "." + path));
    throw new RefusedException(
        chatText ? ErrorReason.CHAT_TEXT_INVALID_UTF8 : ErrorReason.INVALID_UTF8,
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
      @SuppressWarnings("unchecked")
      T malformed =
          (T)
              prototype.toBuilder()
                  .setUnknownFields(
                      UnknownFieldSet.newBuilder()
                          .addField(
                              MALFORMED, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                          .build())
                  .build();
      return malformed;
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
