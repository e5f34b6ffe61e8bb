package io.watchparty.server.catalog;

import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * When a title may be watched in one region: from {@code from} (inclusive) until {@code until}
 * (exclusive); an empty bound is open-ended.
 */
public record LicenceWindow(Optional<Instant> from, Optional<Instant> until) {
  /** Open on both ends: always available. */
  public static final LicenceWindow ALWAYS = new LicenceWindow(Optional.empty(), Optional.empty());

  public LicenceWindow {
    if (from.isPresent() && until.isPresent() && !until.get().isAfter(from.get())) {
      throw new IllegalArgumentException(
          "a licence window must end after it starts: " + from.get() + " .. " + until.get());
    }
  }

  public boolean contains(Instant at) {
    return from.map(f -> !at.isBefore(f)).orElse(true) && until.map(at::isBefore).orElse(true);
  }

  /** The first instant after {@code at} at which this window opens or closes, if any. */
  public Optional<Instant> nextBoundaryAfter(Instant at) {
    return Stream.of(from, until)
        .flatMap(Optional::stream)
        .filter(boundary -> boundary.isAfter(at))
        .min(Instant::compareTo);
  }
}
