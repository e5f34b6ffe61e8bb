package io.watchparty.server.rpc;

import com.datastax.oss.driver.api.core.DriverException;
import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.RefusedException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses. A {@link RefusedException} keeps its message
 * and gets the status code of its reason plus a {@code google.rpc.ErrorInfo}; anything else is a
 * bug or an outage and is logged here, never shown to the caller beyond a generic sentence.
 */
public final class ErrorMapper {
  /** The {@code ErrorInfo.domain} of every WatchParty error. */
  public static final String DOMAIN = "watchparty.io";

  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

  private ErrorMapper() {}

  /** The status a failure is reported with, as a {@code google.rpc.Status} with details. */
  public static com.google.rpc.Status toRpcStatus(Throwable failure) {
    while ((failure instanceof CompletionException || failure instanceof ExecutionException)
        && failure.getCause() != null) {
      failure = failure.getCause();
    }
    if (failure instanceof DriverException storageFailure) {
      log.warn("Storage failure while serving a call: {}", storageFailure.toString());
      failure =
          new RefusedException(
              ErrorReason.STORAGE_UNAVAILABLE, "storage is unreachable at the moment; try again");
    }
    if (failure instanceof StatusRuntimeException sre) {
      com.google.rpc.Status fromTrailers = StatusProto.fromThrowable(sre);
      if (fromTrailers != null) {
        return fromTrailers;
      }
      return com.google.rpc.Status.newBuilder()
          .setCode(sre.getStatus().getCode().value())
          .setMessage(String.valueOf(sre.getStatus().getDescription()))
          .build();
    }
    if (failure instanceof RefusedException refused) {
      ErrorInfo info =
          ErrorInfo.newBuilder()
              .setDomain(DOMAIN)
              .setReason(refused.reason().name())
              .putAllMetadata(refused.details())
              .build();
      return com.google.rpc.Status.newBuilder()
          .setCode(codeOf(refused.reason()).value())
          .setMessage(refused.getMessage())
          .addDetails(Any.pack(info))
          .build();
    }
    log.error("Unexpected failure while serving a call", failure);
    return com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.INTERNAL.value())
        .setMessage("internal error; the failure was logged on the server")
        .build();
  }

  /** The exception to end a call with. */
  public static StatusRuntimeException toStatusException(Throwable failure) {
    return StatusProto.toStatusRuntimeException(toRpcStatus(failure));
  }

  /** The category of each reason; the reason itself tells which rule refused the request. */
  static Status.Code codeOf(ErrorReason reason) {
    return switch (reason) {
      case TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED -> Status.Code.UNAUTHENTICATED;
      case SUBSCRIPTION_INACTIVE,
          NOT_HOST_OR_COHOST,
          NOT_HOST,
          INVITE_TOKEN_INVALID,
          BANNED_FROM_ROOM,
          KICKED_FROM_ROOM,
          NOT_A_RELAY,
          NOT_ADMIN,
          DEMO_TOKENS_DISABLED,
          MUTED ->
          Status.Code.PERMISSION_DENIED;
      case ROOM_NOT_FOUND,
          TITLE_NOT_FOUND,
          MEMBER_NOT_FOUND,
          DEMO_USER_NOT_FOUND,
          MESSAGE_NOT_FOUND ->
          Status.Code.NOT_FOUND;
      case MALFORMED_ID,
          SEEK_OUT_OF_RANGE,
          RATE_OUT_OF_RANGE,
          FIELD_MISSING,
          INVALID_SETTING,
          INVALID_PAGE_TOKEN,
          PAGE_SIZE_OUT_OF_RANGE,
          INVALID_TARGET,
          CHAT_TEXT_EMPTY,
          CHAT_TEXT_TOO_LONG,
          CHAT_TEXT_CONTROL_CHARACTERS,
          CHAT_TEXT_INVALID_UTF8,
          UNKNOWN_EMOJI,
          INVALID_WINDOW,
          INVALID_REGION ->
          Status.Code.INVALID_ARGUMENT;
      case NOT_JOINED, ALREADY_JOINED, ROOM_CLOSED, TITLE_NOT_AVAILABLE_IN_REGION ->
          Status.Code.FAILED_PRECONDITION;
      case RATE_LIMITED, ROOM_FULL, SLOW_MODE -> Status.Code.RESOURCE_EXHAUSTED;
      case STORAGE_UNAVAILABLE -> Status.Code.UNAVAILABLE;
      case ERROR_REASON_UNSPECIFIED, UNRECOGNIZED -> Status.Code.UNKNOWN;
    };
  }
}
