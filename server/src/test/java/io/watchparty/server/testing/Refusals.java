package io.watchparty.server.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.rpc.ErrorMapper;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Reads the machine-readable reason of a refusal, the way a client program would. */
public final class Refusals {
  private Refusals() {}

  /** The {@code google.rpc.ErrorInfo} among the details of a status; fails if there is none. */
  public static ErrorInfo errorInfo(com.google.rpc.Status status) {
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class);
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError("undecodable ErrorInfo in " + status, e);
        }
      }
    }
    throw new AssertionError("no ErrorInfo in the status details of " + status);
  }

  public static ErrorInfo errorInfo(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("status details of %s", e).isNotNull();
    return errorInfo(status);
  }

  /** Runs a unary call that must be refused with this code and reason; returns its ErrorInfo. */
  public static ErrorInfo assertRefused(
      ThrowingCallable call, Status.Code code, ErrorReason reason) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
    assertThat(e).as("the call must fail with %s/%s", code, reason).isNotNull();
    assertThat(e.getStatus().getCode()).as("status of %s", e).isEqualTo(code);
    ErrorInfo info = errorInfo(e);
    assertThat(info.getDomain()).isEqualTo(ErrorMapper.DOMAIN);
    assertThat(info.getReason()).isEqualTo(reason.name());
    return info;
  }

  /** Checks a rejected CommandResult (or any google.rpc.Status) for code and reason. */
  public static ErrorInfo assertRejected(
      com.google.rpc.Status status, Status.Code code, ErrorReason reason) {
    assertThat(Status.Code.values()[status.getCode()]).as("code of %s", status).isEqualTo(code);
    ErrorInfo info = errorInfo(status);
    assertThat(info.getDomain()).isEqualTo(ErrorMapper.DOMAIN);
    assertThat(info.getReason()).isEqualTo(reason.name());
    return info;
  }
}
