package io.watchparty.server.rpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Metrics;

/** Counts finished gRPC calls by method and status code ({@code watchparty_grpc_calls_total}). */
public final class CallMetrics implements ServerInterceptor {
  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    return next.startCall(
        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            Metrics.getOrCreate(
                    Counter.builder("watchparty.grpc.calls")
                        .tags(Metrics.tags("method", method, "code", status.getCode().name())))
                .increment();
            super.close(status, trailers);
          }
        },
        headers);
  }
}
