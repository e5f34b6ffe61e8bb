package io.watchparty.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.watchparty.bridge.Platform;
import io.watchparty.server.testing.CassandraExtension;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The load generator's quick mode, in the test suite: a few hundred gRPC viewers and a hundred SSE
 * tabs in two rooms of the real platform (server, bridge, Cassandra node), three simulated players
 * on the client library, and the same gRPC scenario against the bare baseline, for a few seconds.
 * It checks what must hold on any machine: every viewer got every event exactly once and in order,
 * and the report is written. Timings are printed, never asserted.
 */
@ExtendWith(CassandraExtension.class)
class QuickLoadIT {
  private static final int VIEWERS = 300;
  private static final int TABS = 100;
  private static final int COMMANDS = 12;

  private static Platform platform;

  @BeforeAll
  static void start(CqlSession session) {
    platform = Platform.start(session);
  }

  @AfterAll
  static void stop() {
    platform.close();
  }

  @Test
  void everyViewerOfBothTargetsGetsEveryEventInOrderAndTheReportIsWritten(@TempDir Path out)
      throws Exception {
    var load = new PartyLoad();
    new CommandLine(load)
        .parseArgs(
            "--target",
            "127.0.0.1:" + platform.server().port(),
            "--bridge",
            platform.bridge().uri().getAuthority(),
            "--secret",
            Platform.SECRET,
            "--rooms",
            "2",
            "--viewers",
            Integer.toString(VIEWERS),
            "--stalled",
            "4",
            "--sse-viewers",
            Integer.toString(TABS),
            "--warm-up-commands",
            "4",
            "--commands",
            Integer.toString(COMMANDS),
            "--interval-ms",
            "100",
            // Ten chatters at one message a second each: the server's default per-user rate.
            "--chat-rate",
            "10",
            "--players",
            "3",
            "--out",
            out.toString());

    Report report = load.measure();

    assertThat(report.baseline()).isPresent();
    for (RunResult run : new RunResult[] {report.baseline().get(), report.platform()}) {
      assertThat(run.errors()).as(run.target() + " errors").isEmpty();
      RunResult.GrpcCompleteness grpc = run.grpc();
      assertThat(grpc.viewers()).isEqualTo(VIEWERS);
      assertThat(grpc.complete()).as(run.target() + ": complete viewers").isEqualTo(VIEWERS);
      assertThat(grpc.gaps()).isZero();
      assertThat(grpc.outOfOrder()).isZero();
      assertThat(grpc.differingFrames()).isZero();
      assertThat(grpc.stalledJoined()).isEqualTo(4);
      // Nobody fell behind, so every measured command reached every reader as an event.
      assertThat(run.each().getTotalCount()).isEqualTo((long) VIEWERS * COMMANDS);
      assertThat(run.last().getTotalCount()).isEqualTo(2L * COMMANDS);
      assertThat(run.chat().acknowledged()).isEqualTo(run.chat().sent()).isPositive();
      assertThat(run.chat().sendToDeliver().getTotalCount()).isPositive();
    }
    assertThat(report.baseline().get().sync()).isEmpty();
    assertThat(report.platform().sync())
        .hasValueSatisfying(s -> assertThat(s.players()).isEqualTo(3));
    RunResult.Sse sse = report.platform().sse().orElseThrow();
    assertThat(sse.streaming()).isEqualTo(TABS);
    assertThat(sse.completeness().complete()).isEqualTo(TABS);
    assertThat(sse.completeness().missing()).isZero();
    assertThat(sse.completeness().duplicates()).isZero();
    assertThat(sse.each().getTotalCount()).isEqualTo((long) TABS * COMMANDS);
    assertThat(report.complete()).isTrue();
    assertThat(out.resolve("report.json")).isNotEmptyFile();
    assertThat(out.resolve("latency-percentiles.png")).isNotEmptyFile();
    assertThat(out.resolve("throughput.png")).isNotEmptyFile();
  }
}
