package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionStage;

/**
 * Answers a unary call from a future, without holding a thread meanwhile. A failure is handed to
 * {@code onError} as it is: the server's error interceptor ({@code rpc.ErrorInterceptor}) maps it.
 */
final class Replies {
  private Replies() {}

  /** Answers with the stage's value, or fails the call with its failure, once it completes. */
  public static <T> void whenDone(CompletionStage<? extends T> stage, StreamObserver<T> response) {
    stage.whenComplete(
        (reply, failure) -> {
          if (failure != null) {
            response.onError(failure);
          } else {
            response.onNext(reply);
            response.onCompleted();
          }
        });
  }
}
