package io.watchparty.server.refusal;

import io.watchparty.proto.v1.ErrorReason;
import java.util.Map;
import java.util.Objects;

/**
 * A request the server refuses for a reason the caller can act on: a bad argument, a missing
 * permission, an unknown room. Domain code throws it; {@code rpc.ErrorMapper} is the one place that
 * turns it into a gRPC status with a {@code google.rpc.ErrorInfo} carrying {@link #reason()}.
 *
 * <p>The message is shown to the caller, so it names the bad value and never includes internals.
 */
public final class RefusedException extends RuntimeException {
  private final ErrorReason reason;
  private final Map<String, String> details;

  public RefusedException(ErrorReason reason, String message) {
    this(reason, message, Map.of());
  }

  public RefusedException(ErrorReason reason, String message, Map<String, String> details) {
    super(Objects.requireNonNull(message), null, false, false);
    this.reason = Objects.requireNonNull(reason);
    this.details = Map.copyOf(details);
  }

  public ErrorReason reason() {
    return reason;
  }

  /**
   * Values a program needs to act on the refusal, e.g. {@code retry_after_ms} or {@code room_id}.
   */
  public Map<String, String> details() {
    return details;
  }
}
