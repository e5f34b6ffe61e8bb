package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.watchparty.server.room.FanOut;
import io.watchparty.server.room.FanOutTimes;
import io.watchparty.server.testing.Refusals;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The per-stream queue on its own, over a fake stream whose readiness the test controls and a
 * direct executor: what is written, in which order, and what is kept while the receiver is slow.
 */
class OutboxTest {
  private static final int CAPACITY = 3;

  private final FakeStream stream = new FakeStream();
  private final Outbox outbox = new Outbox(stream, Runnable::run, CAPACITY);

  private static byte[] frame(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void writesFramesInOrderWhileTheStreamIsReady() {
    assertThat(outbox.offer(frame("a"))).isTrue();
    assertThat(outbox.offer(frame("b"))).isTrue();
    assertThat(stream.written()).containsExactly("a", "b");
    assertThat(outbox.backlog()).isZero();
  }

  @Test
  void keepsAtMostItsCapacityForASlowReceiverAndDrainsWhenItIsReadyAgain() {
    stream.ready = false;
    assertThat(outbox.offer(frame("a"))).isTrue();
    assertThat(outbox.offer(frame("b"))).isTrue();
    assertThat(outbox.offer(frame("c"))).isTrue();
    assertThat(outbox.offer(frame("d"))).as("the fourth frame is over the bound").isFalse();
    assertThat(outbox.backlog()).isEqualTo(CAPACITY);
    assertThat(stream.written()).isEmpty();

    stream.becomeReady();
    assertThat(stream.written()).containsExactly("a", "b", "c");
    assertThat(outbox.backlog()).isZero();
  }

  @Test
  void aSnapshotReplacesTheBacklogOfAReceiverThatFellBehind() {
    stream.ready = false;
    outbox.offer(frame("a"));
    outbox.offer(frame("b"));
    outbox.resetTo(frame("snapshot"));
    assertThat(outbox.backlog()).isEqualTo(1);
    assertThat(outbox.resyncs()).isEqualTo(1);

    stream.becomeReady();
    assertThat(stream.written()).containsExactly("snapshot");
  }

  @Test
  void repliesSurviveAResyncAndGoBeforeTheSnapshot() {
    stream.ready = false;
    outbox.offer(frame("event 1"));
    outbox.reply(frame("pong"));
    outbox.offer(frame("event 2"));
    outbox.reply(frame("command result"));
    outbox.resetTo(frame("snapshot"));
    assertThat(outbox.backlog()).isEqualTo(3);

    stream.becomeReady();
    assertThat(stream.written()).containsExactly("pong", "command result", "snapshot");
  }

  @Test
  void repliesDoNotTakeTheRoomOfEvents() {
    stream.ready = false;
    for (int i = 0; i < CAPACITY; i++) {
      outbox.reply(frame("reply " + i));
    }
    assertThat(outbox.offer(frame("a"))).isTrue();
    assertThat(outbox.offer(frame("b"))).isTrue();
    assertThat(outbox.offer(frame("c"))).isTrue();
    assertThat(outbox.offer(frame("d"))).as("the fourth event is over the bound").isFalse();

    stream.becomeReady();
    assertThat(stream.written()).containsExactly("reply 0", "reply 1", "reply 2", "a", "b", "c");
  }

  @Test
  void aReceiverThatLeavesAQueueOfRepliesUnreadIsRefused() {
    stream.ready = false;
    for (int i = 0; i < CAPACITY; i++) {
      outbox.reply(frame("reply " + i));
    }
    assertThat(stream.error).isNull();

    outbox.reply(frame("one too many"));
    StatusRuntimeException refused = (StatusRuntimeException) stream.error;
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(Refusals.errorInfo(refused).getReason()).isEqualTo("RATE_LIMITED");
    assertThat(stream.written()).isEmpty();
    assertThat(outbox.backlog()).isZero();
  }

  @Test
  void anOkCloseWritesWhatIsQueuedFirst() {
    stream.ready = false;
    outbox.offer(frame("last event"));
    outbox.close(Status.OK.asRuntimeException());
    assertThat(stream.completed).isFalse();
    assertThat(outbox.offer(frame("after close"))).as("nothing is queued after a close").isTrue();

    stream.becomeReady();
    assertThat(stream.written()).containsExactly("last event");
    assertThat(stream.completed).isTrue();
    assertThat(stream.error).isNull();
  }

  @Test
  void aRefusalEndsTheStreamAtOnceEvenForAReceiverThatStoppedReading() {
    stream.ready = false;
    outbox.offer(frame("a"));
    outbox.offer(frame("b"));
    StatusRuntimeException kicked =
        Status.PERMISSION_DENIED.withDescription("kicked").asRuntimeException();
    outbox.close(kicked);
    assertThat(stream.error).isSameAs(kicked);
    assertThat(stream.written()).isEmpty();
    assertThat(outbox.backlog()).isZero();
  }

  @Test
  void anAbandonedStreamIsNeverWrittenAgain() {
    stream.ready = false;
    outbox.offer(frame("a"));
    outbox.abandon();
    stream.becomeReady();
    outbox.offer(frame("b"));
    assertThat(stream.written()).isEmpty();
    assertThat(outbox.backlog()).isZero();
  }

  @Test
  void aRoomEventIsWrittenByItsPublisherWhenTheStreamIsReadyAndNothingWaits() {
    var tasks = new ArrayDeque<Runnable>();
    var writer = new Outbox(stream, tasks::add, CAPACITY);
    var times = new FanOutTimes();
    FanOut event = new FanOut(frame("seek"), System.nanoTime(), 1, times);

    assertThat(writer.offer(event)).isTrue();
    assertThat(stream.written()).containsExactly("seek");
    assertThat(tasks).as("no writer task for a frame written at once").isEmpty();
    event.handedOver(); // the publisher's share
    assertThat(times.count()).isEqualTo(1);
  }

  @Test
  void aRoomEventWaitsBehindFramesQueuedBeforeIt() {
    var tasks = new ArrayDeque<Runnable>();
    var writer = new Outbox(stream, tasks::add, CAPACITY);
    stream.ready = false;
    writer.offer(frame("reply"));
    runAll(tasks); // the drain finds the transport not ready and leaves the frame queued
    stream.ready = true; // ready again, its onReady not delivered yet

    writer.offer(new FanOut(frame("seek"), System.nanoTime(), 1, new FanOutTimes()));
    assertThat(stream.written()).as("not before the reply").isEmpty();
    runAll(tasks);
    assertThat(stream.written()).containsExactly("reply", "seek");
  }

  @Test
  void aRoomEventForAStreamThatIsNotReadyIsQueuedAndCountedAsHandedOver() {
    var tasks = new ArrayDeque<Runnable>();
    var writer = new Outbox(stream, tasks::add, CAPACITY);
    var times = new FanOutTimes();
    stream.ready = false;
    FanOut event = new FanOut(frame("seek"), System.nanoTime(), 1, times);

    assertThat(writer.offer(event)).isTrue();
    runAll(tasks);
    event.handedOver();
    assertThat(stream.written()).isEmpty();
    assertThat(times.count()).as("it waits on the receiver, not on the server").isEqualTo(1);
    assertThat(writer.backlog()).isEqualTo(1);

    stream.becomeReady();
    runAll(tasks);
    assertThat(stream.written()).containsExactly("seek");
  }

  @Test
  void aRoomEventPastTheCapacityIsRefusedSoTheRoomSendsASnapshot() {
    stream.ready = false;
    for (int i = 0; i < CAPACITY; i++) {
      outbox.offer(frame("f" + i));
    }
    var times = new FanOutTimes();
    FanOut event = new FanOut(frame("seek"), System.nanoTime(), 1, times);
    assertThat(outbox.offer(event)).isFalse();
    event.handedOver();
    assertThat(times.count()).isEqualTo(1);
    stream.becomeReady();
    assertThat(stream.written()).containsExactly("f0", "f1", "f2");
  }

  @Test
  void aRoomEventWrittenToACancelledStreamAbandonsIt() {
    stream.failNextWrite = true;
    outbox.offer(new FanOut(frame("seek"), System.nanoTime(), 1, new FanOutTimes()));
    outbox.offer(new FanOut(frame("pause"), System.nanoTime(), 1, new FanOutTimes()));
    assertThat(stream.written()).isEmpty();
    assertThat(outbox.backlog()).isZero();
  }

  private static void runAll(ArrayDeque<Runnable> tasks) {
    while (!tasks.isEmpty()) {
      tasks.poll().run();
    }
  }

  @Test
  void aStreamCancelledWhileWritingIsAbandoned() {
    stream.failNextWrite = true;
    outbox.offer(frame("a"));
    outbox.offer(frame("b"));
    assertThat(stream.written()).isEmpty();
    assertThat(outbox.backlog()).isZero();
  }

  /** A server stream whose readiness the test sets; it records what the outbox writes. */
  private static final class FakeStream extends ServerCallStreamObserver<byte[]> {
    boolean ready = true;
    boolean failNextWrite;
    boolean completed;
    Throwable error;
    private Runnable onReady = () -> {};
    private final List<String> frames = new ArrayList<>();

    void becomeReady() {
      ready = true;
      onReady.run();
    }

    List<String> written() {
      return frames;
    }

    @Override
    public void onNext(byte[] value) {
      if (failNextWrite) {
        failNextWrite = false;
        throw Status.CANCELLED.asRuntimeException();
      }
      frames.add(new String(value, StandardCharsets.UTF_8));
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {
      completed = true;
    }

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable handler) {
      onReady = handler;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}
  }
}
