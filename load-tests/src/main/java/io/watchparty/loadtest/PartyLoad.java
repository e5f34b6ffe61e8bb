package io.watchparty.loadtest;

import com.sun.management.UnixOperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Large public parties against a local WatchParty, measured next to a bare grpc-java fan-out of the
 * same scenario in the same run. First the {@link BaselineServer} (its own JVM) gets the scenario's
 * rooms, gRPC viewers, stalled viewers, host commands and chat; with SSE tabs, a second baseline
 * JVM gets them too, served by a bare Helidon SSE fan-out of the bridge's bytes ({@link BareSse});
 * then the platform gets the same, with the tabs through the web bridge. Reports latency (host
 * command to each viewer and to the last viewer), deliveries per second, chat send-to-acknowledge
 * and send-to-deliver, CPU per delivery of every process given and of the generator itself, and
 * whether every viewer got every event in order; the platform's figures also as ratios to the
 * baseline's, the bridge's to the bare SSE fan-out's. With {@code --out}, writes the JSON and the
 * pictures there.
 *
 * <p>Loopback only, bounded in viewers, commands and time; it stops by itself. Exit status 0 when
 * every viewer of every run got every event in order (or a resync), 1 otherwise.
 */
@CommandLine.Command(
    name = "party-load",
    mixinStandardHelpOptions = true,
    description =
        "Simulates large watch parties against a local WatchParty and a bare gRPC baseline.")
public final class PartyLoad implements Callable<Integer> {
  @Option(
      names = "--target",
      defaultValue = "127.0.0.1:50051",
      description = "gRPC server (loopback only)")
  String target;

  @Option(
      names = "--bridge",
      description = "web bridge host:port (loopback only), for --sse-viewers")
  String bridge;

  @Option(
      names = "--secret",
      required = true,
      description = "the server's watchparty.auth.secret, to sign the synthetic users' tokens")
  String secret;

  @Option(names = "--rooms", defaultValue = "1", description = "public rooms (1 to 100)")
  int rooms;

  @Option(
      names = "--viewers",
      defaultValue = "500",
      description = "gRPC viewers that read, over all rooms (max 20000)")
  int viewers;

  @Option(
      names = "--stalled",
      defaultValue = "0",
      description = "gRPC viewers that never read (max 1000)")
  int stalled;

  @Option(
      names = "--channels",
      defaultValue = "4",
      description = "HTTP/2 connections the gRPC viewers share")
  int channels;

  @Option(
      names = "--sse-viewers",
      defaultValue = "0",
      description = "SSE tabs through --bridge (max 20000)")
  int sseViewers;

  @Option(
      names = "--warm-up-commands",
      defaultValue = "20",
      description = "unmeasured commands per host before the measured ones (max 1000)")
  int warmUpCommands;

  @Option(
      names = "--commands",
      defaultValue = "40",
      description = "playback commands per host (max 10000)")
  int commands;

  @Option(
      names = "--interval-ms",
      defaultValue = "250",
      description = "between two commands of a host")
  long intervalMs;

  @Option(
      names = "--chat-rate",
      defaultValue = "0",
      description = "chat messages per second over all rooms, while the commands last")
  double chatRate;

  @Option(
      names = "--chatters",
      defaultValue = "0",
      description =
          "viewers who chat (0: one per message per second, the server's default per-user rate)")
  int chatters;

  @Option(
      names = "--players",
      defaultValue = "0",
      description =
          "simulated players kept in sync by the client library in the first room, for the sync"
              + " error (platform only; max 50)")
  int players;

  @Option(
      names = "--title",
      defaultValue = "big-buck-bunny",
      description = "the rooms' title; the default is licensed in every demo region")
  String titleId;

  @Option(
      names = "--no-baseline",
      description = "run the platform only, without the bare gRPC baseline first")
  boolean noBaseline;

  @Option(
      names = "--observe",
      description =
          "the server's observe port host:port (loopback only), for its own fan-out times")
  String observe;

  @Option(
      names = "--server-pid",
      defaultValue = "-1",
      description = "the server JVM, for its CPU and heap")
  long serverPid;

  @Option(
      names = "--bridge-pid",
      defaultValue = "-1",
      description = "the bridge JVM, for its CPU and heap")
  long bridgePid;

  @Option(
      names = "--cassandra-pid",
      defaultValue = "-1",
      description = "the Cassandra node, for its CPU")
  long cassandraPid;

  @Option(
      names = "--heap",
      description =
          "measure the live heap per stream of the server, bridge and baseline (full GCs through jcmd)")
  boolean heap;

