package io.watchparty.loadtest;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * A large public party on one server: one host, many viewers (each a synthetic subscribed user with
 * its own room stream), optionally some stalled viewers that never read. The host issues seeks;
 * every viewer records when each change arrived and where its player would be at the change's
 * effective time. Reports delivery latency (host command to each viewer, and to the last viewer),
 * whether viewers hold identical playback states, and fan-out throughput.
 *
 * <p>Loopback only, bounded in viewers, commands and time; it stops by itself.
 */
@CommandLine.Command(
    name = "party-load",
    mixinStandardHelpOptions = true,
    description = "Simulates a large public watch party against a local WatchParty server.")
public final class PartyLoad implements Callable<Integer> {
  @Option(
      names = "--target",
      defaultValue = "127.0.0.1:50051",
      description = "gRPC server (loopback only)")
  String target;

  @Option(
      names = "--secret",
      required = true,
      description = "the server's watchparty.auth.secret, to sign viewer tokens")
  String secret;

  @Option(names = "--viewers", defaultValue = "500", description = "viewers that read (max 20000)")
  int viewers;

  @Option(names = "--stalled", defaultValue = "0", description = "viewers that never read")
  int stalled;

  @Option(
      names = "--commands",
      defaultValue = "50",
      description = "seek commands the host sends (max 10000)")
  int commands;

  @Option(names = "--interval-ms", defaultValue = "250", description = "pause between two commands")
  long intervalMs;

  @Option(names = "--title", defaultValue = "metropolis")
  String titleId;

  @Option(
      names = "--server-pid",
      defaultValue = "0",
      description =
          "pid of the server JVM on this machine: if given, its live heap is measured (jcmd GC.run,"
              + " GC.heap_info) before and after the viewers join, giving the heap per stream")
  long serverPid;

