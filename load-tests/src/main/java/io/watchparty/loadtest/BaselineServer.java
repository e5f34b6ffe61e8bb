package io.watchparty.loadtest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The bare grpc-java fan-out the platform is compared with: the same {@code RoomService/Connect},
 * {@code SendCommand}, {@code CreateRoom} and {@code ChatService/SendChat} methods, but a command
 * or chat message only numbers one {@code ServerMessage}, serializes it once and hands the same
 * bytes to every stream of the room, inline while the stream is ready and its queue empty, else
 * into a bounded queue drained from the stream's onReady handler (a full queue is replaced by a
 * snapshot, as the platform does). No authentication, storage, validation or rate limits.
 *
 * <p>With {@code sse}, it also serves SSE tabs as the web bridge does ({@link BareSse}): an event
 * is then framed once more, as the bridge frames it, and those bytes go to every tab of the room.
 *
 * <p>Runs in a JVM of its own, started by {@link BaselineProcess}, so that its CPU time is read
 * from {@code /proc} apart from the generator's, exactly like the platform server's. Prints {@code
 * listening <port>} (or {@code listening <port> <sse port>}) once it serves; when its standard
 * input ends (the generator is done or gone) it prints {@code fan-out <base64 histogram>} (command
 * received to last frame handed to gRPC, in microseconds) and exits. Loopback only; it also exits
 * after {@code maxSeconds}.
 */
public final class BaselineServer {
  /** Frames queued per stream before it is resynchronized: the platform's default outbox. */
  static final int QUEUE_CAPACITY = 256;

  private static final long LEAD_MS = 150;

