package io.watchparty.server.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Refusals;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Measures, and prints, chat latency in one room on the real Cassandra node: send to
 * acknowledgement (the sender's CommandResult.chat_stored, i.e. after the message and its send's
 * row are written in one batch and the room published it) and send to delivery (another member's
 * ChatMessage event). In-process gRPC transport, so the numbers are server plus Cassandra, without
 * network. Asserts only that every send was answered (stored, or refused as storage unavailable:
 * then it is counted) and every stored message delivered, never how fast. A benchmark (3,800
 * messages), tagged {@code timing}: it runs in the timing profile ({@code -Ptiming}), not in the
 * default test run.
 */
@Tag("timing")
class ChatLatencyIT {
  private static final int VIEWERS = 20;

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .rooms(r -> r.outboxCapacity(100_000))
          .chat(ChatSettings.DEFAULTS.withMessageRate(100_000, 100_000))
          .build();

  @Test
  void printsSendToAcknowledgeAndSendToDeliverLatencies() throws InterruptedException {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    Timed sender = new Timed("alice", roomId);
    Timed receiver = new Timed("bob", roomId);
    List<Timed> others = new ArrayList<>();
    for (int i = 0; i < VIEWERS - 2; i++) {
      others.add(
          new Timed(List.of("chiara", "emma", "farid", "gabriela", "hiro").get(i % 5), roomId));
    }

    run("warm-up", sender, receiver, 300, 0);
    System.out.printf(
        "%nChat latency, one room (%d streams, 1 sender), in-process gRPC, Cassandra %s on"
            + " loopback, %d CPUs:%n",
        VIEWERS, "single local node", Runtime.getRuntime().availableProcessors());
    // Each run is printed when it ends, so a later run that fails still leaves the earlier numbers.
    run("one at a time", sender, receiver, 1_000, 0).print();
    run("500 msg/s", sender, receiver, 2_500, 500).print();
    sender.close();
    receiver.close();
    others.forEach(Timed::close);
  }

  /**
   * Sends {@code count} messages (at {@code perSecond}, or each after the previous answer if 0).
   * Every send must be answered; a send refused because Cassandra timed out (a disk that stalls its
   * commit log sync on a busy machine, say) is counted and printed, and left out of the latencies:
   * it was neither acknowledged nor delivered.
   */
  private static Result run(String name, Timed sender, Timed receiver, int count, int perSecond)
      throws InterruptedException {
    long[] sentAt = new long[count];
    CountDownLatch answered = new CountDownLatch(count);
    AtomicInteger delivered = new AtomicInteger();
    Set<String> refusals = ConcurrentHashMap.newKeySet();
    long[] ackNanos = new long[count];
    long[] deliverNanos = new long[count];
    String prefix = name.replaceAll("[^a-z0-9]", "") + "-";
    Semaphore oneAtATime = new Semaphore(1);
    sender.onAck =
        (requestId, at) -> {
          int i = Integer.parseInt(requestId.substring(prefix.length()));
          ackNanos[i] = at - sentAt[i];
          answered.countDown();
          oneAtATime.release();
        };
    sender.onRefusal =
        (requestId, reason) -> {
          int i = Integer.parseInt(requestId.substring(prefix.length()));
          ackNanos[i] = -1;
          refusals.add(reason);
          answered.countDown();
          oneAtATime.release();
        };
    receiver.onChat =
        (clientId, at) -> {
          if (clientId.startsWith(prefix)) {
            int i = Integer.parseInt(clientId.substring(prefix.length()));
            deliverNanos[i] = at - sentAt[i];
            delivered.incrementAndGet();
          }
        };
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      if (perSecond == 0) {
        oneAtATime.acquire();
      } else {
        long due = start + (long) i * 1_000_000_000L / perSecond;
        while (System.nanoTime() < due) {
          LockSupport.parkNanos(due - System.nanoTime());
        }
      }
      sentAt[i] = System.nanoTime();
      sender.send(prefix + i, "message " + i + " of the " + name + " run");
    }
    assertThat(answered.await(60, TimeUnit.SECONDS)).as("every send answered").isTrue();
    assertThat(refusals).isSubsetOf(ErrorReason.STORAGE_UNAVAILABLE.name());
    double seconds = (System.nanoTime() - start) / 1e9;
    long[] acks = Arrays.stream(ackNanos).filter(n -> n >= 0).toArray();
    long[] deliveries =
        IntStream.range(0, count)
            .filter(i -> ackNanos[i] >= 0)
            .mapToLong(i -> deliverNanos[i])
            .toArray();
    assertThat(acks).as("some acknowledged").isNotEmpty();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(delivered.get()).as("all stored delivered").isEqualTo(acks.length));
    return new Result(name, count, count - acks.length, acks.length / seconds, acks, deliveries);
  }

  private record Result(
      String name, int count, int refused, double perSecond, long[] ackNanos, long[] deliverNanos) {
    void print() {
      System.out.printf(
          "  %-14s %5d messages, %6.0f msg/s stored%s%n    send->ack     %s%n    send->deliver %s%n",
          name,
          count,
          perSecond,
          refused == 0 ? "" : ", %d refused (storage timed out)".formatted(refused),
          percentiles(ackNanos),
          percentiles(deliverNanos));
    }

    private static String percentiles(long[] nanos) {
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      return "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms"
          .formatted(
              at(sorted, 0.50),
              at(sorted, 0.90),
              at(sorted, 0.99),
              sorted[sorted.length - 1] / 1e6);
    }

    private static double at(long[] sorted, double quantile) {
      return sorted[(int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]
          / 1e6;
    }
  }

  /** A room stream that stamps every message with its arrival time. */
  private static final class Timed implements StreamObserver<ServerMessage> {
    interface Arrival {
      void at(String id, long nanos);
    }

    interface Refused {
      void refused(String id, String reason);
    }

    private final StreamObserver<ClientMessage> requests;
    private final CountDownLatch joined = new CountDownLatch(1);
    volatile Refused onRefusal = (id, reason) -> {};
    volatile Arrival onAck = (id, at) -> {};
    volatile Arrival onChat = (id, at) -> {};

    Timed(String userId, String roomId) throws InterruptedException {
      requests =
          TestServer.withToken(RoomServiceGrpc.newStub(wp.channel()), wp.token(userId))
              .connect(this);
      synchronized (this) {
        requests.onNext(
            ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(roomId)).build());
      }
      assertThat(joined.await(20, TimeUnit.SECONDS)).isTrue();
    }

    synchronized void send(String clientMessageId, String text) {
      requests.onNext(
          ClientMessage.newBuilder()
              .setRequestId(clientMessageId)
              .setSendChat(SendChat.newBuilder().setClientMessageId(clientMessageId).setText(text))
              .build());
    }

    @Override
    public void onNext(ServerMessage message) {
      long now = System.nanoTime();
      if (message.hasSnapshot()) {
        joined.countDown();
      } else if (message.hasCommandResult() && message.getCommandResult().hasChatStored()) {
        onAck.at(message.getCommandResult().getRequestId(), now);
      } else if (message.hasChat()) {
        onChat.at(message.getChat().getClientMessageId(), now);
      } else if (message.hasCommandResult() && message.getCommandResult().hasRejected()) {
        CommandResult result = message.getCommandResult();
        onRefusal.refused(
            result.getRequestId(), Refusals.errorInfo(result.getRejected()).getReason());
      }
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    synchronized void close() {
      requests.onCompleted();
    }
  }
}
