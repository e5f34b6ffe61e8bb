package io.watchparty.server.refusal;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** The failure a stage reports, from under the wrappers futures put around it. */
public final class Failures {
  private Failures() {}

  /** {@code failure} without its {@link CompletionException} and {@link ExecutionException}s. */
  public static Throwable unwrap(Throwable failure) {
    while ((failure instanceof CompletionException || failure instanceof ExecutionException)
        && failure.getCause() != null) {
      failure = failure.getCause();
    }
    return failure;
  }
}
