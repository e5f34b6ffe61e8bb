package io.watchparty.loadtest;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.HdrHistogram.Histogram;

/**
 * The outcome of a load run: the platform's figures next to the baseline's and as ratios to it, as
 * a table for people and as JSON with every figure for programs; with SSE tabs, the bridge's
 * figures next to the bare SSE fan-out's likewise. Ratios compare runs made one after the other on
 * the same machine, which is what makes them steadier than absolute times.
 */
final class Report {
  private final Map<String, Object> environment;
  private final Scenario scenario;
  private final Optional<RunResult> baseline;
  private final Optional<RunResult> sseBaseline;
  private final RunResult platform;

  Report(
      Map<String, Object> environment,
      Scenario scenario,
      Optional<RunResult> baseline,
      Optional<RunResult> sseBaseline,
      RunResult platform) {
    this.environment = environment;
    this.scenario = scenario;
    this.baseline = baseline;
    this.sseBaseline = sseBaseline;
    this.platform = platform;
  }

  Optional<RunResult> baseline() {
    return baseline;
  }

  /** The SSE tabs' run against the bare Helidon SSE fan-out, when the scenario had tabs. */
  Optional<RunResult> sseBaseline() {
    return sseBaseline;
  }

  RunResult platform() {
    return platform;
  }

  /** Whether every viewer and tab of every run got every event in order (or a resync). */
  boolean complete() {
    return runs().stream().allMatch(RunResult::complete);
  }

  // ---- the table ----