  public static void main(String[] args) {
    System.exit(new CommandLine(new PartyLoad()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    String host = target.substring(0, target.lastIndexOf(':'));
    int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
    if (!InetAddress.getByName(host).isLoopbackAddress()) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--target must be a loopback address, got " + host);
    }
    if (viewers < 1
        || viewers > 20_000
        || stalled < 0
        || stalled > 1_000
        || commands < 1
        || commands > 10_000) {
      throw new CommandLine.ParameterException(new CommandLine(this), "counts out of range");
    }
    // A few connections, as many clients would share few machines; streams multiplex over them.
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      channels.add(NettyChannelBuilder.forAddress(host, port).usePlaintext().build());
    }
    try {
      return run(channels);
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private int run(List<ManagedChannel> channels) throws Exception {
    var hostStub = stub(channels.get(0), "lt-host");
    String roomId =
        hostStub
            .createRoom(
                CreateRoomRequest.newBuilder()
                    .setTitleId(titleId)
                    .setName("Load test party")
                    .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                    .build())
            .getRoom()
            .getRoomId();
    System.out.printf(
        "room %s, %d viewers (+%d stalled), %d commands%n", roomId, viewers, stalled, commands);
    long heapBefore = serverPid > 0 ? ServerHeap.liveBytes(serverPid) : 0;

    // sequence -> host send time (nanos), and the state each command produced
    var sentAt = new ConcurrentHashMap<Long, Long>();
    var states = new ConcurrentHashMap<Long, PlaybackState>();
    var arrivals = new ConcurrentLinkedQueue<long[]>();
    var received = new AtomicLong();
    var mismatches = new AtomicLong();
    var snapshots = new CountDownLatch(viewers);
    var done = new CountDownLatch(viewers);
    long started = System.nanoTime();

    List<StreamObserver<ClientMessage>> streams = new ArrayList<>();
    for (int i = 0; i < viewers + stalled; i++) {
      boolean reads = i < viewers;
      var stub = stub(channels.get(i % channels.size()), "lt-viewer-" + i);
      var observer =
          new ClientResponseObserver<ClientMessage, ServerMessage>() {
            long seen;

            @Override
            public void beforeStart(ClientCallStreamObserver<ClientMessage> requests) {
              if (!reads) {
                requests.disableAutoRequestWithInitial(1); // takes its snapshot, then stalls
              }
            }

            @Override
            public void onNext(ServerMessage m) {
              long now = System.nanoTime();
              if (m.hasSnapshot()) {
                seen = m.getSequence();
                if (reads) {
                  snapshots.countDown();
                }
                return;
              }
              if (!m.hasPlaybackChanged()) {
                return;
              }
              received.incrementAndGet();
              // Matched with the send time after the run: the reply to the host may come later.
              arrivals.add(new long[] {m.getSequence(), now});
              PlaybackState first =
                  states.putIfAbsent(m.getSequence(), m.getPlaybackChanged().getState());
              if (first != null && !first.equals(m.getPlaybackChanged().getState())) {
                mismatches.incrementAndGet();
              }
              if (m.getPlaybackChanged().getState().getPositionMs() == lastSeekTarget()) {
                done.countDown();
              }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          };
      StreamObserver<ClientMessage> requests = stub.connect(observer);
      requests.onNext(
          ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(roomId)).build());
      streams.add(requests);
    }
    if (!snapshots.await(120, TimeUnit.SECONDS)) {
      System.out.println("not every viewer got its snapshot within 120 s");
      return 1;
    }
    long joinedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    System.out.printf("all %d viewers joined in %d ms%n", viewers, joinedMs);
    if (serverPid > 0) {
      long heapAfter = ServerHeap.liveBytes(serverPid);
      System.out.printf(
          Locale.ROOT,
          "server live heap: %.1f MB before, %.1f MB with the streams: %.1f KB per stream%n",
          heapBefore / 1e6,
          heapAfter / 1e6,
          (heapAfter - heapBefore) / 1e3 / (viewers + stalled));
    }

    // The host is present in the room (commands need it); it reads but measures nothing.
    var hostJoined = new CountDownLatch(1);
    StreamObserver<ClientMessage> hostStream =
        hostStub.connect(
            new ClientResponseObserver<ClientMessage, ServerMessage>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<ClientMessage> requests) {}

              @Override
              public void onNext(ServerMessage m) {
                if (m.hasSnapshot()) {
                  hostJoined.countDown();
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    hostStream.onNext(
        ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(roomId)).build());
    streams.add(hostStream);
    if (!hostJoined.await(30, TimeUnit.SECONDS)) {
      System.out.println("the host could not join within 30 s");
      return 1;
    }

    long firstSend = System.nanoTime();
    for (int c = 1; c <= commands; c++) {
      long position = seekTarget(c);
      long before = System.nanoTime();
      var accepted =
          hostStub.sendCommand(
              SendCommandRequest.newBuilder()
                  .setRoomId(roomId)
                  .setCommand(
                      Command.newBuilder()
                          .setPlayback(
                              PlaybackCommand.newBuilder()
                                  .setSeek(
                                      PlaybackCommand.Seek.newBuilder().setPositionMs(position))))
                  .build());
      sentAt.put(accepted.getSequence(), before);
      Thread.sleep(intervalMs);
    }
    boolean all = done.await(60, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - firstSend) / 1e9;
    var deliveryLatency = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    var lastArrival = new HashMap<Long, Long>();
    for (long[] arrival : arrivals) {
      Long sent = sentAt.get(arrival[0]);
      if (sent != null) {
        deliveryLatency.recordValue(Math.max(0, (arrival[1] - sent) / 1000));
        lastArrival.merge(arrival[0], arrival[1], Math::max);
      }
    }
    Histogram lastViewer = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    lastArrival.forEach(
        (sequence, at) -> lastViewer.recordValue((at - sentAt.get(sequence)) / 1000));
    streams.forEach(s -> s.onCompleted());

    System.out.printf(
        Locale.ROOT, "commands: %d, every viewer got the last one: %s%n", commands, all);
    System.out.printf(
        Locale.ROOT,
        "deliveries: %d (%.0f/s over %.1f s)%n",
        received.get(),
        received.get() / seconds,
        seconds);
    print("host command -> each viewer", deliveryLatency);
    print("host command -> last viewer", lastViewer);
    // Players act on (state, effective time), so viewers holding the same state for a sequence
    // show the same frame at the effective time; what remains is each one's clock-offset error.
    System.out.printf(
        Locale.ROOT,
        "playback states differing between viewers for the same sequence: %d (of %d sequences)%n",
        mismatches.get(),
        states.size());
    System.out.printf(
        Locale.ROOT,
        "command lead 150 ms covers the last-viewer p99: %s%n",
        lastViewer.getValueAtPercentile(99) < 150_000);
    return all ? 0 : 1;
  }

  private long lastSeekTarget() {
    return seekTarget(commands);
  }

  private static long seekTarget(int command) {
    return 60_000L + command * 1_000L;
  }

  private static void print(String what, Histogram h) {
    System.out.printf(
        Locale.ROOT,
        "%s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)%n",
        what,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0,
        h.getTotalCount());
  }

  private RoomServiceGrpc.RoomServiceBlockingStub blockingStub(
      ManagedChannel channel, String user) {
    return RoomServiceGrpc.newBlockingStub(channel).withInterceptors(auth(user));
  }

  private StubPair stub(ManagedChannel channel, String user) {
    return new StubPair(
        blockingStub(channel, user), RoomServiceGrpc.newStub(channel).withInterceptors(auth(user)));
  }

  private io.grpc.ClientInterceptor auth(String user) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + token(user));
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  private String token(String user) {
    var claims =
        new JWTClaimsSet.Builder()
            .subject(user)
            .issuer("watchparty")
            .expirationTime(Date.from(Instant.now().plus(Duration.ofHours(1))))
            .claim("name", user)
            .claim("region", "US")
            .claim("subscription", "active")
            .build();
    var jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("--secret is not a usable HMAC key: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /** Blocking calls for the host, streaming for the room. */
  private record StubPair(
      RoomServiceGrpc.RoomServiceBlockingStub blocking, RoomServiceGrpc.RoomServiceStub async) {
    io.watchparty.proto.v1.CreateRoomResponse createRoom(CreateRoomRequest request) {
      return blocking.createRoom(request);
    }

    io.watchparty.proto.v1.CommandAccepted sendCommand(SendCommandRequest request) {
      return blocking.sendCommand(request);
    }

    StreamObserver<ClientMessage> connect(ClientResponseObserver<ClientMessage, ServerMessage> o) {
      return async.connect(o);
    }
  }
}