  @Option(
      names = "--sse-users",
      split = ",",
      defaultValue = "alice,bob,chiara,emma,farid,gabriela,hiro",
      description = "demo users whose bridge sessions the tabs share")
  List<String> sseUsers;

  @Option(
      names = "--sse-loops",
      defaultValue = "2",
      description = "selector threads of the SSE tabs (1 to 8)")
  int sseLoops;

  @Option(
      names = "--connect-concurrency",
      defaultValue = "200",
      description = "SSE tabs at most between connect and stream")
  int connectConcurrency;

  @Option(
      names = "--source-addresses",
      defaultValue = "1",
      description = "spread SSE tabs over 127.0.0.1 to 127.0.0.N (1: let the kernel choose)")
  int sourceAddresses;

  @Option(
      names = "--drain-s",
      defaultValue = "30",
      description = "wait after the last command for every viewer to have it")
  int drainSeconds;

  @Mixin SideLoads.Options sideLoads = new SideLoads.Options();

  @Option(names = "--out", description = "directory for report.json and the pictures")
  Path out;

  public static void main(String[] args) {
    System.exit(new CommandLine(new PartyLoad()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    return measure().complete() ? 0 : 1;
  }

  /** Runs the baseline (unless --no-baseline) and the platform, prints and writes the report. */
  Report measure() throws Exception {
    var line = new CommandLine(this);
    InetSocketAddress grpc = loopback(line, "--target", target);
    Optional<InetSocketAddress> web =
        bridge == null ? Optional.empty() : Optional.of(loopback(line, "--bridge", bridge));
    Optional<InetSocketAddress> observed =
        observe == null ? Optional.empty() : Optional.of(loopback(line, "--observe", observe));
    Scenario scenario = scenario(line, web.isPresent());
    var tokens = new Tokens(secret);
    Map<String, Object> environment = environment();

    Optional<RunResult> baselineResult = Optional.empty();
    if (!noBaseline) {
      long limitSeconds = 300 + scenario.durationMillis() / 1000 + scenario.drainSeconds();
      try (BaselineProcess bare = BaselineProcess.start("1g", limitSeconds, false)) {
        System.out.printf(
            "baseline (pid %d, port %d): running the scenario%n", bare.pid(), bare.port());
        RunResult result =
            TargetRun.run(
                new TargetRun.Target(
                    "baseline",
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), bare.port()),
                    bare.pid(),
                    Optional.empty(),
                    -1,
                    -1,
                    heap,
                    Optional.empty()),
                forBaseline(scenario),
                tokens);
        Optional<Histogram> fanOut = bare.stop();
        baselineResult = Optional.of(result.withFanOut(fanOut));
      }
    }
    Optional<RunResult> sseBaselineResult = Optional.empty();
    if (!noBaseline && scenario.sseViewers() > 0) {
      sseBaselineResult = Optional.of(sseBaseline(scenario, tokens));
    }
    System.out.printf("platform (%s): running the scenario%n", target);
    RunResult platform =
        TargetRun.run(
            new TargetRun.Target(
                "platform", grpc, serverPid, web, bridgePid, cassandraPid, heap, observed),
            scenario,
            tokens);
    environment.put("loadAverageAfter", loadAverage());
    var report = new Report(environment, scenario, baselineResult, sseBaselineResult, platform);
    report.print(System.out);
    if (out != null) {
      Files.createDirectories(out);
      report.writeJson(out.resolve("report.json"));
      Charts.write(report, out);
      System.out.println("report and pictures written to " + out.toAbsolutePath());
    }
    return report;
  }

  /**
   * The SSE tabs against a bare Helidon SSE fan-out ({@link BareSse}) in a baseline JVM of their
   * own, with the platform run's gRPC viewers and chat beside them (the baseline JVM serves both),
   * so that the generator does the same work as against the platform. That JVM stands for the
   * bridge: its CPU and heap are the "bridge" figures of this run, which thereby also carry its
   * gRPC viewers' (a small share next to the tabs'; the bridge's include its upstream stream).
   */
  private RunResult sseBaseline(Scenario scenario, Tokens tokens) throws Exception {
    long limitSeconds = 300 + scenario.durationMillis() / 1000 + scenario.drainSeconds();
    try (BaselineProcess bare = BaselineProcess.start("2g", limitSeconds, true)) {
      System.out.printf(
          "SSE baseline (pid %d, port %d, SSE port %d): running the scenario%n",
          bare.pid(), bare.port(), bare.ssePort());
      InetAddress loopback = InetAddress.getLoopbackAddress();
      RunResult result =
          TargetRun.run(
              new TargetRun.Target(
                  "sse-baseline",
                  new InetSocketAddress(loopback, bare.port()),
                  -1,
                  Optional.of(new InetSocketAddress(loopback, bare.ssePort())),
                  bare.pid(),
                  -1,
                  heap,
                  Optional.empty()),
              forSseBaseline(scenario),
              tokens);
      bare.stop();
      return result;
    }
  }

