package io.watchparty.server.catalog;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/** Where the catalog's answers from storage complete. */
final class StorageAnswers {
  private StorageAnswers() {}

  /**
   * The store's answer, value or failure, completed on {@code executor} rather than on the storage
   * driver's thread, so that what callers chain on it (a room taking its lock, a reply being
   * serialized) never runs there. Not {@code thenApplyAsync}, which passes a failure on at once, on
   * the thread that completed the store's future.
   */
  static <T> CompletableFuture<T> onto(Executor executor, CompletionStage<T> answer) {
    return answer.toCompletableFuture().whenCompleteAsync((value, failure) -> {}, executor);
  }
}
