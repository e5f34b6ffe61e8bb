package io.watchparty.loadtest;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The report's part on churn, reaction bursts and slow viewers: a table next to the main one
 * (baseline, platform, ratio where both have the figure) and their JSON.
 */
final class SideLoadReport {
  private SideLoadReport() {}

  static void print(PrintStream out, Optional<RunResult> baseline, RunResult platform) {
    SideLoadResult p = platform.sideLoads();
    if (p.churn().isEmpty() && p.reactions().isEmpty() && p.slow().isEmpty()) {
      return;
    }
    List<String[]> rows = new ArrayList<>();
    var table = new Rows(rows, baseline.map(RunResult::sideLoads), p);
    if (p.churn().isPresent()) {
      table.churn(
          "churn: joined / left / offered",
          c -> c.joined() + " / " + c.left() + " / " + c.offered(),
          false);
      table.churn("churn: joins per second", c -> Report.num(c.joinsPerSecond(), 0), true);
      table.churn("churn: join -> snapshot p50 / p99 (ms)", c -> Report.pair(c.join()), true);
      table.churn("churn: join -> snapshot max (ms)", c -> Report.ms(c.join(), "max"), true);
      table.churn(
          "churn: leave -> end of stream p50 / p99 (ms)", c -> Report.pair(c.leave()), true);
      table.churn(
          "churn: failed (gaps / out of order)",
          c -> c.failed() + " (" + c.gaps() + " / " + c.outOfOrder() + ")",
          false);
    }
    if (p.reactions().isPresent()) {
      table.reactions("reactions: sent / accepted", r -> r.sent() + " / " + r.accepted());
      table.reactions(
          "reactions: rate-limited (limiter replayed) / other refusals",
          r -> r.rateLimited() + " (" + r.expectedRateLimited() + ") / " + r.otherRefusals());
      table.reactions(
          "reactions: outcomes unlike the replayed limiter",
          r -> Long.toString(r.limiterDiffering()));
      table.reactions("reactions: Reactions events (windows)", r -> Long.toString(r.events()));
      table.reactions("reactions: delivered / expected", r -> r.delivered() + " / " + r.expected());
      table.reactions(
          "reactions: viewers exact / short resynced / wrong",
          r -> r.viewersExact() + " / " + r.viewersShortResynced() + " / " + r.viewersWrong());
      table.reactions("reactions: send -> ack p50 / p99 (ms)", r -> Report.pair(r.sendToAck()));
      table.reactions(
          "reactions: send -> deliver p50 / p99 (ms)", r -> Report.pair(r.sendToDeliver()));
      table.reactions(
          "reactions: send -> deliver max (ms)", r -> Report.ms(r.sendToDeliver(), "max"));
    }
    if (p.slow().isPresent()) {
      table.slow("slow viewers complete", s -> s.complete() + " of " + s.viewers(), false);
      table.slow(
          "slow: behind / closed / disordered",
          s -> s.behind() + " / " + s.closed() + " / " + (s.gaps() + s.outOfOrder()),
          false);
      table.slow(
          "slow: resynced viewers / resyncs", s -> s.resynced() + " / " + s.resyncs(), false);
      table.slow("slow: command -> viewer p50 / p99 (ms)", s -> Report.pair(s.each()), true);
      table.slow("slow: command -> viewer max (ms)", s -> Report.ms(s.each(), "max"), true);
    }
    out.println();
    Report.printTable(out, rows);
    p.churn()
        .ifPresent(
            c -> c.failures().forEach((why, n) -> out.printf("churn failed: %d x %s%n", n, why)));
  }

  /** Rows of baseline, platform and ratio; "-" where a run did not have the part. */
  private record Rows(
      List<String[]> rows, Optional<SideLoadResult> baseline, SideLoadResult platform) {
    void churn(String name, Function<SideLoadResult.Churn, String> value, boolean ratio) {
      add(name, r -> r.churn().map(value).orElse("-"), ratio);
    }

    void reactions(String name, Function<SideLoadResult.Reactions, String> value) {
      add(name, r -> r.reactions().map(value).orElse("-"), false);
    }

    void slow(String name, Function<SideLoadResult.Slow, String> value, boolean ratio) {
      add(name, r -> r.slow().map(value).orElse("-"), ratio);
    }

    private void add(String name, Function<SideLoadResult, String> value, boolean ratio) {
      String b = baseline.map(value).orElse("-");
      String p = value.apply(platform);
      rows.add(new String[] {name, b, p, ratio ? Report.ratio(b, p) : ""});
    }
  }

  static Map<String, Object> json(SideLoadResult result) {
    Map<String, Object> m = new LinkedHashMap<>();
    result
        .churn()
        .ifPresent(
            c -> {
              Map<String, Object> j = new LinkedHashMap<>();
              j.put("offered", c.offered());
              j.put("joined", c.joined());
              j.put("left", c.left());
              j.put("failed", c.failed());
              j.put("gaps", c.gaps());
              j.put("outOfOrder", c.outOfOrder());
              j.put("joinsPerSecond", c.joinsPerSecond());
              j.put("joinToSnapshotMs", Report.json(c.join()));
              j.put("leaveToEndOfStreamMs", Report.json(c.leave()));
              j.put("failures", c.failures());
              m.put("churn", j);
            });
    result
        .reactions()
        .ifPresent(
            r -> {
              Map<String, Object> j = new LinkedHashMap<>();
              j.put("sent", r.sent());
              j.put("accepted", r.accepted());
              j.put("rateLimited", r.rateLimited());
              j.put("expectedRateLimited", r.expectedRateLimited());
              j.put("limiterDiffering", r.limiterDiffering());
              j.put("otherRefusals", r.otherRefusals());
              j.put("events", r.events());
              j.put("viewers", r.viewers());
              j.put("viewersExact", r.viewersExact());
              j.put("viewersShortResynced", r.viewersShortResynced());
              j.put("viewersWrong", r.viewersWrong());
              j.put("expected", r.expected());
              j.put("delivered", r.delivered());
              j.put("sendToAckMs", Report.json(r.sendToAck()));
              j.put("sendToDeliverMs", Report.json(r.sendToDeliver()));
              m.put("reactions", j);
            });
    result
        .slow()
        .ifPresent(
            s -> {
              Map<String, Object> j = new LinkedHashMap<>();
              j.put("viewers", s.viewers());
              j.put("complete", s.complete());
              j.put("behind", s.behind());
              j.put("closed", s.closed());
              j.put("resynced", s.resynced());
              j.put("resyncs", s.resyncs());
              j.put("gaps", s.gaps());
              j.put("outOfOrder", s.outOfOrder());
              j.put("commandToViewerMs", Report.json(s.each()));
              m.put("slow", j);
            });
    return m;
  }
}
