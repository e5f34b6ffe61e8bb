package io.watchparty.bridge;

import io.helidon.http.Status;
import java.util.Map;

/**
 * A request the bridge itself refuses, with the error a browser receives (see {@link HttpErrors}).
 */
final class ApiException extends RuntimeException {
  private final transient ApiError error;

  ApiException(Status status, String reason, String message) {
    this(new ApiError(status, reason, message, Map.of()));
  }

  ApiException(ApiError error) {
    super(error.error() + ": " + error.message(), null, false, false);
    this.error = error;
  }

  ApiError error() {
    return error;
  }
}
