package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Completes unary calls, mapping every failure through {@link ErrorMapper}. */
public final class Calls {
  private Calls() {}

  /** Answers with what {@code call} returns, or with the status of what it throws. */
  public static <T> void unary(StreamObserver<T> response, Supplier<T> call) {
    T reply;
    try {
      reply = call.get();
    } catch (RuntimeException e) {
      response.onError(ErrorMapper.toStatusException(e));
      return;
    }
    response.onNext(reply);
    response.onCompleted();
  }

  /** Answers when the stage completes, without holding a thread meanwhile. */
  public static <T> void async(StreamObserver<T> response, Supplier<CompletionStage<T>> call) {
    CompletionStage<T> stage;
    try {
      stage = call.get();
    } catch (RuntimeException e) {
      response.onError(ErrorMapper.toStatusException(e));
      return;
    }
    stage.whenComplete(
        (reply, failure) -> {
          if (failure != null) {
            response.onError(ErrorMapper.toStatusException(failure));
          } else {
            response.onNext(reply);
            response.onCompleted();
          }
        });
  }
}
