package io.watchparty.server.chat;

import java.time.Duration;

/**
 * Chat tunables. Every one but {@code bucket} is a configuration key (see {@code ServerSettings}).
 *
 * @param ttl how long messages are kept: the Cassandra TTL of every chat row ({@code
 *     watchparty.chat.ttl}, seconds; default 7 days)
 * @param maxLength the most code points a message may have after normalization ({@code
 *     watchparty.chat.maxlength}; default and maximum {@link #MAX_LENGTH}, for which the history
 *     bucket is sized)
 * @param messagesPerSecond sustained per-user message rate ({@code watchparty.chat.rate}; default
 *     1)
 * @param messageBurst per-user burst of messages ({@code watchparty.chat.burst}; default 5)
 * @param reactionsPerSecond sustained per-user reaction rate ({@code watchparty.chat.reactionrate};
 *     default 5)
 * @param reactionBurst per-user burst of reactions ({@code watchparty.chat.reactionburst}; default
 *     10)
 * @param reactionWindow reactions of one room are counted over this window and published as one
 *     event ({@code watchparty.chat.reactionwindow}, milliseconds; default 250)
 * @param recentMessages messages kept in memory per room and sent in every snapshot ({@code
 *     watchparty.chat.recent}; default 50)
 * @param bucket the time span of one history partition: a property of the stored data, so not a
 *     configuration key (tests shorten it); see {@code V004__chat.cql} for why one minute
 */
public record ChatSettings(
    Duration ttl,
    int maxLength,
    double messagesPerSecond,
    int messageBurst,
    double reactionsPerSecond,
    int reactionBurst,
    Duration reactionWindow,
    int recentMessages,
    Duration bucket) {

  /** The longest message, in code points after normalization, the schema is sized for. */
  public static final int MAX_LENGTH = 500;

  /**
   * How long after a send a retry of it (same sender, same client message id) is still recognised
   * and answered with the first message instead of a new one. It covers the client library's
   * default reconnection, 12 attempts backing off from 250 ms to 10 s (about 76 s in all).
   */
  public static final Duration RETRY_WINDOW = Duration.ofMinutes(2);

  /** Cassandra refuses TTLs above 20 years; the bucket index outlives messages by one bucket. */
  public static final Duration MAX_TTL = Duration.ofDays(365 * 19);

  public static final ChatSettings DEFAULTS =
      new ChatSettings(
          Duration.ofDays(7),
          MAX_LENGTH,
          1,
          5,
          5,
          10,
          Duration.ofMillis(250),
          50,
          Duration.ofMinutes(1));

  public ChatSettings {
    if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException(
          "watchparty.chat.ttl must be 1 s to " + MAX_TTL.toDays() + " days, got " + ttl);
    }
    if (maxLength < 1 || maxLength > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "watchparty.chat.maxlength must be 1.." + MAX_LENGTH + ", got " + maxLength);
    }
    if (!(messagesPerSecond > 0) || messageBurst < 1) {
      throw new IllegalArgumentException(
          "watchparty.chat.rate and burst must be positive, got "
              + messagesPerSecond
              + " and "
              + messageBurst);
    }
    if (!(reactionsPerSecond > 0) || reactionBurst < 1) {
      throw new IllegalArgumentException(
          "watchparty.chat.reactionrate and reactionburst must be positive, got "
              + reactionsPerSecond
              + " and "
              + reactionBurst);
    }
    if (reactionWindow.toMillis() < 1) {
      throw new IllegalArgumentException(
          "watchparty.chat.reactionwindow must be at least 1 ms, got " + reactionWindow);
    }
    if (recentMessages < 0 || recentMessages > 1_000) {
      throw new IllegalArgumentException(
          "watchparty.chat.recent must be 0..1000, got " + recentMessages);
    }
    if (bucket.toMillis() < 1) {
      throw new IllegalArgumentException("the chat bucket must be at least 1 ms, got " + bucket);
    }
  }

  /** These settings with another history bucket (tests cross buckets without waiting). */
  public ChatSettings withBucket(Duration value) {
    return new ChatSettings(
        ttl,
        maxLength,
        messagesPerSecond,
        messageBurst,
        reactionsPerSecond,
        reactionBurst,
        reactionWindow,
        recentMessages,
        value);
  }

  /** These settings with other per-user message limits. */
  public ChatSettings withMessageRate(double perSecond, int burst) {
    return new ChatSettings(
        ttl,
        maxLength,
        perSecond,
        burst,
        reactionsPerSecond,
        reactionBurst,
        reactionWindow,
        recentMessages,
        bucket);
  }

  /** These settings with other per-user reaction limits. */
  public ChatSettings withReactionRate(double perSecond, int burst) {
    return new ChatSettings(
        ttl,
        maxLength,
        messagesPerSecond,
        messageBurst,
        perSecond,
        burst,
        reactionWindow,
        recentMessages,
        bucket);
  }
}
