package io.watchparty.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.ReactRequest;
import io.watchparty.proto.v1.ReactResponse;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The {@link SideLoads} of one run, next to the steady fan-out: slow viewers (joined with the
 * others, before the window), and during the measured window churning viewers and reaction bursts,
 * each on a thread of its own. Every wait is bounded.
 */
final class SideLoadRun implements AutoCloseable {
  /** The server's reactions (server: chat.ChatEmoji.ALLOWED). */
  private static final List<String> EMOJI =
      List.of(
          "\uD83D\uDC4D",
          "\uD83D\uDC4E",
          "\u2764\uFE0F",
          "\uD83D\uDE02",
          "\uD83D\uDE2E",
          "\uD83D\uDE22",
          "\uD83D\uDC4F",
          "\uD83D\uDD25",
          "\uD83C\uDF89",
          "\uD83C\uDF7F");

  /** Latency samples at most per reaction figure; more viewers are sampled. */
  private static final long REACTION_SAMPLES = 20_000_000;

  private final SideLoads plan;
  private final InetSocketAddress target;
  private final Tokens tokens;
  private final List<ManagedChannel> channels;
  private final ManagedChannel control;
  private final List<PartyRoom> rooms;
  private final List<GrpcViewer> readers;
  private final LoadCounters counters;
  private final int drainSeconds;

  private final List<ManagedChannel> slowChannels = new ArrayList<>();
  private final List<GrpcViewer> slowViewers = new ArrayList<>();
  private final ScheduledExecutorService slowTimer;

  private final List<GrpcViewer> churners = new ArrayList<>();
  private final List<Long> churnLeaveSent = new ArrayList<>();
  private final Map<String, Integer> churnFailures = new TreeMap<>(); // written by result()
  private long churnFirstJoinSent;

  /** Per room: (sent, acknowledged) of each accepted reaction. */
  private final Map<PartyRoom, ConcurrentLinkedQueue<long[]>> acceptedReactions = new HashMap<>();

  /** Per room: how many of its reactions were accepted so far (the drain compares with it). */
  private final Map<PartyRoom, LongAdder> acceptedCount = new HashMap<>();

