package io.watchparty.server.catalog;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** The licence windows of one title, by region (ISO 3166-1 alpha-2). Immutable. */
public record TitleAvailability(String titleId, Map<String, LicenceWindow> windows) {
  public TitleAvailability {
    windows = Map.copyOf(windows);
  }

  public Optional<LicenceWindow> window(String region) {
    return Optional.ofNullable(windows.get(region));
  }

  public boolean canWatch(String region, Instant at) {
    LicenceWindow window = windows.get(region);
    return window != null && window.contains(at);
  }

  /** The first instant after {@code at} at which the title opens or closes in some region. */
  public Optional<Instant> nextChangeAfter(Instant at) {
    return windows.values().stream()
        .flatMap(w -> w.nextBoundaryAfter(at).stream())
        .min(Instant::compareTo);
  }
}
