package io.watchparty.server.rpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends every failed call with the status {@link ErrorMapper} gives its failure, so that services
 * and interceptors just throw (a {@code RefusedException}, or anything else) or fail the future
 * they answer from. It maps what the interceptors and handlers below it throw synchronously (from
 * {@code interceptCall} and from every listener callback) and what a handler hands to {@code
 * StreamObserver.onError}, which grpc-java turns into {@code
 * close(Status.UNKNOWN.withCause(failure), ...)}. Statuses that services chose themselves pass
 * through untouched.
 *
 * <p>It must run before (be added after) every interceptor whose refusals it maps. Like grpc-java's
 * {@code TransmitStatusRuntimeExceptionInterceptor} it closes a call whose listener threw from that
 * listener's thread; unlike it, it does not serialize all the call's methods, which would cost each
 * room-stream frame a hop. Services that write from other threads (the room stream) therefore
 * handle their own failures instead of throwing them here.
 */
public final class ErrorInterceptor implements ServerInterceptor {
  private final ErrorMapper errors;

  public ErrorInterceptor(ErrorMapper errors) {
    this.errors = Objects.requireNonNull(errors);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    MappingCall<Q, R> mapping = new MappingCall<>(call, errors);
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(mapping, headers);
    } catch (RuntimeException refused) {
      mapping.fail(refused);
      return new ServerCall.Listener<>() {};
    }
    return new MappingListener<>(listener, mapping);
  }

  private static final class MappingCall<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final ErrorMapper errors;

    /**
     * Set by the first close. A call that failed in a listener callback may be closed again by the
     * handler below (grpc's unary listener closes with "missing request" when {@code onMessage}
     * threw); the first status is the one the caller gets.
     */
    private final AtomicBoolean closed = new AtomicBoolean();

    MappingCall(ServerCall<Q, R> call, ErrorMapper errors) {
      super(call);
      this.errors = errors;
    }

    @Override
    public void close(Status status, Metadata trailers) {
      boolean first = closed.compareAndSet(false, true);
      if (isUnmappedFailure(status)) {
        // Mapped even when too late to report, so an unexpected failure is still logged.
        StatusRuntimeException mapped = errors.exceptionOf(status.getCause());
        status = mapped.getStatus();
        trailers.merge(mapped.getTrailers());
      }
      if (first) {
        super.close(status, trailers);
      }
    }

    void fail(Throwable failure) {
      close(Status.UNKNOWN.withCause(failure), new Metadata());
    }

    /** What grpc-java makes of an exception that carries no status: UNKNOWN, a cause, no text. */
    private static boolean isUnmappedFailure(Status status) {
      return status.getCode() == Status.Code.UNKNOWN
          && status.getCause() != null
          && status.getDescription() == null;
    }
  }

  private static final class MappingListener<Q>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final MappingCall<Q, ?> call;

    MappingListener(ServerCall.Listener<Q> delegate, MappingCall<Q, ?> call) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onMessage(Q message) {
      try {
        super.onMessage(message);
      } catch (RuntimeException failure) {
        call.fail(failure);
      }
    }

    @Override
    public void onHalfClose() {
      try {
        super.onHalfClose();
      } catch (RuntimeException failure) {
        call.fail(failure);
      }
    }

    @Override
    public void onCancel() {
      try {
        super.onCancel();
      } catch (RuntimeException failure) {
        call.fail(failure);
      }
    }

    @Override
    public void onComplete() {
      try {
        super.onComplete();
      } catch (RuntimeException failure) {
        call.fail(failure);
      }
    }

    @Override
    public void onReady() {
      try {
        super.onReady();
      } catch (RuntimeException failure) {
        call.fail(failure);
      }
    }
  }
}
