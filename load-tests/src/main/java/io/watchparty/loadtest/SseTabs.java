package io.watchparty.loadtest;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The SSE viewers of a run: browser tabs on the web bridge, sharing a few demo users' sessions
 * ({@code POST /api/session}), each joining one of the run's rooms and holding its event stream
 * open. The tabs are non-blocking sockets on a few selector threads ({@link EventLoop}), so one JVM
 * holds 20,000 of them with a few threads and little memory.
 */
final class SseTabs implements AutoCloseable {
  private final List<PartyRoom> rooms;
  private final List<EventLoop> loops = new ArrayList<>();
  private final List<SseConnection> connections = new ArrayList<>();
  private final List<PartyRoom> roomOf = new ArrayList<>();

  /** arrivals[loop][room]: each written by its loop's thread only. */
  private final Arrivals[][] arrivals;

  private final double connectSeconds;

  private SseTabs(
      Scenario scenario, InetSocketAddress bridge, List<PartyRoom> rooms, LongAdder events)
      throws IOException, InterruptedException {
    this.rooms = rooms;
    URI base = URI.create("http://" + bridge.getHostString() + ":" + bridge.getPort());
    List<BridgeSession> sessions = new ArrayList<>();
    try (HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build()) {
      for (String user : scenario.sseUsers()) {
        sessions.add(BridgeSession.signIn(http, base, user));
      }
    }
    String authority = bridge.getHostString() + ":" + bridge.getPort();
    arrivals = new Arrivals[scenario.sseLoops()][rooms.size()];
    for (int i = 0; i < scenario.sseLoops(); i++) {
      loops.add(new EventLoop("sse-loop-" + i, bridge));
      for (int r = 0; r < rooms.size(); r++) {
        arrivals[i][r] = new Arrivals(1024);
      }
    }
    long start = System.nanoTime();
    var handshakes = new Semaphore(scenario.connectConcurrency());
    long deadline = start + TimeUnit.SECONDS.toNanos(120);
    for (int i = 0; i < scenario.sseViewers(); i++) {
      if (!handshakes.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
        break;
      }
      PartyRoom room = rooms.get(i % rooms.size());
      BridgeSession session = sessions.get(i % sessions.size());
      InetSocketAddress source =
          scenario.sourceAddresses() == 1
              ? null
              : new InetSocketAddress("127.0.0." + (1 + i % scenario.sourceAddresses()), 0);
      int loop = i % loops.size();
      var connection =
          new SseConnection(
              SseConnection.Requests.of(authority, room.roomId(), session.cookie()),
              source,
              arrivals[loop][room.index()],
              events,
              handshakes::release,
              deadline);
      connections.add(connection);
      roomOf.add(room);
      loops.get(loop).start(connection);
    }
    // Every permit back: every tab is streaming or has failed.
    handshakes.tryAcquire(
        scenario.connectConcurrency(),
        Math.max(0, deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    connectSeconds = (System.nanoTime() - start) / 1e9;
  }

  /** Opens the tabs and waits until each streams or has failed. */
  static SseTabs open(
      Scenario scenario, InetSocketAddress bridge, List<PartyRoom> rooms, LongAdder events)
      throws IOException, InterruptedException {
    return new SseTabs(scenario, bridge, rooms, events);
  }

  double connectSeconds() {
    return connectSeconds;
  }

  long streaming() {
    return connections.stream().filter(c -> c.phase() == SseConnection.Phase.STREAMING).count();
  }

  /** Whether every streaming tab has its room's last command. */
  boolean caughtUp() {
    for (int i = 0; i < connections.size(); i++) {
      SseConnection c = connections.get(i);
      if (c.phase() == SseConnection.Phase.STREAMING
          && c.lastId() < roomOf.get(i).lastCommandSequence()) {
        return false;
      }
    }
    return true;
  }

  /** Stops the loops; what they recorded may be read afterwards. */
  @Override
  public void close() throws InterruptedException {
    for (EventLoop loop : loops) {
      loop.close();
    }
  }

  /** Host command to each tab, and to the last tab of its room; only after {@link #close}. */
  Histogram[] latencies() {
    var each = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    var last = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    for (PartyRoom room : rooms) {
      Map<Long, Long> lastArrival = new HashMap<>();
      for (Arrivals[] loop : arrivals) {
        Arrivals a = loop[room.index()];
        for (int i = 0; i < a.size(); i++) {
          Long sent = room.sentAt(a.sequence(i));
          if (sent != null) {
            each.recordValue(Math.max(0, (a.nanos(i) - sent) / 1000));
            lastArrival.merge(a.sequence(i), a.nanos(i), Math::max);
          }
        }
      }
      lastArrival.forEach(
          (sequence, at) -> last.recordValue(Math.max(0, (at - room.sentAt(sequence)) / 1000)));
    }
    return new Histogram[] {each, last};
  }

  /** Whether every tab got every command's event exactly once, in order; after {@link #close}. */
  RunResult.SseCompleteness completeness() {
    long missing = 0;
    int tabsMissing = 0;
    long duplicates = 0;
    long resyncs = 0;
    int tabsWrong = 0;
    var failures = new TreeMap<String, Integer>();
    Map<PartyRoom, long[]> sequences = new HashMap<>();
    for (int i = 0; i < connections.size(); i++) {
      SseConnection c = connections.get(i);
      int m = c.missing(sequences.computeIfAbsent(roomOf.get(i), PartyRoom::commandSequences));
      missing += m;
      tabsMissing += m > 0 ? 1 : 0;
      duplicates += c.duplicates();
      resyncs += c.resyncs();
      String failure = c.failure();
      if (!failure.isEmpty()) {
        failures.merge(failure, 1, Integer::sum);
      }
      if (m > 0 || c.duplicates() > 0 || !failure.isEmpty()) {
        tabsWrong++;
      }
    }
    return new RunResult.SseCompleteness(
        connections.size(),
        connections.size() - tabsWrong,
        missing,
        tabsMissing,
        duplicates,
        resyncs,
        failures);
  }
}
