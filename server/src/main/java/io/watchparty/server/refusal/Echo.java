package io.watchparty.server.refusal;

/**
 * What a refusal may repeat of a value the caller sent: the value itself when it is short, its
 * start and its length otherwise. A refusal travels in the call's trailers, which clients bound (8
 * KiB by default in gRPC); echoing a huge field whole made trailers no client accepts.
 */
public final class Echo {
  /** The longest value repeated whole; the start of a longer one is repeated up to this. */
  public static final int MAX_ECHO = 64;

  private Echo() {}

  /** {@code 'value'}, or {@code 'its start…' (N characters)} for a value over {@link #MAX_ECHO}. */
  public static String quoted(String value) {
    if (value.length() <= MAX_ECHO) {
      return "'" + value + "'";
    }
    return "'" + start(value, MAX_ECHO) + "…' (" + value.length() + " characters)";
  }

  /** {@code value}, or its first characters and an ellipsis, at most {@code max} characters. */
  public static String bounded(String value, int max) {
    if (value.length() <= max) {
      return value;
    }
    return start(value, max - 1) + "…";
  }

  /** At most the first {@code length} characters, never half of a surrogate pair. */
  private static String start(String value, int length) {
    int end = Character.isHighSurrogate(value.charAt(length - 1)) ? length - 1 : length;
    return value.substring(0, end);
  }
}