  private final ConcurrentHashMap<String, BareRoom> rooms = new ConcurrentHashMap<>();
  private final AtomicLong roomIds = new AtomicLong();
  private final Histogram fanOutMicros = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);

  /** A room as the SSE tabs see it. */
  interface SseRoom {
    /** Starts serving the tab: the room's snapshot first, then every event. */
    void attach(BareSse.Tab tab);

    void detach(BareSse.Tab tab);
  }

  /** {@code BaselineServer <port, 0 for any> <maxSeconds> [sse]} */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    long maxSeconds = Long.parseLong(args[1]);
    boolean withSse = args.length > 2 && args[2].equals("sse");
    var baseline = new BaselineServer();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
            // Handlers only hand bytes on: run them on the transport threads, as cheap as it gets.
            .directExecutor()
            .addService(baseline.roomService())
            .addService(baseline.chatService())
            .build()
            .start();
    BareSse sse =
        withSse ? BareSse.start(roomId -> Optional.ofNullable(baseline.rooms.get(roomId))) : null;
    System.out.println("listening " + server.getPort() + (sse == null ? "" : " " + sse.port()));
    System.out.flush();
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
              } catch (InterruptedException e) {
                return;
              }
              System.err.println("baseline: stopping after " + maxSeconds + " s");
              System.exit(2);
            });
    while (System.in.read() >= 0) {
      // Runs until the generator closes our standard input.
    }
    if (sse != null) {
      sse.close();
    }
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    System.out.println("fan-out " + baseline.encodedFanOut());
    System.out.flush();
  }

  private synchronized String encodedFanOut() {
    ByteBuffer buffer = ByteBuffer.allocate(fanOutMicros.getNeededByteBufferCapacity());
    int length = fanOutMicros.encodeIntoCompressedByteBuffer(buffer);
    return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
  }

  private synchronized void recordFanOut(long nanos) {
    fanOutMicros.recordValue(Math.min(nanos / 1000, fanOutMicros.getHighestTrackableValue()));
  }

  private ServerServiceDefinition roomService() {
    return ServerServiceDefinition.builder(RoomServiceGrpc.SERVICE_NAME)
        .addMethod(
            RoomServiceGrpc.getCreateRoomMethod(),
            ServerCalls.asyncUnaryCall(
                (CreateRoomRequest request, StreamObserver<CreateRoomResponse> reply) -> {
                  String roomId = "baseline-" + roomIds.incrementAndGet();
                  rooms.put(roomId, new BareRoom(roomId, request.getTitleId()));
                  reply.onNext(
                      CreateRoomResponse.newBuilder()
                          .setRoom(RoomInfo.newBuilder().setRoomId(roomId))
                          .build());
                  reply.onCompleted();
                }))
        .addMethod(
            RoomServiceGrpc.getSendCommandMethod(),
            ServerCalls.asyncUnaryCall(
                (SendCommandRequest request, StreamObserver<CommandAccepted> reply) -> {
                  BareRoom room = rooms.get(request.getRoomId());
                  if (room == null) {
                    reply.onError(io.grpc.Status.NOT_FOUND.asRuntimeException());
                    return;
                  }
                  reply.onNext(room.command(request.getCommand().getPlayback()));
                  reply.onCompleted();
                }))
        .addMethod(Wire.CONNECT, ServerCalls.asyncBidiStreamingCall(this::connect))
        .build();
  }

  private ServerServiceDefinition chatService() {
    return ServerServiceDefinition.builder(ChatServiceGrpc.SERVICE_NAME)
        .addMethod(
            ChatServiceGrpc.getSendChatMethod(),
            ServerCalls.asyncUnaryCall(
                (SendChatRequest request, StreamObserver<ChatMessage> reply) -> {
                  BareRoom room = rooms.get(request.getRoomId());
                  if (room == null) {
                    reply.onError(io.grpc.Status.NOT_FOUND.asRuntimeException());
                    return;
                  }
                  reply.onNext(room.chat(request));
                  reply.onCompleted();
                }))
        .build();
  }

  private StreamObserver<ClientMessage> connect(StreamObserver<byte[]> responses) {
    var stream = new BareStream((ServerCallStreamObserver<byte[]>) responses);
    return new StreamObserver<>() {
      @Override
      public void onNext(ClientMessage message) {
        if (message.hasJoin() && stream.room == null) {
          BareRoom room = rooms.get(message.getJoin().getRoomId());
          if (room == null) {
            responses.onError(io.grpc.Status.NOT_FOUND.asRuntimeException());
            return;
          }
          stream.room = room;
          room.attach(stream);
        }
      }

      @Override
      public void onError(Throwable t) {
        stream.detach();
      }

      @Override
      public void onCompleted() {
        stream.detach();
        responses.onCompleted();
      }
    };
  }

  /** One room: its streams, sequence and playback state, all under the room's lock. */
  private final class BareRoom implements SseRoom {
    private final String roomId;
    private final String titleId;

    @GuardedBy("this")
    private final List<BareStream> streams = new ArrayList<>();

    @GuardedBy("this")
    private final List<BareSse.Tab> tabs = new ArrayList<>();

    @GuardedBy("this")
    private long sequence;

    @GuardedBy("this")
    private PlaybackState state;

    BareRoom(String roomId, String titleId) {
      this.roomId = roomId;
      this.titleId = titleId;
      this.state =
          PlaybackState.newBuilder()
              .setTitleId(titleId)
              .setTitleDurationMs(600_000)
              .setRate(1)
              .build();
    }

    synchronized void attach(BareStream stream) {
      streams.add(stream);
      stream.offer(snapshot());
    }

    synchronized void detach(BareStream stream) {
      streams.remove(stream);
    }

    @Override
    public synchronized void attach(BareSse.Tab tab) {
      tabs.add(tab);
      tab.offer(BareSse.frame(snapshotMessage()));
    }

    @Override
    public synchronized void detach(BareSse.Tab tab) {
      tabs.remove(tab);
    }

    synchronized CommandAccepted command(PlaybackCommand command) {
      long effectiveAt = System.currentTimeMillis() + LEAD_MS;
      var next = state.toBuilder().setEffectiveAtMs(effectiveAt).setSequence(sequence + 1);
      switch (command.getActionCase()) {
        case PLAY -> next.setPlaying(true);
        case PAUSE -> next.setPlaying(false);
        case SEEK -> next.setPositionMs(command.getSeek().getPositionMs());
        case SET_RATE -> next.setRate(command.getSetRate().getRate());
        default -> {}
      }
      state = next.build();
      long published =
          publish(
              ServerMessage.newBuilder()
                  .setPlaybackChanged(
                      PlaybackChanged.newBuilder()
                          .setState(state)
                          .setByUserId("lt-host")
                          .setCause(PlaybackChanged.Cause.COMMAND)));
      return CommandAccepted.newBuilder()
          .setSequence(published)
          .setEffectiveAtMs(effectiveAt)
          .build();
    }

    synchronized ChatMessage chat(SendChatRequest request) {
      var message =
          ChatMessage.newBuilder()
              .setMessageId(roomId + "-" + (sequence + 1))
              .setRoomId(roomId)
              .setUserId("lt-chatter")
              .setDisplayName("lt-chatter")
              .setText(request.getMessage().getText())
              .setSentAtMs(System.currentTimeMillis())
              .setClientMessageId(request.getMessage().getClientMessageId())
              .build();
      publish(ServerMessage.newBuilder().setChat(message));
      return message;
    }

    /**
     * Numbers and serializes the event once, then hands the same bytes to every stream; likewise
     * its SSE frame to every tab.
     */
    @GuardedBy("this")
    private long publish(ServerMessage.Builder event) {
      long start = System.nanoTime();
      ServerMessage message = event.setSequence(++sequence).build();
      byte[] frame = message.toByteArray();
      for (BareStream stream : streams) {
        if (!stream.offer(frame)) {
          stream.resetTo(snapshot());
        }
      }
      if (!tabs.isEmpty()) {
        byte[] sseFrame = BareSse.frame(message);
        for (BareSse.Tab tab : tabs) {
          if (!tab.offer(sseFrame)) {
            tab.resetTo(BareSse.frame(snapshotMessage()));
          }
        }
      }
      recordFanOut(System.nanoTime() - start);
      return sequence;
    }

    @GuardedBy("this")
    private byte[] snapshot() {
      return snapshotMessage().toByteArray();
    }

    @GuardedBy("this")
    private ServerMessage snapshotMessage() {
      return ServerMessage.newBuilder()
          .setSequence(sequence)
          .setSnapshot(
              Snapshot.newBuilder()
                  .setRoom(RoomInfo.newBuilder().setRoomId(roomId).setTitleId(titleId))
                  .setPlayback(state)
                  .setCommandLeadMs(LEAD_MS)
                  .setServerTimeMs(System.currentTimeMillis()))
          .build();
    }
  }

  /**
   * One stream's writer: written inline by the publishing thread while gRPC says it is ready and
   * nothing is queued, otherwise queued (bounded) and drained by the onReady handler.
   */
  private static final class BareStream {
    private final ServerCallStreamObserver<byte[]> call;

    @GuardedBy("this")
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();

    @GuardedBy("this")
    private boolean closed;

    volatile BareRoom room;

    BareStream(ServerCallStreamObserver<byte[]> call) {
      this.call = call;
      call.setOnReadyHandler(this::drain);
      call.setOnCancelHandler(this::detach);
    }

    /** False if the queue is full: the caller replaces it with a snapshot. */
    synchronized boolean offer(byte[] frame) {
      if (closed) {
        return true;
      }
      if (queue.isEmpty() && call.isReady()) {
        call.onNext(frame);
        return true;
      }
      if (queue.size() >= QUEUE_CAPACITY) {
        return false;
      }
      queue.add(frame);
      return true;
    }

    synchronized void resetTo(byte[] snapshot) {
      queue.clear();
      queue.add(snapshot);
      drain();
    }

    synchronized void drain() {
      while (!closed && !queue.isEmpty() && call.isReady()) {
        call.onNext(queue.poll());
      }
    }

    void detach() {
      synchronized (this) {
        closed = true;
        queue.clear();
      }
      BareRoom joined = room;
      if (joined != null) {
        joined.detach(this);
      }
    }
  }
}
