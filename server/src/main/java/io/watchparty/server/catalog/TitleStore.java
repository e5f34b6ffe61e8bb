package io.watchparty.server.catalog;

import java.util.List;
import java.util.Optional;

/** Where the catalog's titles are kept; {@link TitleCatalog} caches what it reads. */
public interface TitleStore {

  /** The title with this id, if there is one. */
  Optional<Title> find(String titleId);

  /** Adds the title, or replaces the one with its id. */
  void put(Title title);

  /** Every title, in no particular order. */
  List<Title> all();
}
