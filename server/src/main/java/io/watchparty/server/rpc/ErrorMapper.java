package io.watchparty.server.rpc;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.Failures;
import io.watchparty.server.refusal.RefusedException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses. A {@link RefusedException} keeps its message
 * and gets the status code of its reason plus a {@code google.rpc.ErrorInfo}; a failure one of the
 * {@linkplain Translator translators} recognizes (storage being unreachable, say) is reported as
 * the refusal it stands for and logged as a warning; anything else is a bug and is logged here,
 * never shown to the caller beyond a generic sentence.
 *
 * <p>Calls reach it through {@link ErrorInterceptor}; the room stream uses it directly, because a
 * refused command there is an answer on the stream, not the end of the call.
 */
public final class ErrorMapper {
  /** The {@code ErrorInfo.domain} of every WatchParty error. */
  public static final String DOMAIN = "watchparty.io";

  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

  /** The longest message and metadata value a refusal carries, in characters. */
  static final int MAX_MESSAGE = 512;

  static final int MAX_METADATA_VALUE = 128;

  /**
   * Says which refusal a failure of some layer means for the caller, so that {@code rpc} need not
   * know that layer's exceptions (the storage driver's, for one).
   */
  @FunctionalInterface
  public interface Translator {
    /** The refusal {@code failure} stands for, or empty if this translator does not know it. */
    Optional<RefusedException> refusalFor(Throwable failure);
  }

  private final List<Translator> translators;

  public ErrorMapper(List<Translator> translators) {
    this.translators = List.copyOf(translators);
  }

  /** The status a failure is reported with, as a {@code google.rpc.Status} with details. */
  public com.google.rpc.Status statusOf(Throwable failure) {
    failure = Failures.unwrap(failure);
    if (failure instanceof RefusedException refused) {
      return toRpcStatus(refused);
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
    for (Translator translator : translators) {
      Optional<RefusedException> refusal = translator.refusalFor(failure);
      if (refusal.isPresent()) {
        // An outage, not a bug: one line without the stack trace.
        log.warn("{} while serving a call: {}", refusal.get().reason(), failure.toString());
        return toRpcStatus(refusal.get());
      }
    }
    log.error("Unexpected failure while serving a call", failure);
    return com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.INTERNAL.value())
        .setMessage("internal error; the failure was logged on the server")
        .build();
  }

  /** The exception to end a call with. */
  public StatusRuntimeException exceptionOf(Throwable failure) {
    return StatusProto.toStatusRuntimeException(statusOf(failure));
  }

  /**
   * The status of a refusal, which needs no translation: for code that refuses on its own account
   * rather than reporting a failure.
   */
  public static com.google.rpc.Status toRpcStatus(RefusedException refused) {
    ErrorInfo.Builder info =
        ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(refused.reason().name());
    // Refusals quote what callers sent through Echo; these bounds keep the trailers small (gRPC
    // clients accept 8 KiB by default) whatever a refusal was given.
    refused
        .details()
        .forEach((key, value) -> info.putMetadata(key, Echo.bounded(value, MAX_METADATA_VALUE)));
    return com.google.rpc.Status.newBuilder()
        .setCode(codeOf(refused.reason()).value())
        .setMessage(Echo.bounded(refused.getMessage(), MAX_MESSAGE))
        .addDetails(Any.pack(info.build()))
        .build();
  }

  /**
   * The exception to end a call with for a refusal (see {@link #toRpcStatus(RefusedException)}).
   */
  public static StatusRuntimeException toStatusException(RefusedException refused) {
    return StatusProto.toStatusRuntimeException(toRpcStatus(refused));
  }

  /** The category of each reason; the reason itself tells which rule refused the request. */
  static Status.Code codeOf(ErrorReason reason) {
    return switch (reason) {
      case TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID ->
          Status.Code.UNAUTHENTICATED;
      case SUBSCRIPTION_INACTIVE,
          NOT_HOST_OR_COHOST,
          NOT_HOST,
          INVITE_TOKEN_INVALID,
          BANNED_FROM_ROOM,
          KICKED_FROM_ROOM,
          NOT_A_RELAY,
          NOT_A_VIEWER,
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
          INVALID_UTF8,
          MALFORMED_MESSAGE,
          AUDIENCE_TOO_LARGE,
          UNKNOWN_EMOJI,
          INVALID_WINDOW,
          INVALID_REGION ->
          Status.Code.INVALID_ARGUMENT;
      case NOT_JOINED, ALREADY_JOINED, ROOM_CLOSED, TITLE_NOT_AVAILABLE_IN_REGION ->
          Status.Code.FAILED_PRECONDITION;
      case RATE_LIMITED, ROOM_FULL, SLOW_MODE -> Status.Code.RESOURCE_EXHAUSTED;
      case STORAGE_UNAVAILABLE, SERVER_SHUTTING_DOWN, ROOM_MOVED -> Status.Code.UNAVAILABLE;
      case ERROR_REASON_UNSPECIFIED, UNRECOGNIZED -> Status.Code.UNKNOWN;
    };
  }
}
