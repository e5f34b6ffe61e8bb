package io.watchparty.server.chat;

import io.watchparty.proto.v1.ChatMessage;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one room remembers of the sends it settled within the retry window, so that a retry of a
 * send (same sender, same client message id) gets the first answer without asking Cassandra.
 *
 * <p>A room is served by one instance at a time (DESIGN.md, section 6: one owning instance per
 * room), so while this memory is complete, a send it does not know is a new message and can be
 * written without a lookup. The memory is incomplete for one retry window after the room was loaded
 * (sends before the load were answered by an earlier run of the room), and after an entry still
 * inside the window had to be dropped to bound the memory; {@link #mayHaveForgotten} says so, and
 * the send is then looked up in storage first.
 *
 * <p>Not thread-safe: guarded by the room's lock, like the rest of the room's chat.
 */
final class RecentSends {
  /** A send settled here: its acknowledged message, or empty if storing it failed. */
  private record Entry(Optional<ChatMessage> acknowledged, long atMs) {}

  /** A sender's client message id: what makes two sends copies of one. */
  record Key(String userId, String clientMessageId) {}

  private final long windowMs;
  private final int capacity;

  /** In the order sends settled, which is the order of their times (the room's clock). */
  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>();

  private long incompleteUntilMs;

  /**
   * @param window how long after a send its retry is recognised
   * @param capacity the most sends remembered; past it the oldest are forgotten early
   * @param incompleteUntilMs until when sends this memory never saw may be retried (the end of the
   *     window that follows a load), or {@link Long#MIN_VALUE} for a room created now
   */
  RecentSends(Duration window, int capacity, long incompleteUntilMs) {
    this.windowMs = window.toMillis();
    this.capacity = capacity;
    this.incompleteUntilMs = incompleteUntilMs;
  }

  /** The answer a send got, if it was acknowledged here within the window. */
  Optional<ChatMessage> acknowledged(Key key) {
    Entry entry = entries.get(key);
    return entry == null ? Optional.empty() : entry.acknowledged();
  }

  /** Whether storing this send failed here: it may still have been stored (a timeout). */
  boolean failed(Key key) {
    Entry entry = entries.get(key);
    return entry != null && entry.acknowledged().isEmpty();
  }

  /** Whether a send this memory does not know may be a retry of one it has forgotten. */
  boolean mayHaveForgotten(long nowMs) {
    return nowMs < incompleteUntilMs;
  }

  void acknowledge(Key key, ChatMessage message, long nowMs) {
    remember(key, new Entry(Optional.of(message), nowMs));
  }

  void fail(Key key, long nowMs) {
    remember(key, new Entry(Optional.empty(), nowMs));
  }

  /** A deleted message: a retry of its send answers without its text, as storage does. */
  void deleted(String messageId) {
    entries.replaceAll(
        (key, entry) ->
            entry
                .acknowledged()
                .filter(m -> m.getMessageId().equals(messageId))
                .map(m -> new Entry(Optional.of(m.toBuilder().setText("").build()), entry.atMs()))
                .orElse(entry));
  }

  int size() {
    return entries.size();
  }

  private void remember(Key key, Entry entry) {
    entries.remove(key); // a retry settled later moves to the end, keeping the time order
    entries.put(key, entry);
    Iterator<Map.Entry<Key, Entry>> oldest = entries.entrySet().iterator();
    while (oldest.hasNext()) {
      Entry first = oldest.next().getValue();
      boolean expired = first.atMs() <= entry.atMs() - windowMs;
      if (!expired && entries.size() <= capacity) {
        break;
      }
      if (!expired) {
        // Forgotten inside its window: until it would have expired, unknown sends are looked up.
        incompleteUntilMs = Math.max(incompleteUntilMs, first.atMs() + windowMs);
      }
      oldest.remove();
    }
  }
}
