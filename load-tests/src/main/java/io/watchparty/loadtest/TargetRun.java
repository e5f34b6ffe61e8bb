package io.watchparty.loadtest;

import com.sun.management.OperatingSystemMXBean;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.Visibility;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * One run of a {@link Scenario} against one target (the baseline or the platform): rooms and hosts,
 * gRPC viewers (and SSE tabs if a bridge is given), then the measured window: the hosts' commands
 * and the chatters' messages, until every viewer has the last command or the drain time is over.
 * Every wait is bounded.
 */
final class TargetRun {
  private static final long TIMELINE_MILLIS = 250;
  private static final int CHAT_IN_FLIGHT = 2_000;

  /**
   * Where to run and which processes to account for.
   *
   * @param serverPid the server's JVM (-1: unknown); bridgePid, cassandraPid likewise
   * @param bridge the web bridge for SSE tabs, empty for none
   * @param heap whether to measure the live heap per stream (full GCs through jcmd)
   * @param observe the server's observe port, for its own fan-out times; empty for none
   */
  record Target(
      String name,
      InetSocketAddress grpc,
      long serverPid,
      Optional<InetSocketAddress> bridge,
      long bridgePid,
      long cassandraPid,
      boolean heap,
      Optional<InetSocketAddress> observe) {}

  private final Target target;
  private final Scenario scenario;
  private final Tokens tokens;
  private final LoadCounters counters = new LoadCounters();
  private final LoadCounters hostCounters = new LoadCounters();

  private TargetRun(Target target, Scenario scenario, Tokens tokens) {
    this.target = target;
    this.scenario = scenario;
    this.tokens = tokens;
  }

  static RunResult run(Target target, Scenario scenario, Tokens tokens) throws Exception {
    return new TargetRun(target, scenario, tokens).run();
  }

  private ManagedChannel channel(boolean direct) {
    var builder =
        NettyChannelBuilder.forAddress(target.grpc().getHostString(), target.grpc().getPort())
            .usePlaintext();
    // Viewers' callbacks only decode a header and store a few numbers: run them on the transport
    // thread instead of handing every message to an executor (which cost ~15 us per message).
    return (direct ? builder.directExecutor() : builder).build();
  }