  void print(PrintStream out) {
    out.printf(
        Locale.ROOT,
        "%n%s%n%d room(s), %d gRPC viewers (+%d stalled) on %d connections, %d SSE tabs, %d"
            + " commands per room every %d ms, chat %.0f msg/s; load average %s%n%n",
        "=== WatchParty load run ===",
        scenario.rooms(),
        scenario.viewers(),
        scenario.stalled(),
        scenario.channels(),
        scenario.sseViewers(),
        scenario.commands(),
        scenario.intervalMs(),
        scenario.chatRate(),
        environment.get("loadAverage"));
    List<String[]> rows = new ArrayList<>();
    row(rows, "joins per second", r -> num(r.grpc().viewers() / r.joinSeconds(), 0), true);
    row(rows, "measured window (s)", r -> num(r.seconds(), 1), false);
    row(rows, "deliveries", r -> Long.toString(r.deliveries()), false);
    row(rows, "deliveries per second", r -> num(r.deliveriesPerSecond(), 0), true);
    for (String p : List.of("p50", "p99", "p99.9", "max")) {
      row(rows, "command -> each viewer " + p + " (ms)", r -> ms(r.each(), p), true);
    }
    for (String p : List.of("p50", "p99", "p99.9", "max")) {
      row(rows, "command -> last viewer " + p + " (ms)", r -> ms(r.last(), p), true);
    }
    for (String p : List.of("p50", "p99", "p99.9", "max")) {
      row(
          rows,
          "server fan-out " + p + " (ms)",
          r -> r.fanOut().map(h -> ms(h, p)).orElse("-"),
          false);
    }
    row(
        rows,
        "server CPU per delivery (us)",
        r -> micros(r.cpu().serverNanos(), r.deliveries()),
        true);
    row(
        rows,
        "Cassandra CPU per delivery (us)",
        r -> micros(r.cpu().cassandraNanos(), r.deliveries()),
        false);
    row(
        rows,
        "generator CPU per message (us)",
        r -> micros(r.cpu().generatorNanos(), r.deliveries() + r.sseDeliveries()),
        false);
    row(
        rows,
        "chat sent / acknowledged",
        r -> r.chat().sent() + " / " + r.chat().acknowledged(),
        false);
    row(
        rows,
        "chat acknowledged per second",
        r -> num(r.chat().acknowledged() / r.seconds(), 0),
        false);
    row(rows, "chat send -> ack p50 / p99 (ms)", r -> pair(r.chat().sendToAck()), true);
    row(rows, "chat send -> deliver p50 / p99 (ms)", r -> pair(r.chat().sendToDeliver()), true);
    row(rows, "viewers complete", r -> r.grpc().complete() + " of " + r.grpc().viewers(), false);
    row(
        rows,
        "not joined / closed / behind / disordered",
        r ->
            r.grpc().notJoined()
                + " / "
                + r.grpc().closed()
                + " / "
                + r.grpc().behind()
                + " / "
                + r.grpc().disordered(),
        false);
    row(rows, "resyncs (snapshots)", r -> Long.toString(r.grpc().resyncs()), false);
    row(
        rows,
        "frames differing between viewers",
        r -> Long.toString(r.grpc().differingFrames()),
        false);
    row(
        rows,
        "stalled viewers joined",
        r -> r.grpc().stalledJoined() + " of " + r.grpc().stalled(),
        false);
    row(
        rows,
        "player sync error p50 / p95 / p99 (ms)",
        r -> r.sync().map(s -> syncFigures(s.errorMicros())).orElse("-"),
        false);
    row(rows, "server heap per stream (KB)", r -> kb(r.memory().serverHeapPerStream()), true);
    row(rows, "server RSS per stream (KB)", r -> kb(r.memory().serverRssPerStream()), true);
    printTable(out, rows);

    platform.sse().ifPresent(sse -> printSse(out));
    platform
        .sse()
        .ifPresent(
            sse -> {
              out.printf(
                  Locale.ROOT,
                  "%nSSE through the bridge: %d of %d tabs streaming after %.1f s; %s%n",
                  sse.streaming(),
                  sse.completeness().tabs(),
                  sse.connectSeconds(),
                  "events " + platform.sseDeliveries());
              out.printf(
                  Locale.ROOT,
                  "  command -> each tab p50 / p99 / p99.9 / max: %s / %s / %s / %s ms%n",
                  ms(sse.each(), "p50"),
                  ms(sse.each(), "p99"),
                  ms(sse.each(), "p99.9"),
                  ms(sse.each(), "max"));
              out.printf(
                  Locale.ROOT,
                  "  command -> last tab p50 / p99 / max: %s / %s / %s ms%n",
                  ms(sse.last(), "p50"),
                  ms(sse.last(), "p99"),
                  ms(sse.last(), "max"));
              var c = sse.completeness();
              out.printf(
                  Locale.ROOT,
                  "  complete %d of %d; missing %d (%d tabs), duplicate or out of order %d,"
                      + " resyncs %d; bridge CPU per event %s us%n",
                  c.complete(),
                  c.tabs(),
                  c.missing(),
                  c.tabsMissing(),
                  c.duplicates(),
                  c.resyncs(),
                  micros(platform.cpu().bridgeNanos(), platform.sseDeliveries()));
              out.printf(
                  Locale.ROOT,
                  "  per idle tab: bridge heap %s KB, bridge RSS %s KB, server heap %s KB%n",
                  kb(platform.memory().bridgeHeapPerStream()),
                  kb(platform.memory().bridgeRssPerStream()),
                  kb(platform.memory().serverHeapPerSseTab()));
              c.failures().forEach((why, n) -> out.printf("  tab failed: %d x %s%n", n, why));
            });
    SideLoadReport.print(out, baseline, platform);
    for (RunResult r : runs()) {
      r.errors().forEach((kind, n) -> out.printf("%s error: %d x %s%n", r.target(), n, kind));
    }
    out.printf("%nevery viewer got every event in order (or a resync): %s%n", complete());
  }

  private List<RunResult> runs() {
    List<RunResult> runs = new ArrayList<>();
    baseline.ifPresent(runs::add);
    sseBaseline.ifPresent(runs::add);
    runs.add(platform);
    return runs;
  }

