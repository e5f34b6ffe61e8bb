package io.watchparty.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./watchparty up} (at the project root) refuses what it cannot run with in one sentence and
 * a non-zero exit, before it builds anything: a setting that is not a port, and a port in use (a
 * WatchParty already running, say). The refusals come before the build, so each run takes a moment;
 * a run that started building would fail the test by what it printed.
 */
class WatchpartyUpScriptTest {
  private static final Path SCRIPT = Path.of("..", "watchparty").toAbsolutePath().normalize();

  @TempDir Path temp;

  @Test
  void refusesAPortSettingThatIsNotANumberBeforeBuilding() throws Exception {
    Result up = up(Map.of("WATCHPARTY_GRPC_PORT", "abc"));

    assertThat(up.exit()).isEqualTo(1);
    assertThat(up.stderr())
        .isEqualTo("watchparty: WATCHPARTY_GRPC_PORT=abc is not a port number (1-65535).\n");
    assertThat(up.stdout()).isEmpty();
  }

  @Test
  void refusesAPortInUseAsASecondInstanceBeforeBuilding() throws Exception {
    try (ServerSocket running = new ServerSocket()) {
      running.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = running.getLocalPort();

      Result up = up(Map.of("WATCHPARTY_BRIDGE_PORT", Integer.toString(port)));

      assertThat(up.exit()).isEqualTo(1);
      assertThat(up.stderr())
          .isEqualTo(
              ("watchparty: port %d (WATCHPARTY_BRIDGE_PORT) is already in use: is WatchParty"
                      + " already running? Stop it (Ctrl-C where it runs) or set"
                      + " WATCHPARTY_BRIDGE_PORT to a free port.%n")
                  .formatted(port));
      assertThat(up.stdout()).isEmpty();
    }
  }

  private record Result(int exit, String stdout, String stderr) {}

  /** Runs {@code ./watchparty up} with free ports, except for {@code settings}. */
  private Result up(Map<String, String> settings) throws IOException, InterruptedException {
    Path out = temp.resolve("stdout");
    Path err = temp.resolve("stderr");
    ProcessBuilder builder =
        new ProcessBuilder(SCRIPT.toString(), "up")
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    Map<String, String> env = builder.environment();
    env.put("WATCHPARTY_GRPC_PORT", Integer.toString(freePort()));
    env.put("WATCHPARTY_BRIDGE_PORT", Integer.toString(freePort()));
    env.put("WATCHPARTY_OBSERVE_PORT", Integer.toString(freePort()));
    env.putAll(settings);
    Process process = builder.start();
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly); // a build it started
      process.destroyForcibly();
      throw new AssertionError("./watchparty up did not stop within 2 minutes: it went on");
    }
    return new Result(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
