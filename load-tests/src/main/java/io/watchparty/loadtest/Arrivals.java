package io.watchparty.loadtest;

import java.util.Arrays;

/**
 * When events arrived: (room sequence, {@link System#nanoTime()}) pairs in two growable primitive
 * arrays, so that a million arrivals cost 16 MB and no boxing. Each is written by one thread at a
 * time (an event loop, or the transport callbacks of one gRPC stream) and read once that has
 * stopped, or has said through a volatile write that it is done.
 */
final class Arrivals {
  private long[] sequences;
  private long[] nanos;
  private int size;

  Arrivals(int capacity) {
    sequences = new long[capacity];
    nanos = new long[capacity];
  }

  void add(long sequence, long at) {
    if (size == sequences.length) {
      sequences = Arrays.copyOf(sequences, size * 2);
      nanos = Arrays.copyOf(nanos, size * 2);
    }
    sequences[size] = sequence;
    nanos[size] = at;
    size++;
  }

  int size() {
    return size;
  }

  long sequence(int i) {
    return sequences[i];
  }

  long nanos(int i) {
    return nanos[i];
  }
}
