package io.watchparty.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live heap of a JVM on this machine, measured with the JDK's {@code jcmd}: a full GC first,
 * then the heap's used size, so that what remains is what the server holds on to.
 */
final class ServerHeap {
  private static final Pattern USED = Pattern.compile("used (\\d+)K");

  private ServerHeap() {}

  static long liveBytes(long pid) {
    run(pid, "GC.run");
    Matcher used = USED.matcher(run(pid, "GC.heap_info"));
    if (!used.find()) {
      throw new IllegalStateException("jcmd GC.heap_info printed no heap usage for pid " + pid);
    }
    return Long.parseLong(used.group(1)) * 1024;
  }

  private static String run(long pid, String command) {
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    Path jcmd = java.resolveSibling("jcmd");
    try {
      Process process =
          new ProcessBuilder(jcmd.toString(), Long.toString(pid), command)
              .redirectErrorStream(true)
              .start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("jcmd " + pid + " " + command + " failed: " + output);
      }
      return output;
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + jcmd + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running jcmd", e);
    }
  }
}