  /** The tabs' figures: the bare SSE fan-out's, the bridge's, and their ratio. */
  private void printSse(PrintStream out) {
    out.printf("%nSSE tabs: bare Helidon SSE fan-out (its own JVM) and the web bridge%n");
    List<String[]> rows = new ArrayList<>();
    sseRow(rows, "tabs streaming", r -> Long.toString(sse(r).streaming()), false);
    sseRow(rows, "all streaming after (s)", r -> num(sse(r).connectSeconds(), 1), false);
    sseRow(rows, "measured window (s)", r -> num(r.seconds(), 1), false);
    sseRow(rows, "events delivered", r -> Long.toString(r.sseDeliveries()), false);
    sseRow(rows, "events per second", r -> num(r.sseDeliveries() / r.seconds(), 0), true);
    for (String p : List.of("p50", "p99", "p99.9", "max")) {
      sseRow(rows, "command -> each tab " + p + " (ms)", r -> ms(sse(r).each(), p), true);
    }
    for (String p : List.of("p50", "p99", "max")) {
      sseRow(rows, "command -> last tab " + p + " (ms)", r -> ms(sse(r).last(), p), true);
    }
    sseRow(
        rows,
        "CPU per SSE event (us)",
        r -> micros(r.cpu().bridgeNanos(), r.sseDeliveries()),
        true);
    sseRow(
        rows,
        "generator CPU per message (us)",
        r -> micros(r.cpu().generatorNanos(), r.deliveries() + r.sseDeliveries()),
        false);
    sseRow(rows, "heap per idle tab (KB)", r -> kb(r.memory().bridgeHeapPerStream()), true);
    sseRow(rows, "RSS per idle tab (KB)", r -> kb(r.memory().bridgeRssPerStream()), true);
    sseRow(
        rows,
        "tabs complete",
        r -> sse(r).completeness().complete() + " of " + sse(r).completeness().tabs(),
        false);
    sseRow(rows, "tab resyncs", r -> Long.toString(sse(r).completeness().resyncs()), false);
    printTable(out, rows, "bare SSE", "bridge");
  }

  private static RunResult.Sse sse(RunResult r) {
    return r.sse().orElseThrow();
  }

  private void sseRow(
      List<String[]> rows, String name, Function<RunResult, String> value, boolean ratio) {
    Optional<RunResult> bare = sseBaseline.filter(b -> b.sse().isPresent());
    String b = bare.map(value).orElse("-");
    String p = value.apply(platform);
    String x = ratio && bare.isPresent() ? ratio(b, p) : "";
    rows.add(new String[] {name, b, p, x});
  }

  private void row(
      List<String[]> rows, String name, Function<RunResult, String> value, boolean ratio) {
    String b = baseline.map(value).orElse("-");
    String p = value.apply(platform);
    String x = ratio && baseline.isPresent() ? ratio(b, p) : "";
    rows.add(new String[] {name, b, p, x});
  }

  static String ratio(String baseline, String platform) {
    try {
      double b = Double.parseDouble(baseline.split(" ")[0]);
      double p = Double.parseDouble(platform.split(" ")[0]);
      return b > 0 ? num(p / b, 2) + "x" : "";
    } catch (NumberFormatException e) {
      return "";
    }
  }

  static void printTable(PrintStream out, List<String[]> rows) {
    printTable(out, rows, "baseline", "platform");
  }