  private Scenario scenario(CommandLine line, boolean hasBridge) {
    if (rooms < 1
        || rooms > 100
        || viewers < 1
        || viewers > 20_000
        || stalled < 0
        || stalled > 1_000
        || channels < 1
        || channels > 64
        || sseViewers < 0
        || sseViewers > 20_000
        || warmUpCommands < 0
        || warmUpCommands > 1_000
        || commands < 1
        || commands > 10_000
        || intervalMs < 10
        || commands * intervalMs > 300_000
        || chatRate < 0
        || chatRate > 20_000
        || chatters < 0
        || players < 0
        || players > 50
        || sseLoops < 1
        || sseLoops > 8
        || connectConcurrency < 1
        || connectConcurrency > 2_000
        || sourceAddresses < 1
        || sourceAddresses > 16
        || drainSeconds < 1
        || drainSeconds > 120) {
      throw new CommandLine.ParameterException(
          line, "a count is out of range (see --help); the commands must fit in 300 s");
    }
    if (sseViewers > 0 && !hasBridge) {
      throw new CommandLine.ParameterException(line, "--sse-viewers needs --bridge");
    }
    long maxFiles =
        ((UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getMaxFileDescriptorCount();
    if (maxFiles < sseViewers + 200L) {
      throw new CommandLine.ParameterException(
          line,
          "this process may open "
              + maxFiles
              + " files, too few for "
              + sseViewers
              + " tabs (ulimit -n)");
    }
    return new Scenario(
        rooms,
        viewers,
        stalled,
        channels,
        sseViewers,
        warmUpCommands,
        commands,
        intervalMs,
        chatRate,
        chatters,
        players,
        titleId,
        List.copyOf(sseUsers),
        sseLoops,
        connectConcurrency,
        sourceAddresses,
        drainSeconds,
        sideLoads.plan(line, viewers, commands * intervalMs));
  }

  /**
   * The gRPC baseline's scenario: no SSE tabs, no simulated players, its share of the side loads.
   */
  private static Scenario forBaseline(Scenario s) {
    return baselineScenario(s, 0, s.sideLoads().forBaseline());
  }

  /** The SSE baseline's scenario: the platform run's tabs kept, no players and no side loads. */
  private static Scenario forSseBaseline(Scenario s) {
    return baselineScenario(s, s.sseViewers(), SideLoads.NONE);
  }

  /** The scenario as a bare baseline runs it: the platform's, without simulated players. */
  private static Scenario baselineScenario(Scenario s, int sseViewers, SideLoads sideLoads) {
    return new Scenario(
        s.rooms(),
        s.viewers(),
        s.stalled(),
        s.channels(),
        sseViewers,
        s.warmUpCommands(),
        s.commands(),
        s.intervalMs(),
        s.chatRate(),
        s.chatters(),
        0,
        s.titleId(),
        s.sseUsers(),
        s.sseLoops(),
        s.connectConcurrency(),
        s.sourceAddresses(),
        s.drainSeconds(),
        sideLoads);
  }

  private static InetSocketAddress loopback(CommandLine line, String option, String hostPort)
      throws IOException {
    int colon = hostPort.lastIndexOf(':');
    if (colon < 0) {
      throw new CommandLine.ParameterException(line, option + " must be host:port");
    }
    InetAddress host = InetAddress.getByName(hostPort.substring(0, colon));
    if (!host.isLoopbackAddress()) {
      throw new CommandLine.ParameterException(
          line, option + " must be a loopback address, got " + host);
    }
    return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
  }

  private static Map<String, Object> environment() throws IOException {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("date", Instant.now().toString());
    e.put("processors", Runtime.getRuntime().availableProcessors());
    e.put("cpu", cpuModel());
    e.put("java", Runtime.version().toString());
    e.put("loadAverage", loadAverage());
    return e;
  }

  private static String cpuModel() throws IOException {
    return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("model name"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst()
        .orElse("unknown");
  }

  /** The 1, 5 and 15 minute load averages, from {@code /proc/loadavg}. */
  private static String loadAverage() throws IOException {
    String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
    return fields[0] + " " + fields[1] + " " + fields[2];
  }
}
