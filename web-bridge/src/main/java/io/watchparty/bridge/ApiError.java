package io.watchparty.bridge;

import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaTypes;
import io.helidon.http.Status;
import io.helidon.json.JsonObject;
import io.helidon.webserver.http.ServerResponse;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An error as a browser receives it: an HTTP status and the JSON body {@code {"error": "NOT_FOUND",
 * "message": "...", "metadata": {...}}}.
 *
 * @param status the HTTP status
 * @param error what a program branches on: the server's reason (e.g. {@code ROOM_NOT_FOUND}) when
 *     it gave one, else the category (e.g. {@code NOT_FOUND})
 * @param message one sentence for a person, never internals
 * @param metadata values a program needs to act, e.g. {@code retry_after_ms}; omitted when empty
 */
record ApiError(Status status, String error, String message, Map<String, String> metadata) {
  static final String RETRY_AFTER_MS = "retry_after_ms";

  ApiError {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(message, "message");
    metadata = Map.copyOf(metadata);
  }

  ApiError(Status status, String error, String message) {
    this(status, error, message, Map.of());
  }

  String toJson() {
    JsonObject.Builder body = JsonObject.builder().set("error", error).set("message", message);
    if (!metadata.isEmpty()) {
      JsonObject.Builder metadataObject = JsonObject.builder();
      // Sorted, so that the same error always has the same body.
      new TreeMap<>(metadata).forEach(metadataObject::set);
      body.set("metadata", metadataObject.build());
    }
    return body.build().toString();
  }

  /** Sends this error, with {@code Retry-After} when the server said when to retry. */
  void send(ServerResponse response) {
    response.status(status);
    response.headers().contentType(HttpMediaTypes.JSON_UTF_8);
    retryAfterSeconds()
        .ifPresent(seconds -> response.header(HeaderNames.RETRY_AFTER, Long.toString(seconds)));
    response.send(toJson());
  }

  private Optional<Long> retryAfterSeconds() {
    String millis = metadata.get(RETRY_AFTER_MS);
    if (millis == null) {
      return Optional.empty();
    }
    try {
      // Retry-After counts whole seconds; rounding down would invite a retry that is refused again.
      return Optional.of(Math.max(1, Math.ceilDiv(Long.parseLong(millis), 1000L)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
