package io.watchparty.loadtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A {@link BaselineServer} in a child JVM on a free loopback port, with this JVM's classpath. A
 * separate JVM rather than one inside the generator: its CPU time (from {@code /proc/<pid>/stat})
 * and heap are then its own, measured exactly as the platform server's are, and its GC and JIT do
 * not share a process with the viewers it is measured by.
 */
final class BaselineProcess implements AutoCloseable {
  private final Process process;
  private final BufferedReader output;
  private final int port;
  private final int ssePort;

  private BaselineProcess(Process process, BufferedReader output, int port, int ssePort) {
    this.process = process;
    this.output = output;
    this.port = port;
    this.ssePort = ssePort;
  }

  /**
   * Starts the baseline and waits until it serves; it exits by itself after {@code maxSeconds}.
   *
   * @param sse whether it also serves SSE tabs as the web bridge does ({@link BareSse})
   */
  static BaselineProcess start(String heap, long maxSeconds, boolean sse) throws IOException {
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    List<String> command = new ArrayList<>();
    command.add(java.toString());
    command.add("-Xmx" + heap);
    command.add("-XX:+UseG1GC");
    if (Runtime.version().feature() >= 24) {
      // Netty's Unsafe and native access, allowed as ./watchparty allows them for the platform.
      command.add("--sun-misc-unsafe-memory-access=allow");
      command.add("--enable-native-access=ALL-UNNAMED");
    }
    // It logs nothing; on a test classpath logback would otherwise print its status at start.
    command.add("-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(BaselineServer.class.getName());
    command.add("0");
    command.add(Long.toString(maxSeconds));
    if (sse) {
      command.add("sse");
    }
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    var output =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    // Other lines may come first (a logging library's status on a test classpath, say).
    String line;
    while ((line = output.readLine()) != null && !line.startsWith("listening ")) {
      // Not ours.
    }
    if (line == null) {
      process.destroyForcibly();
      throw new IOException("the baseline server ended before it served (see its output above)");
    }
    String[] ports = line.substring(10).trim().split(" ");
    return new BaselineProcess(
        process,
        output,
        Integer.parseInt(ports[0]),
        ports.length > 1 ? Integer.parseInt(ports[1]) : -1);
  }

  int port() {
    return port;
  }

  /** The port of its SSE tabs, -1 when started without. */
  int ssePort() {
    return ssePort;
  }

  long pid() {
    return process.pid();
  }

  /**
   * Stops the baseline (by closing its standard input) and returns its server-side fan-out times:
   * command received to the last frame handed to gRPC, in microseconds.
   */
  Optional<Histogram> stop() throws IOException, InterruptedException {
    process.getOutputStream().close();
    Optional<Histogram> fanOut = Optional.empty();
    for (String line; (line = output.readLine()) != null; ) {
      if (line.startsWith("fan-out ")) {
        byte[] encoded = Base64.getDecoder().decode(line.substring(8).trim());
        try {
          fanOut =
              Optional.of(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(encoded), 0));
        } catch (java.util.zip.DataFormatException e) {
          throw new IOException("the baseline printed an unreadable histogram", e);
        }
      }
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    return fanOut;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
