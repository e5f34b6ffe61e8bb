package io.watchparty.loadtest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * One room of a run: its id, the host's commands (which room sequence each produced and when it was
 * sent) and a check that every viewer received the same bytes for each playback event. Commands are
 * written by the run's thread and read by it after the viewers are done.
 */
final class PartyRoom {
  private final int index;
  private final String roomId;
  private final Map<Long, Long> sentAt = new HashMap<>();
  private final List<Long> commandSequences = new ArrayList<>();
  private final ConcurrentHashMap<Long, Long> frameChecksums = new ConcurrentHashMap<>();
  private final LongAdder differingFrames = new LongAdder();
  private volatile long lastCommandSequence;

  PartyRoom(int index, String roomId) {
    this.index = index;
    this.roomId = roomId;
  }

  int index() {
    return index;
  }

  String roomId() {
    return roomId;
  }

  /**
   * The host's command produced {@code sequence}; it was sent at {@code sentNanos}. Every command
   * counts for completeness, only measured ones (not the warm-up) for latency.
   */
  void commandSent(long sequence, long sentNanos, boolean measured) {
    if (measured) {
      sentAt.put(sequence, sentNanos);
    }
    commandSequences.add(sequence);
    lastCommandSequence = Math.max(lastCommandSequence, sequence);
  }

  /** When the command that produced {@code sequence} was sent, or null if none did. */
  Long sentAt(long sequence) {
    return sentAt.get(sequence);
  }

  long[] commandSequences() {
    return commandSequences.stream().mapToLong(Long::longValue).toArray();
  }

  /** The sequence every viewer must reach: the last command's. */
  long lastCommandSequence() {
    return lastCommandSequence;
  }

  /** Called by viewers: the first checksum seen for a sequence is the reference. */
  void checkFrame(long sequence, byte[] frame) {
    var crc = new CRC32C();
    crc.update(frame);
    Long first = frameChecksums.putIfAbsent(sequence, crc.getValue());
    if (first != null && first != crc.getValue()) {
      differingFrames.increment();
    }
  }

  long differingFrames() {
    return differingFrames.sum();
  }
}
