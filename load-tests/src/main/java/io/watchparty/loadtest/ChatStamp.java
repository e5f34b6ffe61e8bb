package io.watchparty.loadtest;

import java.util.Optional;

/**
 * Puts the send instant ({@link System#nanoTime()} of this JVM) into a chat message's client id, so
 * that a viewer computes send-to-deliver from the message alone, with no lookup shared between
 * threads. The id stays within the allowed {@code [A-Za-z0-9_-]{1,64}} and unique per sender.
 */
final class ChatStamp {
  private static final String PREFIX = "lt";

  private ChatStamp() {}

  static String clientMessageId(long sentNanos, long counter) {
    return PREFIX + Long.toHexString(sentNanos) + "-" + counter;
  }

  /** A warm-up message's id: unique, and without a send time, so no viewer times it. */
  static String warmUpMessageId(long counter) {
    return "warm-up-" + counter;
  }

  static Optional<Long> sentNanos(String clientMessageId) {
    int dash = clientMessageId.indexOf('-');
    if (!clientMessageId.startsWith(PREFIX) || dash < 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          Long.parseUnsignedLong(clientMessageId.substring(PREFIX.length(), dash), 16));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
