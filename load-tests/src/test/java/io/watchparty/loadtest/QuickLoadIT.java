package io.watchparty.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.bridge.Platform;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The load generator's quick mode, in the test suite: a few hundred gRPC viewers and a hundred SSE
 * tabs in two rooms of the real platform (server, bridge, Cassandra node), three simulated players
 * on the client library, a little churn, two slow viewers and two reaction bursts, and the same
 * gRPC scenario (without the reactions) against the bare baseline, and the tabs (with the gRPC
 * viewers and chat) against the bare SSE baseline, for a few seconds. It checks what must hold on
 * any machine: every viewer and tab got every event exactly once and in order, churn broke nothing,
 * every accepted reaction reached every viewer, and the report is written. Timings are printed,
 * never asserted.
 */
class QuickLoadIT {
  private static final int VIEWERS = 300;
  private static final int TABS = 100;
  private static final int COMMANDS = 12;
  private static final int REACTORS = 50;

  @RegisterExtension static final Platform platform = Platform.builder().build();

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
            // 20 joins a second over the 1.2 s window, each staying 300 ms.
            "--churn-rate",
            "20",
            "--churn-stay-ms",
            "300",
            "--slow",
            "2",
            "--slow-read-ms",
            "5",
            // Two bursts of 3 reactions from each of 50 viewers: 6 per user, within the server's
            // default burst of 10, so the limiter refuses none.
            "--reaction-bursts",
            "2",
            "--reactors",
            Integer.toString(REACTORS),
            "--reactions-each",
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

      SideLoadResult.Churn churn = run.sideLoads().churn().orElseThrow();
      assertThat(churn.offered()).as(run.target() + ": churners").isEqualTo(24);
      assertThat(churn.joined()).isEqualTo(churn.offered());
      assertThat(churn.left()).isEqualTo(churn.offered());
      assertThat(churn.failures()).isEmpty();
      assertThat(churn.join().getTotalCount()).isEqualTo(churn.offered());
      SideLoadResult.Slow slow = run.sideLoads().slow().orElseThrow();
      assertThat(slow.complete()).as(run.target() + ": slow viewers complete").isEqualTo(2);
    }
    assertThat(report.baseline().get().sideLoads().reactions()).isEmpty();
    SideLoadResult.Reactions reactions = report.platform().sideLoads().reactions().orElseThrow();
    assertThat(reactions.sent()).isEqualTo(2L * REACTORS * 3);
    assertThat(reactions.expectedRateLimited()).isZero();
    assertThat(reactions.rateLimited()).isZero();
    assertThat(reactions.limiterDiffering()).isZero();
    assertThat(reactions.otherRefusals()).isEmpty();
    assertThat(reactions.accepted()).isEqualTo(reactions.sent());
    // Every reader got, in its room's Reactions events, exactly the reactions its room accepted.
    assertThat(reactions.viewers()).isEqualTo(VIEWERS);
    assertThat(reactions.viewersExact()).isEqualTo(VIEWERS);
    assertThat(reactions.delivered()).isEqualTo(reactions.expected());
    assertThat(reactions.expected()).isEqualTo((long) (VIEWERS / 2) * reactions.accepted());
    assertThat(reactions.events()).isPositive();
    assertThat(report.baseline().get().sync()).isEmpty();
    assertThat(report.platform().sync())
        .hasValueSatisfying(s -> assertThat(s.players()).isEqualTo(3));
    assertThat(report.baseline().get().sse()).isEmpty();
    RunResult bareSse = report.sseBaseline().orElseThrow();
    assertThat(bareSse.errors()).as("SSE baseline errors").isEmpty();
    assertThat(bareSse.grpc().complete()).isEqualTo(VIEWERS);
    assertThat(bareSse.sideLoads().churn()).isEmpty();
    for (RunResult run : new RunResult[] {bareSse, report.platform()}) {
      RunResult.Sse sse = run.sse().orElseThrow();
      assertThat(sse.streaming()).as(run.target() + ": tabs streaming").isEqualTo(TABS);
      assertThat(sse.completeness().complete()).as(run.target()).isEqualTo(TABS);
      assertThat(sse.completeness().missing()).isZero();
      assertThat(sse.completeness().duplicates()).isZero();
      assertThat(sse.completeness().failures()).isEmpty();
      assertThat(sse.each().getTotalCount()).isEqualTo((long) TABS * COMMANDS);
      assertThat(sse.last().getTotalCount()).isEqualTo(2L * COMMANDS);
    }
    assertThat(report.complete()).isTrue();
    assertThat(out.resolve("report.json")).isNotEmptyFile();
    assertThat(out.resolve("latency-percentiles.png")).isNotEmptyFile();
    assertThat(out.resolve("throughput.png")).isNotEmptyFile();
  }
}
