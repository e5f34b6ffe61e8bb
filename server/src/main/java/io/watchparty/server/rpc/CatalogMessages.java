package io.watchparty.server.rpc;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.LicenceWindow;
import io.watchparty.proto.v1.Title;
import io.watchparty.server.refusal.RefusedException;
import java.time.Instant;
import java.util.Optional;

/** Conversions between catalog values and their protobuf messages, validating on the way in. */
final class CatalogMessages {
  private CatalogMessages() {}

  static Title toProto(io.watchparty.server.catalog.Title t) {
    return Title.newBuilder()
        .setTitleId(t.titleId())
        .setName(t.name())
        .setDurationMs(t.durationMs())
        .setMediaUrl(t.mediaUrl())
        .setDescription(t.description())
        .setYear(t.year())
        .build();
  }

  static io.watchparty.server.catalog.Title fromProto(Title t) {
    try {
      return new io.watchparty.server.catalog.Title(
          t.getTitleId(),
          t.getName(),
          t.getDurationMs(),
          t.getMediaUrl(),
          t.getDescription(),
          t.getYear());
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new RefusedException(ErrorReason.INVALID_SETTING, "invalid title: " + e.getMessage());
    }
  }

  static LicenceWindow toProto(io.watchparty.server.catalog.LicenceWindow w) {
    return LicenceWindow.newBuilder()
        .setFromMs(w.from().map(Instant::toEpochMilli).orElse(0L))
        .setUntilMs(w.until().map(Instant::toEpochMilli).orElse(0L))
        .build();
  }

  static io.watchparty.server.catalog.LicenceWindow fromProto(LicenceWindow w) {
    if (w.getFromMs() < 0 || w.getUntilMs() < 0) {
      throw new RefusedException(
          ErrorReason.INVALID_WINDOW, "window bounds are epoch milliseconds, 0 for open-ended");
    }
    try {
      return new io.watchparty.server.catalog.LicenceWindow(
          bound(w.getFromMs()), bound(w.getUntilMs()));
    } catch (IllegalArgumentException e) {
      throw new RefusedException(ErrorReason.INVALID_WINDOW, e.getMessage());
    }
  }

  private static Optional<Instant> bound(long ms) {
    return ms == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(ms));
  }
}
