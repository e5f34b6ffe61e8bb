package io.watchparty.loadtest;

import java.util.Arrays;

/**
 * When events arrived: (room sequence, {@link System#nanoTime()}) pairs in two growable primitive
 * arrays, so that a million arrivals cost 16 MB and no boxing. One per event loop, written only by
 * its thread; read after that thread has stopped.
 */
final class Arrivals {
  private long[] sequences = new long[1024];
  private long[] nanos = new long[1024];
  private int size;

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
