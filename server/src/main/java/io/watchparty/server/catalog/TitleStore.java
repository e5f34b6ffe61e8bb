package io.watchparty.server.catalog;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where the catalog's titles are kept; {@link TitleCatalog} caches what it reads. Every call
 * answers asynchronously: the rooms and the catalog services never wait on a thread for storage.
 */
public interface TitleStore {

  /** The title with this id, if there is one. */
  CompletionStage<Optional<Title>> find(String titleId);

  /** Adds the title, or replaces the one with its id. */
  CompletionStage<Void> put(Title title);

  /** Every title, in no particular order. */
  CompletionStage<List<Title>> all();
}