  static void printTable(PrintStream out, List<String[]> rows, String first, String second) {
    int[] widths = {6, 8, 8, 5};
    rows.add(0, new String[] {"", first, second, "ratio"});
    for (String[] r : rows) {
      for (int i = 0; i < 4; i++) {
        widths[i] = Math.max(widths[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      out.printf(
          "%-" + widths[0] + "s  %" + widths[1] + "s  %" + widths[2] + "s  %" + widths[3] + "s%n",
          r[0],
          r[1],
          r[2],
          r[3]);
    }
  }

  static String ms(Histogram h, String percentile) {
    if (h.getTotalCount() == 0) {
      return "-";
    }
    long micros =
        switch (percentile) {
          case "max" -> h.getMaxValue();
          case "p50" -> h.getValueAtPercentile(50);
          case "p99" -> h.getValueAtPercentile(99);
          case "p99.9" -> h.getValueAtPercentile(99.9);
          default -> throw new IllegalArgumentException(percentile);
        };
    return num(micros / 1000.0, 1);
  }

  private static String syncFigures(Histogram h) {
    return h.getTotalCount() == 0
        ? "-"
        : num(h.getValueAtPercentile(50) / 1e3, 1)
            + " / "
            + num(h.getValueAtPercentile(95) / 1e3, 1)
            + " / "
            + num(h.getValueAtPercentile(99) / 1e3, 1);
  }

  static String pair(Histogram h) {
    return h.getTotalCount() == 0 ? "-" : ms(h, "p50") + " / " + ms(h, "p99");
  }

  private static String micros(long nanos, long count) {
    return nanos < 0 || count == 0 ? "-" : num(nanos / 1e3 / count, 2);
  }

  static String kb(double bytes) {
    return bytes < 0 ? "-" : num(bytes / 1e3, 1);
  }

  static String num(double value, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", value);
  }

  // ---- JSON ----

  void writeJson(Path file) throws IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("environment", environment);
    root.put("scenario", scenario);
    baseline.ifPresent(b -> root.put("baseline", json(b)));
    sseBaseline.ifPresent(b -> root.put("sseBaseline", json(b)));
    root.put("platform", json(platform));
    baseline.ifPresent(b -> root.put("ratios", ratios(b, platform)));
    sseBaseline
        .filter(b -> b.sse().isPresent() && platform.sse().isPresent())
        .ifPresent(b -> root.put("sseRatios", sseRatios(b, platform)));
    root.put("complete", complete());
    Files.writeString(
        file,
        new GsonBuilder()
            .setPrettyPrinting()
            .serializeSpecialFloatingPointValues()
            .create()
            .toJson(root),
        StandardCharsets.UTF_8);
  }

  private static Map<String, Object> ratios(RunResult b, RunResult p) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("deliveriesPerSecond", p.deliveriesPerSecond() / b.deliveriesPerSecond());
    r.put("eachViewerP99", p99(p.each()) / p99(b.each()));
    r.put(
        "eachViewerP999",
        (double) p.each().getValueAtPercentile(99.9) / b.each().getValueAtPercentile(99.9));
    r.put("lastViewerP99", p99(p.last()) / p99(b.last()));
    if (b.cpu().serverNanos() > 0 && p.cpu().serverNanos() > 0) {
      r.put(
          "serverCpuPerDelivery",
          (p.cpu().serverNanos() / (double) p.deliveries())
              / (b.cpu().serverNanos() / (double) b.deliveries()));
    }
    return r;
  }

  /** The bridge's SSE figures as ratios to the bare SSE fan-out's. */
  private static Map<String, Object> sseRatios(RunResult b, RunResult p) {
    RunResult.Sse bare = b.sse().orElseThrow();
    RunResult.Sse bridge = p.sse().orElseThrow();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put(
        "eachTabP50",
        (double) bridge.each().getValueAtPercentile(50) / bare.each().getValueAtPercentile(50));
    r.put("eachTabP99", p99(bridge.each()) / p99(bare.each()));
    r.put("lastTabP99", p99(bridge.last()) / p99(bare.last()));
    if (b.cpu().bridgeNanos() > 0 && p.cpu().bridgeNanos() > 0) {
      r.put(
          "cpuPerSseEvent",
          (p.cpu().bridgeNanos() / (double) p.sseDeliveries())
              / (b.cpu().bridgeNanos() / (double) b.sseDeliveries()));
    }
    if (b.memory().bridgeHeapPerStream() > 0 && p.memory().bridgeHeapPerStream() > 0) {
      r.put("heapPerTab", p.memory().bridgeHeapPerStream() / b.memory().bridgeHeapPerStream());
    }
    return r;
  }

  private static double p99(Histogram h) {
    return h.getValueAtPercentile(99);
  }

  private static Map<String, Object> json(RunResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("target", r.target());
    m.put("joinSeconds", r.joinSeconds());
    m.put("joinsPerSecond", r.grpc().viewers() / r.joinSeconds());
    m.put("windowSeconds", r.seconds());
    m.put("deliveries", r.deliveries());
    m.put("deliveriesPerSecond", r.deliveriesPerSecond());
    m.put("commandToEachViewerMs", json(r.each()));
    m.put("commandToLastViewerMs", json(r.last()));
    r.fanOut().ifPresent(h -> m.put("serverFanOutMs", json(h)));
    Map<String, Object> chat = new LinkedHashMap<>();
    chat.put("sent", r.chat().sent());
    chat.put("acknowledged", r.chat().acknowledged());
    chat.put("acknowledgedPerSecond", r.chat().acknowledged() / r.seconds());
    chat.put("sendToAckMs", json(r.chat().sendToAck()));
    chat.put("sendToDeliverMs", json(r.chat().sendToDeliver()));
    m.put("chat", chat);
    Map<String, Object> cpu = new LinkedHashMap<>();
    cpu.put("generatorNanos", r.cpu().generatorNanos());
    cpu.put("serverNanos", r.cpu().serverNanos());
    cpu.put("bridgeNanos", r.cpu().bridgeNanos());
    cpu.put("cassandraNanos", r.cpu().cassandraNanos());
    cpu.put(
        "generatorMicrosPerMessage",
        perMessage(r.cpu().generatorNanos(), r.deliveries() + r.sseDeliveries()));
    cpu.put("serverMicrosPerDelivery", perMessage(r.cpu().serverNanos(), r.deliveries()));
    cpu.put("cassandraMicrosPerDelivery", perMessage(r.cpu().cassandraNanos(), r.deliveries()));
    cpu.put("bridgeMicrosPerSseEvent", perMessage(r.cpu().bridgeNanos(), r.sseDeliveries()));
    m.put("cpu", cpu);
    m.put("grpcCompleteness", r.grpc());
    r.sse()
        .ifPresent(
            sse -> {
              Map<String, Object> s = new LinkedHashMap<>();
              s.put("streaming", sse.streaming());
              s.put("connectSeconds", sse.connectSeconds());
              s.put("events", r.sseDeliveries());
              s.put("commandToEachTabMs", json(sse.each()));
              s.put("commandToLastTabMs", json(sse.last()));
              s.put("completeness", sse.completeness());
              m.put("sse", s);
            });
    r.sync()
        .ifPresent(
            sync -> {
              Map<String, Object> s = new LinkedHashMap<>();
              s.put("players", sync.players());
              s.put("errorMs", json(sync.errorMicros()));
              s.put("p95", sync.errorMicros().getValueAtPercentile(95) / 1e3);
              s.put("timeline", sync.timeline());
              m.put("playerSync", s);
            });
    m.put("memory", r.memory());
    m.put("sideLoads", SideLoadReport.json(r.sideLoads()));
    m.put("errors", r.errors());
    m.put("timeline", r.timeline());
    return m;
  }

  private static double perMessage(long nanos, long count) {
    return nanos < 0 || count == 0 ? -1 : nanos / 1e3 / count;
  }

  static Map<String, Object> json(Histogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", h.getTotalCount());
    if (h.getTotalCount() > 0) {
      m.put("p50", h.getValueAtPercentile(50) / 1e3);
      m.put("p90", h.getValueAtPercentile(90) / 1e3);
      m.put("p99", h.getValueAtPercentile(99) / 1e3);
      m.put("p99_9", h.getValueAtPercentile(99.9) / 1e3);
      m.put("max", h.getMaxValue() / 1e3);
      m.put("mean", h.getMean() / 1e3);
    }
    return m;
  }
}
