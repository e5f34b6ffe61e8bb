package io.watchparty.server.catalog;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A title of the catalog.
 *
 * @param titleId slug, e.g. {@code big-buck-bunny}
 * @param name display name
 * @param durationMs running time; seeks are refused beyond it
 * @param mediaUrl what the web page plays (a path served by the bridge, or an absolute URL)
 * @param description the blurb a real service shows next to the artwork
 * @param year release year
 */
public record Title(
    String titleId, String name, long durationMs, String mediaUrl, String description, int year) {
  static final Pattern TITLE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

  public Title {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(mediaUrl, "mediaUrl");
    Objects.requireNonNull(description, "description");
    if (!isValidId(titleId)) {
      throw new IllegalArgumentException("title id must match " + TITLE_ID + ", got: " + titleId);
    }
    if (durationMs <= 0) {
      throw new IllegalArgumentException("duration must be positive, got: " + durationMs);
    }
  }

  /** Whether {@code titleId} is a well-formed title id. */
  public static boolean isValidId(String titleId) {
    return titleId != null && TITLE_ID.matcher(titleId).matches();
  }
}
