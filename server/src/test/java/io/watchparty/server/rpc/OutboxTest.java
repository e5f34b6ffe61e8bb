package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.charset.StandardCharsets;
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
