package io.watchparty.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Why the server refused something: the gRPC status code, the machine-readable reason from the
 * status's {@code google.rpc.ErrorInfo} (a name of {@code watchparty.v1.ErrorReason}, e.g. {@code
 * "TITLE_NOT_AVAILABLE_IN_REGION"}, or a library reason such as {@code "CONNECTION_LOST"}), the
 * server's human-readable message, and the ErrorInfo metadata. Immutable: safe from any thread.
 *
 * @param code the gRPC status code
 * @param reason the machine-readable reason; empty when the status carried none
 * @param message the human-readable description
 * @param metadata the ErrorInfo metadata (room id, region, retry delay, ...)
 */
public record Refusal(
    Status.Code code, String reason, String message, Map<String, String> metadata) {
  /** Reasons that are worth another attempt: the stream did not end because of a rule. */
  private static final Set<String> TRANSIENT = Set.of("STORAGE_UNAVAILABLE", "RATE_LIMITED");

  /** Validates and copies the parts; none may be null. */
  public Refusal {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
    metadata = Map.copyOf(metadata);
  }

  /** A one-line description: the reason (or code) and the message. */
  @Override
  public String toString() {
    return (reason.isEmpty() ? code.name() : reason) + ": " + message;
  }

  static Refusal of(Throwable failure) {
    Status status = Status.fromThrowable(failure);
    com.google.rpc.Status details = StatusProto.fromThrowable(failure);
    return of(
        status.getCode(),
        status.getDescription() == null ? "" : status.getDescription(),
        details == null ? com.google.rpc.Status.getDefaultInstance() : details);
  }

  /** A refusal carried in a CommandResult (the same code and ErrorInfo as a unary call's). */
  static Refusal of(com.google.rpc.Status status) {
    return of(Status.fromCodeValue(status.getCode()).getCode(), status.getMessage(), status);
  }

  private static Refusal of(Status.Code code, String message, com.google.rpc.Status details) {
    for (var any : details.getDetailsList()) {
      if (any.is(ErrorInfo.class)) {
        try {
          ErrorInfo info = any.unpack(ErrorInfo.class);
          return new Refusal(code, info.getReason(), message, info.getMetadataMap());
        } catch (InvalidProtocolBufferException e) {
          break; // a garbled detail says nothing more than the code
        }
      }
    }
    return new Refusal(code, "", message, Map.of());
  }

  static Refusal local(String reason, String message) {
    return new Refusal(Status.Code.UNAVAILABLE, reason, message, Map.of());
  }

  /** Whether the room moved to another server instance of a fleet ({@code ROOM_MOVED}). */
  boolean isMove() {
    return reason.equals("ROOM_MOVED");
  }

  /**
   * Whether this ends a room stream for good: the server named a rule (kicked, banned, room closed,
   * not available in the region, ...). A bare transport failure, or a transient reason, is not.
   */
  boolean endsMembership() {
    return !reason.isEmpty() && code != Status.Code.UNAVAILABLE && !TRANSIENT.contains(reason);
  }
}
