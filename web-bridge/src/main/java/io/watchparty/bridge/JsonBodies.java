package io.watchparty.bridge;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.HttpMediaTypes;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * JSON in and out of the browser API, in the proto3 JSON mapping of the {@code watchparty.v1}
 * messages: bodies are parsed strictly (a field the message does not have is refused, not ignored),
 * at most {@link #MAX_BODY} bytes, and only as {@code application/json}.
 */
final class JsonBodies {
  /** The largest body a browser may send: a chat message of 500 characters fits many times. */
  static final int MAX_BODY = 16 * 1024;

  /**
   * The largest body the server reads at all, to skip it ({@link UnreadBodies}); a larger declared
   * length is refused before routing, with 413 and the connection closed.
   */
  static final long MAX_PAYLOAD = 4L * MAX_BODY;

  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace().alwaysPrintFieldsWithNoPresence();
  private static final Pattern UNKNOWN_FIELD = Pattern.compile("Cannot find field: (\\S+)");

  private JsonBodies() {}

  /**
   * The body parsed into {@code builder}'s message; an empty body is the empty message. The body
   * must be strict JSON (protobuf's parser alone takes unquoted names and single quotes) and UTF-8,
   * and no string in it may hold half of a surrogate pair ({@code "\ud800"}): a text is never
   * stored altered.
   */
  @SuppressWarnings("unchecked")
  static <T extends Message> T read(ServerRequest req, Message.Builder builder) {
    String body = text(req);
    if (!body.isBlank()) {
      requireStrictJson(body);
      try {
        PARSER.merge(body, builder);
      } catch (InvalidProtocolBufferException e) {
        throw malformed(e);
      }
      requireWellFormedStrings(builder, "");
    }
    return (T) builder.build();
  }

  private static void requireStrictJson(String body) {
    try (JsonReader reader = new JsonReader(new StringReader(body))) {
      reader.setStrictness(Strictness.STRICT);
      reader.skipValue();
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw notJson();
      }
    } catch (IOException | IllegalStateException notStrictJson) {
      throw notJson();
    }
  }

  /** Refuses a string field, at any depth, that holds an unpaired surrogate. */
  private static void requireWellFormedStrings(MessageOrBuilder message, String path) {
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      String name = path + field.getKey().getJsonName();
      Object value = field.getValue();
      for (Object element : value instanceof List<?> list ? list : List.of(value)) {
        // The JDK's UTF-8 encoder cannot encode half of a surrogate pair.
        if (element instanceof String text
            && !StandardCharsets.UTF_8.newEncoder().canEncode(text)) {
          throw new ApiException(
              new ApiError(
                  Status.BAD_REQUEST_400,
                  "INVALID_UTF8",
                  "'" + name + "' holds text that is not valid Unicode.",
                  Map.of("field", name)));
        }
        if (element instanceof MessageOrBuilder nested) {
          requireWellFormedStrings(nested, name + ".");
        }
      }
    }
  }

  private static ApiException notJson() {
    return new ApiException(
        Status.BAD_REQUEST_400, "MALFORMED_JSON", "The body is not JSON (RFC 8259).");
  }

  /** A body that is a JSON object of string fields from {@code allowed}; the bridge's own forms. */
  static Map<String, String> readFields(ServerRequest req, Set<String> allowed) {
    Struct.Builder struct = Struct.newBuilder();
    read(req, struct);
    Map<String, String> fields = new HashMap<>();
    for (Map.Entry<String, Value> field : struct.getFieldsMap().entrySet()) {
      if (!allowed.contains(field.getKey())) {
        throw unknownField(field.getKey());
      }
      if (field.getValue().getKindCase() != Value.KindCase.STRING_VALUE) {
        throw new ApiException(
            Status.BAD_REQUEST_400, "MALFORMED_JSON", "'" + field.getKey() + "' must be a string.");
      }
      fields.put(field.getKey(), field.getValue().getStringValue());
    }
    return fields;
  }

  /** Sends {@code message} as JSON with status 200. */
  static void send(ServerResponse res, MessageOrBuilder message) {
    res.headers().contentType(HttpMediaTypes.JSON_UTF_8);
    res.header(HeaderNames.CACHE_CONTROL, "no-store");
    res.send(print(message));
  }

  static String print(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a message that cannot be printed as JSON", e);
    }
  }

  private static String text(ServerRequest req) {
    long declared = req.headers().contentLength().orElse(-1);
    if (declared > MAX_BODY) {
      throw tooLarge();
    }
    if (declared == 0 || !req.content().hasEntity()) {
      return "";
    }
    boolean json =
        req.headers()
            .contentType()
            .map(HttpMediaType::mediaType)
            .filter(type -> type.type().equals("application") && type.subtype().equals("json"))
            .isPresent();
    if (!json) {
      throw new ApiException(
          Status.UNSUPPORTED_MEDIA_TYPE_415,
          "UNSUPPORTED_MEDIA_TYPE",
          "Send the body as application/json.");
    }
    byte[] bytes;
    try (InputStream in = req.content().inputStream()) {
      bytes = in.readNBytes(MAX_BODY + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (bytes.length > MAX_BODY) {
      throw tooLarge();
    }
    try {
      // Strict: bytes that are not UTF-8 are refused, not replaced with U+FFFD.
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ApiException(
          Status.BAD_REQUEST_400, "INVALID_UTF8", "The body is not valid UTF-8.");
    }
  }

  private static ApiException tooLarge() {
    return new ApiException(
        Status.REQUEST_ENTITY_TOO_LARGE_413,
        "BODY_TOO_LARGE",
        "The body is larger than " + MAX_BODY + " bytes.");
  }

  private static ApiException malformed(InvalidProtocolBufferException e) {
    Matcher unknown = UNKNOWN_FIELD.matcher(String.valueOf(e.getMessage()));
    if (unknown.find()) {
      return unknownField(unknown.group(1));
    }
    return new ApiException(
        Status.BAD_REQUEST_400,
        "MALFORMED_JSON",
        "The body is not JSON of the shape this endpoint takes.");
  }

  static ApiException unknownField(String name) {
    return new ApiException(
        Status.BAD_REQUEST_400,
        "UNKNOWN_FIELD",
        "The body has a field this endpoint does not take: '" + name + "'.");
  }
}
