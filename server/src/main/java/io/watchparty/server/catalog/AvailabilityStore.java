package io.watchparty.server.catalog;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Where the availability matrix (title x region -> licence window) is kept; {@link
 * AvailabilityMatrix} caches what it reads. Every call answers asynchronously.
 */
public interface AvailabilityStore {

  /** The windows of one title, by region; empty when it is available nowhere. */
  CompletionStage<Map<String, LicenceWindow>> windowsOf(String titleId);

  /** Every title's windows by region: the whole matrix. */
  CompletionStage<Map<String, Map<String, LicenceWindow>>> all();

  /**
   * Sets the title's window in a region, replacing the previous one whole (an open end clears a
   * bound the previous window had), in one write: no reader sees a half-replaced window.
   */
  CompletionStage<Void> put(String titleId, String region, LicenceWindow window);

  /** Removes the title's window in a region: it is no longer available there. */
  CompletionStage<Void> remove(String titleId, String region);
}