  private final LongAdder reactionsSent = new LongAdder();
  private final LongAdder rateLimited = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> otherRefusals = new ConcurrentHashMap<>();
  private final AtomicLong reactionsOpen = new AtomicLong();
  private final Histogram reactionAck = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);

  /** (reactor, answered at, 1 if accepted) of every reaction answered. */
  private final ConcurrentLinkedQueue<long[]> answers = new ConcurrentLinkedQueue<>();

  private Thread churn;
  private Thread reactions;

  SideLoadRun(
      SideLoads plan,
      InetSocketAddress target,
      Tokens tokens,
      List<ManagedChannel> channels,
      ManagedChannel control,
      List<PartyRoom> rooms,
      List<GrpcViewer> readers,
      LoadCounters counters,
      int drainSeconds) {
    this.plan = plan;
    this.target = target;
    this.tokens = tokens;
    this.channels = channels;
    this.control = control;
    this.rooms = rooms;
    this.readers = readers;
    this.counters = counters;
    this.drainSeconds = drainSeconds;
    this.slowTimer =
        plan.slow() > 0
            ? Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "slow-reads"))
            : null;
    for (PartyRoom room : rooms) {
      acceptedReactions.put(room, new ConcurrentLinkedQueue<>());
      acceptedCount.put(room, new LongAdder());
    }
  }

  /**
   * The slow viewers join, each on a connection of its own whose HTTP/2 window is the plan's (a
   * fixed window: no auto-tuning), so that how far the server gets ahead of one does not depend on
   * the others; returns once each has its snapshot (or 60 s have passed).
   */
  void joinSlowViewers(int expectedEvents) throws InterruptedException {
    var joined = new CountDownLatch(plan.slow());
    for (int i = 0; i < plan.slow(); i++) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(target.getHostString(), target.getPort())
              .usePlaintext()
              .directExecutor()
              .flowControlWindow(plan.slowWindowKb() * 1024)
              .build();
      slowChannels.add(channel);
      var viewer =
          new GrpcViewer(
              channel, rooms.get(i % rooms.size()), true, false, counters, joined, expectedEvents);
      viewer.readSlowly(slowTimer, plan.slowReadMs());
      slowViewers.add(viewer);
      viewer.start(tokens.headers("lt-slow-" + i));
    }
    if (!joined.await(60, TimeUnit.SECONDS)) {
      counters.error("slow viewers not joined within 60 s");
    }
  }

  /** Starts the churn and the reaction bursts over the window from {@code start} to {@code end}. */
  void startWindow(long start, long end) {
    if (plan.churnRate() > 0) {
      churn = Thread.ofPlatform().name("churn").start(() -> churn(start, end));
    }
    if (plan.reactionBursts() > 0) {
      reactions = Thread.ofPlatform().name("reactions").start(() -> react(start, end));
    }
  }

  /** Waits for the churn (its last leaves) and for every reaction's answer. */
  void finishWindow() throws InterruptedException {
    if (churn != null) {
      churn.join();
    }
    if (reactions != null) {
      reactions.join();
    }
  }

  /** Whether the slow viewers have their room's last command and the readers every reaction. */
  boolean caughtUp() {
    for (GrpcViewer v : slowViewers) {
      if (v.joinedRoom()
          && v.closedWith().isEmpty()
          && v.lastSequence() < v.room().lastCommandSequence()) {
        return false;
      }
    }
    for (GrpcViewer v : readers) {
      // lastSequence (volatile) first: it orders the viewer's earlier writes before our reads.
      if (v.lastSequence() >= 0
          && v.resyncs() == 0
          && v.closedWith().isEmpty()
          && v.reactionTotal() < acceptedCount.get(v.room()).sum()) {
        return false;
      }
    }
    return true;
  }

  // ---- churn ----

  /**
   * A new viewer every 1/rate seconds from {@code start} until {@code end}, each leaving the plan's
   * stay after its join was sent, or once it has joined if that takes longer; then waits for the
   * last leaves (bounded).
   */
  private void churn(long start, long end) {
    int count = plan.churners((end - start) / 1_000_000);
    long period = (long) (1e9 / plan.churnRate());
    long stay = TimeUnit.MILLISECONDS.toNanos(plan.churnStayMs());
    var leaves = new ArrayDeque<Integer>();
    var notYetJoined = new ArrayList<Integer>();
    churnFirstJoinSent = start;
    for (int i = 0; i < count; i++) {
      long at = start + i * period;
      while (!leaves.isEmpty() && leaveAt(leaves.peek(), start, period, stay) <= at) {
        int next = leaves.poll();
        LockSupport.parkNanos(leaveAt(next, start, period, stay) - System.nanoTime());
        leaveOrWait(next, notYetJoined);
      }
      leaveJoined(notYetJoined);
      LockSupport.parkNanos(at - System.nanoTime());
      var viewer =
          new GrpcViewer(
              channels.get(i % channels.size()),
              rooms.get(i % rooms.size()),
              true,
              false,
              counters,
              new CountDownLatch(1),
              8);
      churners.add(viewer);
      churnLeaveSent.add(0L);
      viewer.start(tokens.headers("lt-churn-" + i));
      leaves.add(i);
    }
    while (!leaves.isEmpty()) {
      int next = leaves.poll();
      LockSupport.parkNanos(leaveAt(next, start, period, stay) - System.nanoTime());
      leaveOrWait(next, notYetJoined);
      leaveJoined(notYetJoined);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(drainSeconds);
    while (System.nanoTime() < deadline && !(notYetJoined.isEmpty() && allLeft())) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      leaveJoined(notYetJoined);
    }
    // Never joined within the drain time: counted as not joined in the result.
    notYetJoined.forEach(i -> churners.get(i).cancel());
  }

  private static long leaveAt(int i, long start, long period, long stay) {
    return start + i * period + stay;
  }

  /** Leaves now if joined (or closed by the server: nothing to leave), else later. */
  private void leaveOrWait(int i, List<Integer> notYetJoined) {
    GrpcViewer v = churners.get(i);
    if (v.joinedRoom()) {
      churnLeaveSent.set(i, System.nanoTime());
      v.leave();
    } else if (v.closedWith().isEmpty()) {
      notYetJoined.add(i);
    }
  }

  private void leaveJoined(List<Integer> notYetJoined) {
    for (var it = notYetJoined.iterator(); it.hasNext(); ) {
      int i = it.next();
      GrpcViewer v = churners.get(i);
      if (v.joinedRoom() || !v.closedWith().isEmpty()) {
        it.remove();
        leaveOrWait(i, notYetJoined);
      }
    }
  }

  private boolean allLeft() {
    for (GrpcViewer v : churners) {
      if (v.joinedRoom() && v.leftNanos() == 0 && v.closedWith().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  // ---- reactions ----

  /**
   * Bursts at evenly spaced instants of the window: each reactor sends its reactions at once, the
   * reactors interleaved, as many viewers reacting to the same moment of the film.
   */
  private void react(long start, long end) {
    int reactors = plan.reactors();
    List<ChatServiceGrpc.ChatServiceStub> stubs = new ArrayList<>();
    for (int r = 0; r < reactors; r++) {
      stubs.add(
          ChatServiceGrpc.newStub(control)
              .withInterceptors(
                  MetadataUtils.newAttachHeadersInterceptor(tokens.headers("lt-viewer-" + r))));
    }
    for (int b = 0; b < plan.reactionBursts(); b++) {
      long at = start + (2L * b + 1) * (end - start) / (2L * plan.reactionBursts());
      LockSupport.parkNanos(at - System.nanoTime());
      for (int k = 0; k < plan.reactionsEach(); k++) {
        for (int r = 0; r < reactors; r++) {
          sendReaction(
              stubs.get(r), r, readers.get(r).room(), EMOJI.get((b + r + k) % EMOJI.size()));
        }
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(drainSeconds);
    while (reactionsOpen.get() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    if (reactionsOpen.get() > 0) {
      counters.error("reactions not answered " + drainSeconds + " s after the last burst");
    }
  }

  private void sendReaction(
      ChatServiceGrpc.ChatServiceStub stub, int reactor, PartyRoom room, String emoji) {
    reactionsSent.increment();
    reactionsOpen.incrementAndGet();
    long sent = System.nanoTime();
    stub.withDeadlineAfter(10, TimeUnit.SECONDS)
        .react(
            ReactRequest.newBuilder()
                .setRoomId(room.roomId())
                .setReaction(React.newBuilder().setEmoji(emoji))
                .build(),
            new StreamObserver<ReactResponse>() {
              @Override
              public void onNext(ReactResponse value) {
                long now = System.nanoTime();
                acceptedReactions.get(room).add(new long[] {sent, now});
                acceptedCount.get(room).increment();
                answers.add(new long[] {reactor, now, 1});
                reactionAck.recordValue(Math.max(0, (now - sent) / 1000));
              }

              @Override
              public void onError(Throwable t) {
                Status.Code code = Status.fromThrowable(t).getCode();
                answers.add(new long[] {reactor, System.nanoTime(), 0});
                if (code == Status.Code.RESOURCE_EXHAUSTED) {
                  rateLimited.increment();
                } else {
                  otherRefusals.computeIfAbsent(code.name(), c -> new LongAdder()).increment();
                }
                reactionsOpen.decrementAndGet();
              }

              @Override
              public void onCompleted() {
                reactionsOpen.decrementAndGet();
              }
            });
  }

  // ---- results (after the viewers are cancelled) ----

  SideLoadResult result() {
    return new SideLoadResult(
        plan.churnRate() > 0 ? Optional.of(churnResult()) : Optional.empty(),
        plan.reactionBursts() > 0 ? Optional.of(reactionResult()) : Optional.empty(),
        plan.slow() > 0 ? Optional.of(slowResult()) : Optional.empty());
  }

  private SideLoadResult.Churn churnResult() {
    var join = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    var leave = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    int joined = 0;
    int left = 0;
    long gaps = 0;
    long outOfOrder = 0;
    long lastJoined = churnFirstJoinSent;
    int failed = 0;
    for (int i = 0; i < churners.size(); i++) {
      GrpcViewer v = churners.get(i);
      String failure = "";
      if (v.joinedRoom()) {
        joined++;
        join.recordValue(Math.min(v.joinNanos() / 1000, join.getHighestTrackableValue()));
        lastJoined = Math.max(lastJoined, v.startedNanos() + v.joinNanos());
      } else {
        failure =
            v.closedWith().isEmpty()
                ? "not joined within the drain time"
                : "join refused: " + v.closedWith();
      }
      if (v.leftNanos() != 0) {
        left++;
        leave.recordValue(
            Math.min(
                Math.max(0, (v.leftNanos() - churnLeaveSent.get(i)) / 1000),
                leave.getHighestTrackableValue()));
      } else if (v.joinedRoom()) {
        failure =
            v.closedWith().isEmpty()
                ? "no end of stream after its Leave"
                : "stream closed by the server: " + v.closedWith();
      }
      if (v.gaps() > 0 || v.outOfOrder() > 0) {
        failure = "gap or out-of-order frame";
      }
      gaps += v.gaps();
      outOfOrder += v.outOfOrder();
      if (!failure.isEmpty()) {
        failed++;
        churnFailures.merge(failure, 1, Integer::sum);
      }
    }
    double seconds = (lastJoined - churnFirstJoinSent) / 1e9;
    return new SideLoadResult.Churn(
        churners.size(),
        joined,
        left,
        failed,
        gaps,
        outOfOrder,
        seconds > 0 ? joined / seconds : 0,
        join,
        leave,
        Map.copyOf(churnFailures));
  }

  /**
   * The refusals the server's documented limiter (a token bucket per user: full at first, refilled
   * at the rate up to the burst; server: room.RateLimiter) makes of the reactions, replayed at the
   * instants they were answered, which follow the instants the server counted them by at most the
   * reply's way back. The bursts' send instants would not do: a burst of thousands reaches the
   * server over a second or more, while the buckets refill.
   */
  private long[] replayLimiter() {
    Map<Long, List<long[]>> byReactor = new HashMap<>();
    for (long[] a : answers) {
      byReactor.computeIfAbsent(a[0], r -> new ArrayList<>()).add(a);
    }
    long refused = 0;
    long differing = 0;
    double perNano = plan.reactionLimitRate() / 1e9;
    for (List<long[]> reactor : byReactor.values()) {
      reactor.sort((x, y) -> Long.compare(x[1], y[1]));
      double tokens = plan.reactionLimitBurst();
      long last = reactor.get(0)[1];
      for (long[] a : reactor) {
        tokens = Math.min(plan.reactionLimitBurst(), tokens + (a[1] - last) * perNano);
        last = a[1];
        boolean accepts = tokens >= 1;
        if (accepts) {
          tokens -= 1;
        } else {
          refused++;
        }
        differing += accepts == (a[2] == 1) ? 0 : 1;
      }
    }
    return new long[] {refused, differing};
  }

  private SideLoadResult.Reactions reactionResult() {
    var deliver = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    long accepted = 0;
    long expected = 0;
    long delivered = 0;
    long events = 0;
    int exact = 0;
    int shortResynced = 0;
    int wrong = 0;
    int checked = 0;
    for (PartyRoom room : rooms) {
      // Counting precedes the answer: in the order of the answers is the order of counting, up to
      // replies that overtake each other on their way back (a window edge at most).
      long[][] byAck = acceptedReactions.get(room).toArray(long[][]::new);
      Arrays.sort(byAck, (x, y) -> Long.compare(x[1], y[1]));
      accepted += byAck.length;
      List<GrpcViewer> members = readers.stream().filter(v -> v.room() == room).toList();
      long stride =
          Math.max(1, Math.ceilDiv((long) members.size() * byAck.length, REACTION_SAMPLES));
      long roomEvents = 0;
      for (int m = 0; m < members.size(); m++) {
        GrpcViewer v = members.get(m);
        checked++;
        expected += byAck.length;
        delivered += v.reactionTotal();
        Arrivals a = v.reactions();
        roomEvents = Math.max(roomEvents, a.size());
        if (v.reactionTotal() == byAck.length) {
          exact++;
        } else if (v.reactionTotal() < byAck.length && v.resyncs() > 0) {
          shortResynced++;
        } else {
          wrong++;
        }
        if (m % stride != 0) {
          continue;
        }
        int k = 0;
        for (int e = 0; e < a.size(); e++) {
          long upTo = Math.min(a.sequence(e), byAck.length);
          for (; k < upTo; k++) {
            deliver.recordValue(
                Math.min(
                    Math.max(0, (a.nanos(e) - byAck[k][0]) / 1000),
                    deliver.getHighestTrackableValue()));
          }
        }
      }
      events += roomEvents;
    }
    long[] limiter = replayLimiter();
    Map<String, Long> others = new TreeMap<>();
    otherRefusals.forEach((code, n) -> others.put(code, n.sum()));
    return new SideLoadResult.Reactions(
        reactionsSent.sum(),
        accepted,
        rateLimited.sum(),
        limiter[0],
        limiter[1],
        others,
        events,
        checked,
        exact,
        shortResynced,
        wrong,
        expected,
        delivered,
        deliver,
        reactionAck.copy());
  }

  private SideLoadResult.Slow slowResult() {
    var each = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    int complete = 0;
    int behind = 0;
    int closed = 0;
    int resynced = 0;
    long resyncs = 0;
    long gaps = 0;
    long outOfOrder = 0;
    for (GrpcViewer v : slowViewers) {
      Arrivals a = v.playback();
      for (int i = 0; i < a.size(); i++) {
        Long sent = v.room().sentAt(a.sequence(i));
        if (sent != null) {
          each.recordValue(
              Math.min(Math.max(0, (a.nanos(i) - sent) / 1000), each.getHighestTrackableValue()));
        }
      }
      boolean isBehind = v.lastSequence() < v.room().lastCommandSequence();
      boolean isClosed = !v.closedWith().isEmpty();
      behind += isBehind ? 1 : 0;
      closed += isClosed ? 1 : 0;
      resynced += v.resyncs() > 0 ? 1 : 0;
      resyncs += v.resyncs();
      gaps += v.gaps();
      outOfOrder += v.outOfOrder();
      if (v.joinedRoom() && !isBehind && !isClosed && v.gaps() == 0 && v.outOfOrder() == 0) {
        complete++;
      }
    }
    return new SideLoadResult.Slow(
        slowViewers.size(), complete, behind, closed, resynced, resyncs, gaps, outOfOrder, each);
  }

  /** Ends the slow viewers and the churners still there, and the slow viewers' connections. */
  void cancelViewers() {
    slowViewers.forEach(GrpcViewer::cancel);
    churners.forEach(
        v -> {
          if (v.leftNanos() == 0) {
            v.cancel();
          }
        });
  }

  @Override
  public void close() throws InterruptedException {
    cancelViewers();
    if (slowTimer != null) {
      slowTimer.shutdownNow();
    }
    slowChannels.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel c : slowChannels) {
      c.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
