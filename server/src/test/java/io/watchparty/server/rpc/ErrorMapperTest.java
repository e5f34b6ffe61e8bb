package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.testing.CapturedLog;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ErrorMapperTest {
  private static final String GENERIC = "internal error; the failure was logged on the server";

  /** Stands in for the storage side: a timeout means storage is unreachable. */
  private static final ErrorMapper.Translator TIMEOUTS =
      failure ->
          failure instanceof TimeoutException
              ? Optional.of(
                  new RefusedException(
                      ErrorReason.STORAGE_UNAVAILABLE,
                      "storage is unreachable at the moment; try again"))
              : Optional.empty();

  private final ErrorMapper errors = new ErrorMapper(List.of(TIMEOUTS));
  private final CapturedLog log = CapturedLog.of(ErrorMapper.class);

  @AfterEach
  void releaseLog() {
    log.close();
  }

  private static ErrorInfo errorInfo(Status status) throws InvalidProtocolBufferException {
    assertThat(status.getDetailsCount()).isEqualTo(1);
    return status.getDetails(0).unpack(ErrorInfo.class);
  }

  @Test
  void aRefusalCarriesAtMostABoundedMessageAndBoundedMetadataWhateverItWasGiven() throws Exception {
    String huge = "z".repeat(100_000);
    RefusedException refused =
        new RefusedException(ErrorReason.INVALID_TARGET, huge, Map.of("user_id", huge));

    Status status = ErrorMapper.toRpcStatus(refused);

    assertThat(status.getMessage()).hasSize(ErrorMapper.MAX_MESSAGE).endsWith("z…");
    assertThat(errorInfo(status).getMetadataMap().get("user_id"))
        .hasSize(ErrorMapper.MAX_METADATA_VALUE);
  }

  @Test
  void refusalKeepsItsMessageAndGetsTheCodeAndErrorInfoOfItsReason() throws Exception {
    RefusedException refused =
        new RefusedException(
            ErrorReason.RATE_LIMITED,
            "too many commands; retry in 200 ms",
            Map.of("retry_after_ms", "200"));

    Status status = ErrorMapper.toRpcStatus(refused);

    assertThat(status.getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
    assertThat(status.getMessage()).isEqualTo("too many commands; retry in 200 ms");
    ErrorInfo info = errorInfo(status);
    assertThat(info.getDomain()).isEqualTo("watchparty.io").isEqualTo(ErrorMapper.DOMAIN);
    assertThat(info.getReason()).isEqualTo("RATE_LIMITED");
    assertThat(info.getMetadataMap()).containsExactlyEntriesOf(Map.of("retry_after_ms", "200"));
  }

  @Test
  void refusalWithoutDetailsHasEmptyMetadata() throws Exception {
    Status status =
        ErrorMapper.toRpcStatus(new RefusedException(ErrorReason.ROOM_NOT_FOUND, "no room r-1"));

    assertThat(status.getCode()).isEqualTo(Code.NOT_FOUND.value());
    assertThat(errorInfo(status).getReason()).isEqualTo("ROOM_NOT_FOUND");
    assertThat(errorInfo(status).getMetadataMap()).isEmpty();
  }

  @Test
  void wrappedRefusalIsUnwrapped() throws Exception {
    RefusedException refused = new RefusedException(ErrorReason.NOT_HOST, "only the host may");

    Status once = errors.statusOf(new CompletionException(refused));
    Status twice = errors.statusOf(new CompletionException(new ExecutionException(refused)));

    assertThat(once).isEqualTo(ErrorMapper.toRpcStatus(refused));
    assertThat(twice).isEqualTo(ErrorMapper.toRpcStatus(refused));
    assertThat(once.getCode()).isEqualTo(Code.PERMISSION_DENIED.value());
    assertThat(errorInfo(once).getReason()).isEqualTo("NOT_HOST");
  }

  @Test
  void translatedFailureIsItsRefusalWithoutItsDetailsAndLoggedAsAWarning() throws Exception {
    Status status =
        errors.statusOf(new TimeoutException("Query timed out after PT2S on node 10.0.0.7:9042"));

    assertThat(status.getCode()).isEqualTo(Code.UNAVAILABLE.value());
    assertThat(status.getMessage())
        .isEqualTo("storage is unreachable at the moment; try again")
        .doesNotContain("10.0.0.7");
    assertThat(errorInfo(status).getReason()).isEqualTo("STORAGE_UNAVAILABLE");
    assertThat(errorInfo(status).getDomain()).isEqualTo("watchparty.io");
    assertThat(log.at(Level.WARN))
        .singleElement()
        .satisfies(e -> assertThat(e.getFormattedMessage()).contains("10.0.0.7"));
    assertThat(log.at(Level.ERROR)).isEmpty();
  }

  @Test
  void wrappedTranslatedFailureIsTranslated() throws Exception {
    Status status =
        errors.statusOf(new CompletionException(new TimeoutException("node overloaded")));

    assertThat(status.getCode()).isEqualTo(Code.UNAVAILABLE.value());
    assertThat(errorInfo(status).getReason()).isEqualTo("STORAGE_UNAVAILABLE");
  }

  @Test
  void failureNoTranslatorKnowsIsInternal() {
    Status status = new ErrorMapper(List.of()).statusOf(new TimeoutException("slow"));

    assertThat(status.getCode()).isEqualTo(Code.INTERNAL.value());
  }

  @Test
  void anyOtherFailureIsInternalLeaksNothingAndIsLoggedOnce() {
    var failure = new IllegalStateException("password=hunter2 at Room.java:42");

    Status status = errors.statusOf(failure);

    assertThat(status.getCode()).isEqualTo(Code.INTERNAL.value());
    assertThat(status.getMessage()).isEqualTo(GENERIC).doesNotContain("hunter2");
    assertThat(status.getDetailsCount()).isZero();
    assertThat(log.at(Level.ERROR))
        .singleElement()
        .satisfies(e -> assertThat(e.getThrowableProxy().getMessage()).contains("hunter2"));
  }

  @Test
  void wrappedUnexpectedFailureIsInternal() {
    Status status = errors.statusOf(new CompletionException(new NullPointerException("members")));

    assertThat(status.getCode()).isEqualTo(Code.INTERNAL.value());
    assertThat(status.getMessage()).isEqualTo(GENERIC);
  }

  @Test
  void completionExceptionWithoutCauseIsInternal() {
    Status status = errors.statusOf(new CompletionException("lost", null));

    assertThat(status.getCode()).isEqualTo(Code.INTERNAL.value());
    assertThat(status.getMessage()).isEqualTo(GENERIC);
  }

  @Test
  void grpcStatusExceptionPassesThrough() {
    Status status =
        errors.statusOf(
            io.grpc.Status.DEADLINE_EXCEEDED
                .withDescription("deadline passed")
                .asRuntimeException());

    assertThat(status.getCode()).isEqualTo(Code.DEADLINE_EXCEEDED.value());
    assertThat(status.getMessage()).isEqualTo("deadline passed");
  }

  @Test
  void statusExceptionEndsTheCallWithTheSameStatus() throws Exception {
    StatusRuntimeException e =
        ErrorMapper.toStatusException(
            new RefusedException(ErrorReason.TOKEN_EXPIRED, "the bearer token has expired"));

    assertThat(e.getStatus().getCode()).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(e.getStatus().getDescription()).isEqualTo("the bearer token has expired");
    Status fromTrailers = StatusProto.fromThrowable(e);
    assertThat(fromTrailers).isNotNull();
    assertThat(errorInfo(fromTrailers).getReason()).isEqualTo("TOKEN_EXPIRED");
    assertThat(errors.statusOf(e)).isEqualTo(fromTrailers);
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorReason.class,
      mode = EnumSource.Mode.EXCLUDE,
      names = {"UNRECOGNIZED", "ERROR_REASON_UNSPECIFIED"})
  void everyReasonHasADefiniteCode(ErrorReason reason) {
    Code code = ErrorMapper.codeOf(reason);

    assertThat(code).isNotIn(Code.UNKNOWN, Code.OK, Code.INTERNAL);
    assertThat(ErrorMapper.toRpcStatus(new RefusedException(reason, "refused")).getCode())
        .isEqualTo(code.value());
  }

  @Test
  void unspecifiedReasonIsUnknown() {
    assertThat(ErrorMapper.codeOf(ErrorReason.ERROR_REASON_UNSPECIFIED)).isEqualTo(Code.UNKNOWN);
    assertThat(ErrorMapper.codeOf(ErrorReason.UNRECOGNIZED)).isEqualTo(Code.UNKNOWN);
  }

  @Test
  void reasonsFallIntoTheDocumentedCategories() {
    assertThat(ErrorMapper.codeOf(ErrorReason.TOKEN_MISSING)).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(ErrorMapper.codeOf(ErrorReason.TOKEN_INVALID)).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(ErrorMapper.codeOf(ErrorReason.SUBSCRIPTION_INACTIVE))
        .isEqualTo(Code.PERMISSION_DENIED);
    assertThat(ErrorMapper.codeOf(ErrorReason.MESSAGE_NOT_FOUND)).isEqualTo(Code.NOT_FOUND);
    assertThat(ErrorMapper.codeOf(ErrorReason.SEEK_OUT_OF_RANGE)).isEqualTo(Code.INVALID_ARGUMENT);
    assertThat(ErrorMapper.codeOf(ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION))
        .isEqualTo(Code.FAILED_PRECONDITION);
    assertThat(ErrorMapper.codeOf(ErrorReason.NOT_JOINED)).isEqualTo(Code.FAILED_PRECONDITION);
    assertThat(ErrorMapper.codeOf(ErrorReason.SLOW_MODE)).isEqualTo(Code.RESOURCE_EXHAUSTED);
    assertThat(ErrorMapper.codeOf(ErrorReason.STORAGE_UNAVAILABLE)).isEqualTo(Code.UNAVAILABLE);
  }
}
