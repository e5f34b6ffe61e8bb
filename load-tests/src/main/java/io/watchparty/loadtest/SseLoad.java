package io.watchparty.loadtest;

import com.sun.management.OperatingSystemMXBean;
import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Many browsers on one web bridge: N simulated tabs, spread over a few demo users' sessions, join
 * one public room and hold its Server-Sent Events stream open; then the host seeks at a fixed
 * interval. Reports how long each event took from the host's command to every tab and to the last
 * tab, whether every tab got every event exactly once (by SSE id), the bridge's heap and resident
 * memory per idle stream (with {@code --bridge-pid}), and the load generator's own CPU per message.
 *
 * <p>The tabs are plain non-blocking sockets on a few selector threads ({@link EventLoop}), so one
 * JVM holds 20,000 of them with a few threads and a few megabytes. Loopback only, bounded in
 * clients, commands and time; it stops by itself.
 */
@CommandLine.Command(
    name = "sse-load",
    mixinStandardHelpOptions = true,
    description = "Holds many SSE clients on a local WatchParty web bridge and times room events.")
public final class SseLoad implements Callable<Integer> {
  private static final int MAX_CLIENTS = 20_000;
  private static final Duration DRAIN = Duration.ofSeconds(15);
  private static final Duration IDLE_WAIT = Duration.ofSeconds(60);
  private static final Duration UNCOMMIT_WAIT = Duration.ofSeconds(3);

  @Option(
      names = "--bridge",
      defaultValue = "127.0.0.1:8080",
      description = "the web bridge, host:port (loopback only)")
  String bridge;

  @Option(names = "--clients", defaultValue = "1000", description = "SSE clients (max 20000)")
  int clients;

  @Option(
      names = "--users",
      split = ",",
      defaultValue = "alice,bob,chiara,emma,farid,gabriela,hiro",
      description = "subscribed demo users whose sessions the clients share, round robin")
  List<String> users;

  @Option(
      names = "--host",
      defaultValue = "alice",
      description = "demo user who creates the room and sends the commands; also holds clients")
  String host;

  @Option(names = "--room", description = "a public room of --host to use instead of creating one")
  String room;

  @Option(
      names = "--title",
      defaultValue = "big-buck-bunny",
      description = "title of the created room; the default is licensed in every demo region")
  String titleId;

  @Option(names = "--commands", defaultValue = "30", description = "seeks the host sends (max 600)")
  int commands;

  @Option(
      names = "--interval-ms",
      defaultValue = "500",
      description = "between two seeks (at least 50; the server limits commands per user)")
  long intervalMs;

  @Option(
      names = "--hold-seconds",
      defaultValue = "5",
      description =
          "idle time with every client connected, before the seeks (and, with --bridge-pid, before"
              + " the bridge's memory is taken)")
  int holdSeconds;

  @Option(
      names = "--bridge-pid",
      defaultValue = "0",
      description =
          "pid of the bridge JVM on this machine: if given, its live heap (jcmd GC.run,"
              + " GC.heap_info), RSS, threads and CPU are measured without and with the clients")
  long bridgePid;

  @Option(names = "--loops", defaultValue = "2", description = "selector threads (1 to 8)")
  int loops;

  @Option(
      names = "--connect-concurrency",
      defaultValue = "200",
      description = "clients at most between connect and an open stream, to spare accept queues")
  int connectConcurrency;

  @Option(
      names = "--connect-timeout-s",
      defaultValue = "90",
      description = "for all clients to get their stream")
  int connectTimeoutSeconds;

