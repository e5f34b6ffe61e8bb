package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.helidon.http.Status;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** How failures map to HTTP errors; {@link HttpErrorsRoutingTest} sends them through a server. */
class HttpErrorsTest {

  static StatusRuntimeException refusal(
      Code code, String reason, String message, Map<String, String> metadata) {
    ErrorInfo info =
        ErrorInfo.newBuilder()
            .setDomain(HttpErrors.DOMAIN)
            .setReason(reason)
            .putAllMetadata(metadata)
            .build();
    return StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder()
            .setCode(code.value())
            .setMessage(message)
            .addDetails(Any.pack(info))
            .build());
  }

  @Test
  void serverRefusalKeepsItsReasonMessageAndMetadata() {
    ApiError error =
        HttpErrors.fromGrpc(
            refusal(
                Code.RESOURCE_EXHAUSTED,
                "RATE_LIMITED",
                "Too many chat messages; wait a moment.",
                Map.of("retry_after_ms", "1500")));

    assertThat(error)
        .isEqualTo(
            new ApiError(
                Status.TOO_MANY_REQUESTS_429,
                "RATE_LIMITED",
                "Too many chat messages; wait a moment.",
                Map.of("retry_after_ms", "1500")));
    assertThat(error.toJson())
        .isEqualTo(
            "{\"error\":\"RATE_LIMITED\",\"message\":\"Too many chat messages; wait a moment.\","
                + "\"metadata\":{\"retry_after_ms\":\"1500\"}}");
  }

  @Test
  void serverRefusalOfUnavailableStorageKeepsItsMessage() {
    ApiError error =
        HttpErrors.fromGrpc(
            refusal(Code.UNAVAILABLE, "STORAGE_UNAVAILABLE", "Chat is unavailable.", Map.of()));

    assertThat(error.status()).isEqualTo(Status.SERVICE_UNAVAILABLE_503);
    assertThat(error.error()).isEqualTo("STORAGE_UNAVAILABLE");
    assertThat(error.message()).isEqualTo("Chat is unavailable.");
  }

  @Test
  void transportFailureHidesItsDescription() {
    ApiError error =
        HttpErrors.fromGrpc(
            io.grpc.Status.UNAVAILABLE
                .withDescription("io exception: Connection refused: /10.1.2.3:50051")
                .asRuntimeException());

    assertThat(error.status()).isEqualTo(Status.SERVICE_UNAVAILABLE_503);
    assertThat(error.error()).isEqualTo("UNAVAILABLE");
    assertThat(error.message())
        .isEqualTo("The watch-party server is unavailable; try again shortly.");
    assertThat(error.toJson()).doesNotContain("10.1.2.3");
  }

  @Test
  void internalFailureWithoutReasonIsGeneric() {
    ApiError error =
        HttpErrors.fromGrpc(
            io.grpc.Status.INTERNAL
                .withDescription("NullPointerException at Room.java:42")
                .asRuntimeException());

    assertThat(error)
        .isEqualTo(
            new ApiError(
                Status.INTERNAL_SERVER_ERROR_500,
                "INTERNAL",
                "The watch-party server failed to handle this request."));
  }

  @Test
  void clientErrorWithoutReasonKeepsItsDescription() {
    ApiError error =
        HttpErrors.fromGrpc(
            io.grpc.Status.NOT_FOUND.withDescription("no room r-17").asRuntimeException());

    assertThat(error).isEqualTo(new ApiError(Status.NOT_FOUND_404, "NOT_FOUND", "no room r-17"));
  }

  @Test
  void clientErrorWithoutDescriptionGetsTheReasonPhrase() {
    ApiError error = HttpErrors.fromGrpc(io.grpc.Status.PERMISSION_DENIED.asRuntimeException());

    assertThat(error)
        .isEqualTo(new ApiError(Status.FORBIDDEN_403, "PERMISSION_DENIED", "Forbidden."));
  }

  @Test
  void errorInfoOfAnotherDomainIsNotTrusted() {
    ErrorInfo foreign =
        ErrorInfo.newBuilder().setDomain("googleapis.com").setReason("QUOTA").build();
    StatusRuntimeException e =
        StatusProto.toStatusRuntimeException(
            com.google.rpc.Status.newBuilder()
                .setCode(Code.INTERNAL.value())
                .setMessage("stack trace here")
                .addDetails(Any.pack(foreign))
                .build());

    ApiError error = HttpErrors.fromGrpc(e);

    assertThat(error.error()).isEqualTo("INTERNAL");
    assertThat(error.message()).doesNotContain("stack trace");
    assertThat(error.metadata()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "CANCELLED, 499",
    "UNKNOWN, 500",
    "INVALID_ARGUMENT, 400",
    "DEADLINE_EXCEEDED, 504",
    "NOT_FOUND, 404",
    "ALREADY_EXISTS, 409",
    "PERMISSION_DENIED, 403",
    "UNAUTHENTICATED, 401",
    "RESOURCE_EXHAUSTED, 429",
    "FAILED_PRECONDITION, 412",
    "ABORTED, 409",
    "OUT_OF_RANGE, 400",
    "UNIMPLEMENTED, 501",
    "INTERNAL, 500",
    "UNAVAILABLE, 503",
    "DATA_LOSS, 500"
  })
  void grpcCodesMapToTheHttpStatusGoogleDocuments(Code code, int httpStatus) {
    assertThat(HttpErrors.httpStatus(code).code()).isEqualTo(httpStatus);
  }

  @Test
  void bareStatusBecomesUpperSnakeCategory() {
    ApiError error =
        HttpErrors.fromStatus(Status.REQUEST_ENTITY_TOO_LARGE_413, Optional.of("Body too big"));

    assertThat(error.error()).isEqualTo("REQUEST_ENTITY_TOO_LARGE");
    assertThat(error.message()).isEqualTo("Body too big");
  }

  @Test
  void bareServerErrorHidesTheExceptionMessage() {
    ApiError error =
        HttpErrors.fromStatus(
            Status.INTERNAL_SERVER_ERROR_500, Optional.of("java.io.IOException: /etc/secret"));

    assertThat(error.error()).isEqualTo("INTERNAL_SERVER_ERROR");
    assertThat(error.message()).isEqualTo("Internal Server Error.");
  }

  @Test
  void jsonEscapesWhatItQuotes() {
    ApiError error = new ApiError(Status.NOT_FOUND_404, "NOT_FOUND", "no \"room\" <b>\n");

    assertThat(error.toJson())
        .isEqualTo("{\"error\":\"NOT_FOUND\",\"message\":\"no \\\"room\\\" <b>\\n\"}");
  }
}