  private RunResult run() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < scenario.channels(); i++) {
      channels.add(channel(true));
    }
    // Hosts and chatters send on a connection of their own, as they are other devices.
    ManagedChannel control = channel(false);
    List<GrpcViewer> viewers = new ArrayList<>();
    List<GrpcViewer> hosts = new ArrayList<>();
    SseTabs tabs = null;
    SimulatedPlayers players = null;
    SideLoadRun side = null;
    try {
      List<PartyRoom> rooms = createRooms(control);
      long[] serverBefore = memory(target.serverPid());
      long[] bridgeBefore = target.bridge().isPresent() ? memory(target.bridgePid()) : NO_MEMORY;

      long joinStart = System.nanoTime();
      var joined = new CountDownLatch(scenario.viewers() + scenario.stalled());
      for (int i = 0; i < scenario.viewers() + scenario.stalled(); i++) {
        boolean reads = i < scenario.viewers();
        var viewer =
            new GrpcViewer(
                channels.get(i % channels.size()),
                rooms.get(i % rooms.size()),
                reads,
                reads && i % 8 == 0,
                counters,
                joined,
                scenario.commands() + 8);
        viewers.add(viewer);
        viewer.start(tokens.headers("lt-viewer-" + i));
      }
      if (!joined.await(120, TimeUnit.SECONDS)) {
        counters.error("viewers not joined within 120 s");
      }
      double joinSeconds = (System.nanoTime() - joinStart) / 1e9;
      side =
          new SideLoadRun(
              scenario.sideLoads(),
              target.grpc(),
              tokens,
              channels,
              control,
              rooms,
              viewers.subList(0, scenario.viewers()),
              counters,
              scenario.drainSeconds());
      side.joinSlowViewers(scenario.commands() + 8);

      var hostsJoined = new CountDownLatch(rooms.size());
      for (PartyRoom room : rooms) {
        var host = new GrpcViewer(control, room, true, false, hostCounters, hostsJoined, 8);
        hosts.add(host);
        host.start(tokens.headers(hostUser(room)));
      }
      if (!hostsJoined.await(30, TimeUnit.SECONDS)) {
        counters.error("hosts not joined within 30 s");
      }
      long[] serverAfterStreams = memory(target.serverPid());
      boolean sseRun = target.bridge().isPresent() && scenario.sseViewers() > 0;
      if (sseRun) {
        tabs = SseTabs.open(scenario, target.bridge().get(), rooms, counters.sseDeliveries);
      }
      long[] serverAfterTabs = sseRun ? memory(target.serverPid()) : NO_MEMORY;
      long[] bridgeAfter = target.bridge().isPresent() ? memory(target.bridgePid()) : NO_MEMORY;
      if (scenario.players() > 0) {
        players = SimulatedPlayers.join(control, tokens, rooms.get(0).roomId(), scenario.players());
      }

      Window window = measure(rooms, control, viewers, tabs, players, side);
      Optional<RunResult.Sync> sync = Optional.empty();
      if (players != null) {
        sync = Optional.of(players.stop());
        players.close();
        players = null;
      }
      viewers.forEach(GrpcViewer::cancel);
      hosts.forEach(GrpcViewer::cancel);
      side.cancelViewers();
      Optional<RunResult.Sse> sse = Optional.empty();
      if (tabs != null) {
        tabs.close();
        Histogram[] latencies = tabs.latencies();
        sse =
            Optional.of(
                new RunResult.Sse(
                    tabs.streaming(),
                    tabs.connectSeconds(),
                    latencies[0],
                    latencies[1],
                    tabs.completeness()));
        tabs = null;
      }
      shutdown(channels, control);
      Histogram[] latencies = latencies(rooms, viewers);
      int streams = scenario.viewers() + scenario.stalled() + scenario.sideLoads().slow();
      long tabsStreaming = sse.map(RunResult.Sse::streaming).orElse(0L);
      return new RunResult(
          target.name(),
          joinSeconds,
          window.seconds,
          window.deliveries,
          window.sseDeliveries,
          latencies[0],
          latencies[1],
          window.fanOut,
          new RunResult.Chat(
              counters.chatSent.sum(),
              counters.chatAcknowledged.sum(),
              counters.chatAck(),
              counters.chatDeliver()),
          window.cpu,
          completeness(rooms, viewers),
          sse,
          sync,
          counters.errors(),
          window.timeline,
          new RunResult.Memory(
              perStream(serverBefore[0], serverAfterStreams[0], streams),
              perStream(bridgeBefore[0], bridgeAfter[0], tabsStreaming),
              perStream(serverAfterStreams[0], serverAfterTabs[0], tabsStreaming),
              perStream(serverBefore[1], serverAfterStreams[1], streams),
              perStream(bridgeBefore[1], bridgeAfter[1], tabsStreaming)),
          side.result());
    } finally {
      viewers.forEach(GrpcViewer::cancel);
      hosts.forEach(GrpcViewer::cancel);
      if (side != null) {
        side.close();
      }
      if (tabs != null) {
        tabs.close();
      }
      if (players != null) {
        players.close();
      }
      shutdown(channels, control);
    }
  }

  private List<PartyRoom> createRooms(ManagedChannel control) {
    List<PartyRoom> rooms = new ArrayList<>();
    for (int r = 0; r < scenario.rooms(); r++) {
      String roomId =
          RoomServiceGrpc.newBlockingStub(control)
              .withInterceptors(
                  MetadataUtils.newAttachHeadersInterceptor(tokens.headers(hostUser(r))))
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .createRoom(
                  CreateRoomRequest.newBuilder()
                      .setTitleId(scenario.titleId())
                      .setName("Load test party " + r)
                      .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                      .build())
              .getRoom()
              .getRoomId();
      rooms.add(new PartyRoom(r, roomId));
    }
    return rooms;
  }

  private static String hostUser(int room) {
    return "lt-host-" + room;
  }

  private static String hostUser(PartyRoom room) {
    return hostUser(room.index());
  }

  /** What the measured window produced. */
  private record Window(
      double seconds,
      long deliveries,
      long sseDeliveries,
      RunResult.Cpu cpu,
      List<RunResult.TimelinePoint> timeline,
      Optional<Histogram> fanOut) {}

  private Window measure(
      List<PartyRoom> rooms,
      ManagedChannel control,
      List<GrpcViewer> viewers,
      SseTabs tabs,
      SimulatedPlayers players,
      SideLoadRun side)
      throws InterruptedException, IOException {
    Map<PartyRoom, RoomServiceGrpc.RoomServiceBlockingStub> hostStubs = new HashMap<>();
    for (PartyRoom room : rooms) {
      hostStubs.put(
          room,
          RoomServiceGrpc.newBlockingStub(control)
              .withInterceptors(
                  MetadataUtils.newAttachHeadersInterceptor(tokens.headers(hostUser(room)))));
    }
    // Unmeasured commands and chat first, so that neither a fresh baseline JVM nor a fresh
    // generator is measured while its JIT is still compiling the fan-out and chat paths.
    long warmUpStart = System.nanoTime();
    long warmUpEnd = warmUpStart + scenario.warmUpCommands() * scenario.intervalMs() * 1_000_000;
    Thread warmUpChat =
        Thread.ofPlatform()
            .name("chatters-warm-up")
            .start(() -> chat(viewers, control, warmUpStart, warmUpEnd, false));
    for (int c = 1; c <= scenario.warmUpCommands(); c++) {
      for (PartyRoom room : rooms) {
        command(hostStubs.get(room), room, c, false);
      }
      Thread.sleep(scenario.intervalMs());
    }
    warmUpChat.join();
    awaitCaughtUp(viewers, tabs, side);
    if (players != null) {
      players.startSampling();
    }
    var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long generatorStart = os.getProcessCpuTime();
    long serverStart = cpu(target.serverPid());
    long bridgeStart = cpu(target.bridgePid());
    long cassandraStart = cpu(target.cassandraPid());
    Optional<ServerFanOut> fanOut = target.observe().map(ServerFanOut::new);
    Optional<Histogram> fanOutBefore =
        fanOut.isPresent() ? Optional.of(fanOut.get().read()) : Optional.empty();
    long deliveriesStart = counters.deliveries.sum();
    long sseStart = counters.sseDeliveries.sum();
    long start = System.nanoTime();

    List<RunResult.TimelinePoint> timeline = new CopyOnWriteArrayList<>();
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    long[] previous = {start, deliveriesStart, sseStart};
    sampler.scheduleAtFixedRate(
        () -> {
          long now = System.nanoTime();
          long d = counters.deliveries.sum();
          long s = counters.sseDeliveries.sum();
          double dt = (now - previous[0]) / 1e9;
          timeline.add(
              new RunResult.TimelinePoint(
                  (now - start) / 1e9, (d - previous[1]) / dt, (s - previous[2]) / dt));
          previous[0] = now;
          previous[1] = d;
          previous[2] = s;
        },
        TIMELINE_MILLIS,
        TIMELINE_MILLIS,
        TimeUnit.MILLISECONDS);

    long end = start + scenario.durationMillis() * 1_000_000;
    Thread chat =
        Thread.ofPlatform().name("chatters").start(() -> chat(viewers, control, start, end, true));
    side.startWindow(start, end);
    for (int c = 1; c <= scenario.commands(); c++) {
      for (PartyRoom room : rooms) {
        command(hostStubs.get(room), room, scenario.warmUpCommands() + c, true);
      }
      TimeUnit.NANOSECONDS.sleep(start + c * scenario.intervalMs() * 1_000_000 - System.nanoTime());
    }
    chat.join();
    side.finishWindow();
    awaitCaughtUp(viewers, tabs, side);
    long windowEnd = System.nanoTime();
    var cpu =
        new RunResult.Cpu(
            os.getProcessCpuTime() - generatorStart,
            since(target.serverPid(), serverStart),
            since(target.bridgePid(), bridgeStart),
            since(target.cassandraPid(), cassandraStart));
    long deliveries = counters.deliveries.sum() - deliveriesStart;
    long sseDeliveries = counters.sseDeliveries.sum() - sseStart;
    sampler.shutdownNow();
    Optional<Histogram> fanOutInWindow =
        fanOut.isPresent()
            ? Optional.of(ServerFanOut.between(fanOutBefore.get(), fanOut.get().read()))
            : Optional.empty();
    return new Window(
        (windowEnd - start) / 1e9,
        deliveries,
        sseDeliveries,
        cpu,
        List.copyOf(timeline),
        fanOutInWindow);
  }

  private void awaitCaughtUp(List<GrpcViewer> viewers, SseTabs tabs, SideLoadRun side)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(scenario.drainSeconds());
    while (!caughtUp(viewers) || (tabs != null && !tabs.caughtUp()) || !side.caughtUp()) {
      if (System.nanoTime() > deadline) {
        counters.error(
            "not every viewer had the last command " + scenario.drainSeconds() + " s after it");
        return;
      }
      Thread.sleep(5);
    }
  }

  /**
   * The c-th command of a host (warm-up included): seek, play, rate, pause in turn, so that each
   * changes the state; seeks stay within the first 10 minutes of the title.
   */
  private void command(
      RoomServiceGrpc.RoomServiceBlockingStub host, PartyRoom room, int c, boolean measured) {
    var playback = PlaybackCommand.newBuilder();
    switch ((c - 1) % 4) {
      case 0 ->
          playback.setSeek(
              PlaybackCommand.Seek.newBuilder().setPositionMs(60_000L + c % 500 * 1_000L));
      case 1 -> playback.setPlay(PlaybackCommand.Play.getDefaultInstance());
      case 2 ->
          playback.setSetRate(
              PlaybackCommand.SetRate.newBuilder().setRate((c - 1) / 4 % 2 == 0 ? 1.25 : 1.0));
      default -> playback.setPause(PlaybackCommand.Pause.getDefaultInstance());
    }
    long before = System.nanoTime();
    try {
      long sequence =
          host.withDeadlineAfter(10, TimeUnit.SECONDS)
              .sendCommand(
                  SendCommandRequest.newBuilder()
                      .setRoomId(room.roomId())
                      .setCommand(Command.newBuilder().setPlayback(playback))
                      .build())
              .getSequence();
      if (sequence == 0) {
        counters.error("command changed nothing");
      } else {
        room.commandSent(sequence, before, measured);
      }
    } catch (StatusRuntimeException e) {
      counters.error("command refused: " + e.getStatus().getCode());
    }
  }

  /**
   * Chat at the scenario's total rate, round robin over the chatters, from {@code start} to {@code
   * end}; only measured messages count and carry their send time.
   */
  private void chat(
      List<GrpcViewer> viewers, ManagedChannel control, long start, long end, boolean measured) {
    int chatters = scenario.effectiveChatters();
    if (chatters == 0) {
      return;
    }
    List<ChatServiceGrpc.ChatServiceStub> stubs = new ArrayList<>();
    for (int i = 0; i < chatters; i++) {
      stubs.add(
          ChatServiceGrpc.newStub(control)
              .withInterceptors(
                  MetadataUtils.newAttachHeadersInterceptor(tokens.headers("lt-viewer-" + i))));
    }
    var inFlight = new Semaphore(CHAT_IN_FLIGHT);
    long period = (long) (1e9 / scenario.chatRate());
    for (long n = 0; ; n++) {
      long at = start + n * period;
      if (at >= end) {
        awaitAcknowledgements(inFlight);
        return;
      }
      LockSupport.parkNanos(at - System.nanoTime());
      int chatter = (int) (n % chatters);
      if (!inFlight.tryAcquire()) {
        counters.error("chat not sent: " + CHAT_IN_FLIGHT + " messages already in flight");
        continue;
      }
      long sent = System.nanoTime();
      if (measured) {
        counters.chatSent.increment();
      }
      stubs
          .get(chatter)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .sendChat(
              SendChatRequest.newBuilder()
                  .setRoomId(viewers.get(chatter).room().roomId())
                  .setMessage(
                      SendChat.newBuilder()
                          .setClientMessageId(
                              measured
                                  ? ChatStamp.clientMessageId(sent, n)
                                  : ChatStamp.warmUpMessageId(n))
                          .setText("load test message " + n))
                  .build(),
              new StreamObserver<ChatMessage>() {
                @Override
                public void onNext(ChatMessage stored) {
                  if (measured) {
                    counters.recordChatAck(System.nanoTime() - sent);
                  }
                }

                @Override
                public void onError(Throwable t) {
                  inFlight.release();
                  counters.error("chat refused: " + Status.fromThrowable(t).getCode());
                }

                @Override
                public void onCompleted() {
                  inFlight.release();
                }
              });
    }
  }

  /**
   * Waits until every message sent has its answer, so that none is cut off by the end of the run (a
   * call still open when the channel shuts down fails as UNAVAILABLE).
   */
  private void awaitAcknowledgements(Semaphore inFlight) {
    try {
      if (inFlight.tryAcquire(CHAT_IN_FLIGHT, scenario.drainSeconds(), TimeUnit.SECONDS)) {
        inFlight.release(CHAT_IN_FLIGHT);
      } else {
        counters.error("chat not answered " + scenario.drainSeconds() + " s after the last send");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean caughtUp(List<GrpcViewer> viewers) {
    for (GrpcViewer v : viewers) {
      if (v.reads()
          && v.joinedRoom()
          && v.closedWith().isEmpty()
          && v.lastSequence() < v.room().lastCommandSequence()) {
        return false;
      }
    }
    return true;
  }

  private static Histogram[] latencies(List<PartyRoom> rooms, List<GrpcViewer> viewers) {
    var each = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    var last = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    Map<PartyRoom, Map<Long, Long>> lastArrival = new HashMap<>();
    for (GrpcViewer v : viewers) {
      if (!v.reads()) {
        continue;
      }
      Arrivals a = v.playback();
      Map<Long, Long> room = lastArrival.computeIfAbsent(v.room(), r -> new HashMap<>());
      for (int i = 0; i < a.size(); i++) {
        Long sent = v.room().sentAt(a.sequence(i));
        if (sent != null) {
          each.recordValue(Math.max(0, (a.nanos(i) - sent) / 1000));
          room.merge(a.sequence(i), a.nanos(i), Math::max);
        }
      }
    }
    for (PartyRoom room : rooms) {
      lastArrival
          .getOrDefault(room, Map.of())
          .forEach(
              (sequence, at) -> last.recordValue(Math.max(0, (at - room.sentAt(sequence)) / 1000)));
    }
    return new Histogram[] {each, last};
  }

  private RunResult.GrpcCompleteness completeness(List<PartyRoom> rooms, List<GrpcViewer> viewers) {
    int readers = 0;
    int complete = 0;
    int notJoined = 0;
    int closed = 0;
    int behind = 0;
    int disordered = 0;
    long gaps = 0;
    long outOfOrder = 0;
    long resyncs = 0;
    int stalledJoined = 0;
    for (GrpcViewer v : viewers) {
      if (!v.reads()) {
        stalledJoined += v.joinedRoom() ? 1 : 0;
        continue;
      }
      readers++;
      boolean ok = true;
      if (!v.joinedRoom()) {
        notJoined++;
        ok = false;
      }
      if (!v.closedWith().isEmpty()) {
        closed++;
        ok = false;
      }
      if (v.lastSequence() < v.room().lastCommandSequence()) {
        behind++;
        ok = false;
      }
      if (v.gaps() > 0 || v.outOfOrder() > 0) {
        disordered++;
        ok = false;
      }
      gaps += v.gaps();
      outOfOrder += v.outOfOrder();
      resyncs += v.resyncs();
      complete += ok ? 1 : 0;
    }
    long differing = rooms.stream().mapToLong(PartyRoom::differingFrames).sum();
    return new RunResult.GrpcCompleteness(
        readers,
        complete,
        notJoined,
        closed,
        behind,
        disordered,
        gaps,
        outOfOrder,
        resyncs,
        differing,
        scenario.stalled(),
        stalledJoined);
  }

  private static final long[] NO_MEMORY = {-1, -1};

  /** With --heap: {live heap after a full GC, RSS right after it} of the process, else -1s. */
  private long[] memory(long pid) {
    if (!target.heap() || pid <= 0) {
      return NO_MEMORY;
    }
    long live = ServerHeap.liveBytes(pid);
    return new long[] {live, ProcessStatus.of(pid).rssBytes()};
  }

  private static double perStream(long before, long after, long streams) {
    return before < 0 || after < 0 || streams == 0 ? -1 : (after - before) / (double) streams;
  }

  private static long cpu(long pid) {
    return pid > 0 ? ProcessStatus.of(pid).cpuNanos() : -1;
  }

  private static long since(long pid, long start) {
    return pid > 0 ? ProcessStatus.of(pid).cpuNanos() - start : -1;
  }

  private static void shutdown(List<ManagedChannel> channels, ManagedChannel control)
      throws InterruptedException {
    channels.forEach(ManagedChannel::shutdownNow);
    control.shutdownNow();
    for (ManagedChannel channel : channels) {
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
    control.awaitTermination(10, TimeUnit.SECONDS);
  }
}