  @Option(
      names = "--source-addresses",
      defaultValue = "1",
      description =
          "spread clients over 127.0.0.1 to 127.0.0.N: each source address has its own"
              + " ~28k ephemeral ports (1: let the kernel choose)")
  int sourceAddresses;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SseLoad()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    InetSocketAddress address = validate();
    URI base = URI.create("http://" + bridge);
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    try (http) {
      return run(http, base, address);
    }
  }

  private InetSocketAddress validate() throws Exception {
    var line = new CommandLine(this);
    int colon = bridge.lastIndexOf(':');
    if (colon < 0) {
      throw new CommandLine.ParameterException(line, "--bridge must be host:port");
    }
    InetAddress host = InetAddress.getByName(bridge.substring(0, colon));
    if (!host.isLoopbackAddress()) {
      throw new CommandLine.ParameterException(
          line, "--bridge must be a loopback address, got " + host);
    }
    if (clients < 1
        || clients > MAX_CLIENTS
        || commands < 1
        || commands > 600
        || intervalMs < 50
        || commands * intervalMs > 120_000
        || holdSeconds < 0
        || holdSeconds > 60
        || loops < 1
        || loops > 8
        || connectConcurrency < 1
        || connectConcurrency > 2_000
        || connectTimeoutSeconds < 1
        || connectTimeoutSeconds > 300
        || sourceAddresses < 1
        || sourceAddresses > 16
        || users.isEmpty()) {
      throw new CommandLine.ParameterException(
          line, "a count is out of range (see --help); the commands must fit in 120 s");
    }
    long maxFiles =
        ((UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getMaxFileDescriptorCount();
    if (maxFiles < clients + 200L) {
      throw new CommandLine.ParameterException(
          line,
          "this process may open "
              + maxFiles
              + " files, too few for "
              + clients
              + " clients: raise it (ulimit -n) before starting it, and the bridge's too");
    }
    return new InetSocketAddress(host, Integer.parseInt(bridge.substring(colon + 1)));
  }

  private int run(HttpClient http, URI base, InetSocketAddress address) throws Exception {
    BridgeSession hostSession = BridgeSession.signIn(http, base, host);
    List<BridgeSession> sessions = new ArrayList<>(List.of(hostSession));
    for (String user : users) {
      if (!user.equals(host)) {
        sessions.add(BridgeSession.signIn(http, base, user));
      }
    }
    String roomId = room != null ? room : hostSession.createPublicRoom(titleId);
    System.out.printf(
        "room %s, %d SSE clients over %d users' sessions, %d seeks every %d ms%n",
        roomId, clients, sessions.size(), commands, intervalMs);
    List<SseConnection.Requests> requests =
        sessions.stream().map(s -> SseConnection.Requests.of(bridge, roomId, s.cookie())).toList();

    Memory idle = null;
    if (bridgePid > 0) {
      awaitNoStreams(http, base);
      idle = Memory.of(bridgePid);
    }
    List<EventLoop> eventLoops = new ArrayList<>();
    List<SseConnection> connections = new ArrayList<>(clients);
    CommandPhase phase;
    try {
      for (int i = 0; i < loops; i++) {
        eventLoops.add(new EventLoop("sse-loop-" + i, address));
      }
      long connectStart = System.nanoTime();
      if (!connect(connections, eventLoops, requests)) {
        System.out.printf("not every client settled within %d s%n", connectTimeoutSeconds);
      }
      long connectMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectStart);
      long streaming = streaming(connections);
      System.out.printf("%d of %d clients streaming after %d ms%n", streaming, clients, connectMs);
      printReasons("failed", connections, SseConnection::failure);
      if (streaming == 0) {
        return 1;
      }
      Thread.sleep(TimeUnit.SECONDS.toMillis(holdSeconds));
      if (idle != null) {
        printMemory(idle, Memory.of(bridgePid), streaming);
      }
      phase = seekPhase(hostSession, roomId, connections, eventLoops);
    } finally {
      for (EventLoop loop : eventLoops) {
        loop.close(); // after this, the loops' arrivals and the connections' counts may be read
      }
    }
    return report(connections, eventLoops, phase);
  }

  /** The measured part: the host's seeks, until every client has the last one or time is up. */
  private CommandPhase seekPhase(
      BridgeSession hostSession,
      String roomId,
      List<SseConnection> connections,
      List<EventLoop> eventLoops)
      throws Exception {
    var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpuStart = os.getProcessCpuTime();
    long loopCpuStart = loopCpu(eventLoops);
    long bridgeCpuStart = bridgePid > 0 ? ProcessStatus.of(bridgePid).cpuNanos() : 0;
    long start = System.nanoTime();
    Map<Long, Long> sentAt = new HashMap<>();
    long lastSequence = 0;
    for (int c = 1; c <= commands; c++) {
      long before = System.nanoTime();
      lastSequence = hostSession.seek(roomId, 60_000L + c * 1_000L);
      sentAt.put(lastSequence, before);
      TimeUnit.NANOSECONDS.sleep(start + c * intervalMs * 1_000_000 - System.nanoTime());
    }
    boolean drained = awaitSequence(connections, lastSequence);
    return new CommandPhase(
        sentAt,
        drained,
        (System.nanoTime() - start) / 1e9,
        os.getProcessCpuTime() - cpuStart,
        loopCpu(eventLoops) - loopCpuStart,
        bridgePid > 0 ? ProcessStatus.of(bridgePid).cpuNanos() - bridgeCpuStart : -1,
        ProcessStatus.of(ProcessHandle.current().pid()));
  }

  /**
   * Waits for the bridge to let go of an earlier run's streams, so they do not count as the
   * baseline: it notices a closed browser only when a write fails, at the latest at the next
   * keep-alive.
   */
  private static void awaitNoStreams(HttpClient http, URI base) throws Exception {
    long deadline = System.nanoTime() + IDLE_WAIT.toNanos();
    long held;
    while ((held = BridgeSession.sseClients(http, base).orElse(0)) > 0) {
      if (System.nanoTime() > deadline) {
        System.out.printf("the bridge still holds %d streams; measuring with them%n", held);
        return;
      }
      Thread.sleep(1000);
    }
  }

  /** Opens the clients, at most {@code --connect-concurrency} at a time; true if all settled. */
  private boolean connect(
      List<SseConnection> connections,
      List<EventLoop> eventLoops,
      List<SseConnection.Requests> requests)
      throws InterruptedException {
    var handshakes = new Semaphore(connectConcurrency);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(connectTimeoutSeconds);
    for (int i = 0; i < clients; i++) {
      if (!handshakes.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
        return false;
      }
      InetSocketAddress source =
          sourceAddresses == 1
              ? null
              : new InetSocketAddress("127.0.0." + (1 + i % sourceAddresses), 0);
      EventLoop loop = eventLoops.get(i % eventLoops.size());
      var connection =
          new SseConnection(
              requests.get(i % requests.size()),
              source,
              loop.arrivals(),
              handshakes::release,
              deadline);
      connections.add(connection);
      loop.start(connection);
    }
    // Every permit back means every client is streaming or has failed.
    return handshakes.tryAcquire(
        connectConcurrency, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
  }

  /** Waits until every streaming client has seen {@code sequence}; false after {@link #DRAIN}. */
  private static boolean awaitSequence(List<SseConnection> connections, long sequence)
      throws InterruptedException {
    long deadline = System.nanoTime() + DRAIN.toNanos();
    while (connections.stream()
        .anyMatch(c -> c.phase() == SseConnection.Phase.STREAMING && c.lastId() < sequence)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  private int report(
      List<SseConnection> connections, List<EventLoop> eventLoops, CommandPhase phase) {
    var each = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    var lastArrival = new HashMap<Long, Long>();
    long messages = 0;
    for (EventLoop loop : eventLoops) {
      Arrivals arrivals = loop.arrivals();
      messages += arrivals.size();
      for (int i = 0; i < arrivals.size(); i++) {
        Long sent = phase.sentAt().get(arrivals.sequence(i));
        if (sent != null) {
          each.recordValue(Math.max(0, (arrivals.nanos(i) - sent) / 1000));
          lastArrival.merge(arrivals.sequence(i), arrivals.nanos(i), Math::max);
        }
      }
    }
    var last = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    lastArrival.forEach(
        (sequence, at) -> last.recordValue((at - phase.sentAt().get(sequence)) / 1000));

    long[] sequences = phase.sentAt().keySet().stream().mapToLong(Long::longValue).toArray();
    long streaming = streaming(connections);
    long missing = 0;
    long clientsMissing = 0;
    long duplicates = 0;
    long clientsWithDuplicates = 0;
    long resyncs = 0;
    for (SseConnection c : connections) {
      int m = c.missing(sequences);
      missing += m;
      clientsMissing += m > 0 ? 1 : 0;
      duplicates += c.duplicates();
      clientsWithDuplicates += c.duplicates() > 0 ? 1 : 0;
      resyncs += c.resyncs();
    }

    System.out.printf(
        Locale.ROOT,
        "%d seeks; every streaming client got the last one within %d s of it: %s%n",
        sequences.length,
        DRAIN.toSeconds(),
        phase.drained());
    System.out.printf(
        Locale.ROOT,
        "playback events received: %d (%.0f/s over %.1f s)%n",
        messages,
        messages / phase.seconds(),
        phase.seconds());
    print("host command -> each client", each);
    print("host command -> last client", last);
    System.out.printf(
        Locale.ROOT,
        "missing events: %d (%d clients), duplicate or out-of-order: %d (%d clients),"
            + " snapshot resyncs: %d%n",
        missing,
        clientsMissing,
        duplicates,
        clientsWithDuplicates,
        resyncs);
    printReasons("not streaming at the end", connections, SseConnection::failure);
    printReasons("ended by the bridge", connections, SseConnection::endedReason);
    ProcessStatus self = phase.generator();
    System.out.printf(
        Locale.ROOT,
        "load generator: CPU %.0f ms over the commands (%.1f%% of one core), %.2f us per"
            + " received event; its %d selector threads busy %.1f%% of the time; %d OS threads,"
            + " RSS %.0f MB%n",
        phase.cpuNanos() / 1e6,
        phase.cpuNanos() / 1e7 / phase.seconds(),
        messages == 0 ? 0 : phase.cpuNanos() / 1e3 / messages,
        eventLoops.size(),
        phase.loopCpuNanos() / 1e7 / phase.seconds() / eventLoops.size(),
        self.threads(),
        self.rssBytes() / 1e6);
    if (phase.bridgeCpuNanos() >= 0) {
      System.out.printf(
          Locale.ROOT,
          "bridge CPU: %.0f ms over the commands (%.1f%% of one core), %.2f us per delivered event%n",
          phase.bridgeCpuNanos() / 1e6,
          phase.bridgeCpuNanos() / 1e7 / phase.seconds(),
          messages == 0 ? 0 : phase.bridgeCpuNanos() / 1e3 / messages);
    }
    boolean target = each.getValueAtPercentile(99) < 200_000;
    System.out.printf(
        "issue 8 target (%d clients, p99 command -> each client < 200 ms): %s%n",
        streaming, target ? "met" : "not met");
    boolean exact = streaming == clients && phase.drained() && missing == 0 && duplicates == 0;
    return exact ? 0 : 1;
  }

  private void printMemory(Memory idle, Memory held, long streaming) {
    System.out.printf(
        Locale.ROOT,
        "bridge, 0 -> %d idle streams: live heap %.1f -> %.1f MB (%.1f KB per stream),"
            + " RSS %.1f -> %.1f MB (%.1f KB per stream), OS threads %d -> %d%n",
        streaming,
        idle.heapBytes() / 1e6,
        held.heapBytes() / 1e6,
        (held.heapBytes() - idle.heapBytes()) / 1e3 / streaming,
        idle.status().rssBytes() / 1e6,
        held.status().rssBytes() / 1e6,
        (held.status().rssBytes() - idle.status().rssBytes()) / 1e3 / streaming,
        idle.status().threads(),
        held.status().threads());
  }

  private static long loopCpu(List<EventLoop> eventLoops) {
    return eventLoops.stream().mapToLong(EventLoop::cpuNanos).sum();
  }

  private static long streaming(List<SseConnection> connections) {
    return connections.stream().filter(c -> c.phase() == SseConnection.Phase.STREAMING).count();
  }

  private static void printReasons(
      String what, List<SseConnection> connections, Function<SseConnection, String> reason) {
    var counts = new TreeMap<String, Integer>();
    for (SseConnection c : connections) {
      String r = reason.apply(c);
      if (!r.isEmpty()) {
        counts.merge(r, 1, Integer::sum);
      }
    }
    counts.forEach((r, n) -> System.out.printf("  %s: %d x %s%n", what, n, r));
  }

  private static void print(String what, Histogram h) {
    System.out.printf(
        Locale.ROOT,
        "%s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)%n",
        what,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0,
        h.getTotalCount());
  }

  /**
   * What the commands cost and when they were sent.
   *
   * @param sentAt room sequence of each seek's event -> {@link System#nanoTime()} before it was
   *     sent
   * @param drained whether every streaming client got the last seek's event
   * @param bridgeCpuNanos -1 without {@code --bridge-pid}
   * @param generator this process, with every client still open
   */
  private record CommandPhase(
      Map<Long, Long> sentAt,
      boolean drained,
      double seconds,
      long cpuNanos,
      long loopCpuNanos,
      long bridgeCpuNanos,
      ProcessStatus generator) {}

  /** The bridge's live heap after a full GC, and its OS view, taken together. */
  private record Memory(long heapBytes, ProcessStatus status) {
    static Memory of(long pid) throws InterruptedException {
      long heap = ServerHeap.liveBytes(pid);
      // G1 gives the heap it no longer needs back to the OS concurrently, after the full GC.
      Thread.sleep(UNCOMMIT_WAIT.toMillis());
      return new Memory(heap, ProcessStatus.of(pid));
    }
  }
}
