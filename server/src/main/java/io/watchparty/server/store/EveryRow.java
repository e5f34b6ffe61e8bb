package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Reads every row of a result, page after page, without waiting on a thread for the next page (the
 * synchronous iterator of a result set blocks while it fetches one).
 */
final class EveryRow {
  private EveryRow() {}

  /** Hands each row of the result to {@code each}; completes after the last page. */
  static CompletionStage<Void> of(CompletionStage<AsyncResultSet> result, Consumer<Row> each) {
    return result.thenCompose(page -> from(page, each));
  }

  private static CompletionStage<Void> from(AsyncResultSet page, Consumer<Row> each) {
    page.currentPage().forEach(each);
    if (!page.hasMorePages()) {
      return CompletableFuture.completedFuture(null);
    }
    return page.fetchNextPage().thenCompose(next -> from(next, each));
  }
}
