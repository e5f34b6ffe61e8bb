package io.watchparty.bridge.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.watchparty.proto.v1.Role;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One browser's queue as its writer sees it: events in order, and a keep-alive exactly when a
 * heartbeat tick found nothing queued since the tick before, with the writer parked without a
 * timeout in between.
 */
class ViewerStreamTest {
  private final ManagedChannel channel =
      InProcessChannelBuilder.forName("viewer-stream-test-unused").build();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private final RelayHub hub =
      new RelayHub(
          new RoomOwners(
              channel,
              "in-process",
              address -> {
                throw new IllegalArgumentException("no fleet here");
              },
              new NoRelayMetrics()),
          new NoCredentials(),
          RelaySettings.DEFAULTS,
          timers,
          new NoRelayMetrics(),
          (viewer, titleId) -> Optional.empty(),
          () -> 0L);
  private final ViewerStream stream =
      new ViewerStream(
          new RoomRelay("room", hub),
          new Viewer("bob", "Bob", "IT", new NoCredentials()),
          Role.VIEWER,
          "sintel",
          RelaySettings.DEFAULTS.viewerQueue());

  @AfterEach
  void stop() {
    channel.shutdownNow();
    timers.shutdownNow();
  }

  // One instance each: an event's equality includes its frame array's identity.
  private static final List<Outgoing.Event> EVENTS =
      List.of(event(0), event(1), event(2), event(3));

  private static Outgoing.Event event(long id) {
    return Outgoing.Event.of(id, "playback_changed", "{\"sequence\":\"" + id + "\"}");
  }

  @Test
  void aTickWithNothingQueuedSinceTheLastOneAsksForAKeepAlive() throws InterruptedException {
    stream.heartbeat();
    stream.heartbeat();

    assertThat(stream.next()).isEmpty();
    stream.offer(EVENTS.get(1));
    assertThat(stream.next()).contains(EVENTS.get(1));
  }

  @Test
  void eventsQueuedSinceTheLastTickMeanNoKeepAlive() throws InterruptedException {
    stream.offer(EVENTS.get(1));
    stream.heartbeat(); // event 1 came since the stream began: no keep-alive
    assertThat(stream.next()).contains(EVENTS.get(1));

    List<Optional<Outgoing>> written = new CopyOnWriteArrayList<>();
    Thread writer = writerTaking(1, written);
    // Parked without a timeout (a timed wait would show TIMED_WAITING): nothing is due.
    await().atMost(Duration.ofSeconds(10)).until(() -> writer.getState() == Thread.State.WAITING);
    assertThat(written).isEmpty();

    stream.offer(EVENTS.get(2));
    writer.join(Duration.ofSeconds(10));
    assertThat(written).containsExactly(Optional.of(EVENTS.get(2)));
  }

  @Test
  void aTickWakesAParkedWriterForItsKeepAlive() throws InterruptedException {
    List<Optional<Outgoing>> written = new CopyOnWriteArrayList<>();
    Thread writer = writerTaking(2, written);
    await().atMost(Duration.ofSeconds(10)).until(() -> writer.getState() == Thread.State.WAITING);

    stream.heartbeat(); // nothing was ever queued: a keep-alive
    await().atMost(Duration.ofSeconds(10)).until(() -> written.size() == 1);
    stream.offer(EVENTS.get(3));
    writer.join(Duration.ofSeconds(10));

    assertThat(written).containsExactly(Optional.empty(), Optional.of(EVENTS.get(3)));
  }

  @Test
  void anEndedStreamGetsNoKeepAlive() throws InterruptedException {
    stream.offer(EVENTS.get(1));
    stream.end(EndReason.KICKED);
    stream.heartbeat();
    stream.heartbeat();

    assertThat(stream.next()).contains(EVENTS.get(1));
    assertThat(stream.next()).contains(new Outgoing.End(EndReason.KICKED));
    assertThat(stream.next()).isEmpty(); // nothing more: the writer has stopped by now
  }

  /**
   * A tab's writer on a virtual thread of its own: takes {@code frames} frames into {@code
   * written}.
   */
  private Thread writerTaking(int frames, List<Optional<Outgoing>> written) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                for (int i = 0; i < frames; i++) {
                  written.add(stream.next());
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  private static final class NoCredentials extends CallCredentials {
    @Override
    public void applyRequestMetadata(
        RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
      applier.apply(new Metadata());
    }
  }
}
