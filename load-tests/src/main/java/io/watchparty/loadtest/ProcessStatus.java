package io.watchparty.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux says about a process on this machine, from {@code /proc/<pid>/status} and {@code
 * /proc/<pid>/stat}: resident memory (heap, metaspace, thread stacks, direct buffers; not the
 * kernel's socket buffers), OS threads, and CPU time used so far.
 *
 * @param rssBytes resident set size ({@code VmRSS})
 * @param threads OS threads ({@code Threads}; virtual threads are not among them)
 * @param cpuNanos user plus system CPU time of all its threads
 */
record ProcessStatus(long rssBytes, int threads, long cpuNanos) {
  // USER_HZ, the unit of /proc/<pid>/stat times, is 100 on every Linux ABI the JDK runs on.
  private static final long NANOS_PER_TICK = 10_000_000L;

  static ProcessStatus of(long pid) {
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      long rssKb = 0;
      int threads = 0;
      for (String line : Files.readAllLines(proc.resolve("status"))) {
        if (line.startsWith("VmRSS:")) {
          rssKb = Long.parseLong(line.replaceAll("\\D", ""));
        } else if (line.startsWith("Threads:")) {
          threads = Integer.parseInt(line.replaceAll("\\D", ""));
        }
      }
      // Fields after the command name, which is in parentheses and may hold spaces: utime and
      // stime are the 14th and 15th fields of the whole line.
      String stat = Files.readString(proc.resolve("stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      return new ProcessStatus(rssKb * 1024, threads, ticks * NANOS_PER_TICK);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + proc + " (is " + pid + " running?)", e);
    }
  }
}
