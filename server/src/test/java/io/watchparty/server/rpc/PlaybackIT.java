package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static io.watchparty.server.testing.Refusals.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPong;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.RelayAudience;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.MutableClock;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Synchronized playback: who may command, what every member receives, when changes take effect,
 * where a late joiner starts. The server clock is a {@link MutableClock}, so server times are
 * asserted exactly.
 */
class PlaybackIT {
  static final long LEAD_MS = 200;
  static final long DURATION_MS = 596_000; // big-buck-bunny

  private static final MutableClock clock = MutableClock.atNow();

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .rooms(r -> r.commandLead(Duration.ofMillis(LEAD_MS)))
          .clock(clock)
          .build();

  private String roomId;
  private StreamProbe alice;
  private StreamProbe bob;

  /** Alice hosts a public room; Bob watches. Both have read their joins. */
  @BeforeEach
  void aliceHostsBobWatches() {
    roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    alice = wp.connect("alice").join(roomId);
    assertThat(alice.snapshot().getYourRole()).isEqualTo(Role.HOST);
    bob = wp.connect("bob").join(roomId);
    assertThat(bob.snapshot().getYourRole()).isEqualTo(Role.VIEWER);
    assertThat(alice.next(KindCase.MEMBER_JOINED).getMemberJoined().getMember().getUserId())
        .isEqualTo("bob");
  }

  @Test
  void viewerCannotControlPlaybackAndTheStreamCarriesOn() {
    String requestId = bob.command(Commands.play());

    CommandResult result = bob.next(KindCase.COMMAND_RESULT).getCommandResult();
    assertThat(result.getRequestId()).isEqualTo(requestId);
    assertRejected(result.getRejected(), Code.PERMISSION_DENIED, ErrorReason.NOT_HOST_OR_COHOST);
    assertRefused(
        () -> wp.as("bob").sendCommand(send(Commands.seek(1_000))),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);

    // Bob's stream and the room go on: a ping is answered, the host's play reaches him.
    bob.ping(7);
    assertThat(bob.next(KindCase.PONG).getPong().getClientSendTimeMs()).isEqualTo(7);
    CommandAccepted accepted = alice.resultOf(alice.command(Commands.play())).getAccepted();
    ServerMessage played = bob.next(KindCase.PLAYBACK_CHANGED);
    assertThat(played.getSequence()).isEqualTo(accepted.getSequence());
    assertThat(played.getPlaybackChanged().getByUserId()).isEqualTo("alice");
    assertThat(played.getPlaybackChanged().getState().getPlaying()).isTrue();
  }

  @Test
  void badMessagesAreRejectedOneByOneAndTheRoomCarriesOn() {
    bob.send(ClientMessage.newBuilder().setRequestId("empty").build());
    bob.send(
        ClientMessage.newBuilder()
            .setRequestId("no-command")
            .setCommand(Command.getDefaultInstance())
            .build());
    bob.send(
        ClientMessage.newBuilder()
            .setRequestId("join-again")
            .setJoin(Join.newBuilder().setRoomId(roomId))
            .build());
    bob.send(
        ClientMessage.newBuilder()
            .setRequestId("not-a-relay")
            .setRelayAudience(RelayAudience.newBuilder().setViewerCount(1_000_000))
            .build());
    alice.send(
        ClientMessage.newBuilder()
            .setRequestId("no-action")
            .setCommand(Command.newBuilder().setPlayback(PlaybackCommand.getDefaultInstance()))
            .build());

    assertRejected(
        bob.resultOf("empty").getRejected(), Code.INVALID_ARGUMENT, ErrorReason.FIELD_MISSING);
    assertRejected(
        bob.resultOf("no-command").getRejected(), Code.INVALID_ARGUMENT, ErrorReason.FIELD_MISSING);
    assertRejected(
        bob.resultOf("join-again").getRejected(),
        Code.FAILED_PRECONDITION,
        ErrorReason.ALREADY_JOINED);
    assertRejected(
        bob.resultOf("not-a-relay").getRejected(), Code.PERMISSION_DENIED, ErrorReason.NOT_A_RELAY);
    assertRejected(
        alice.resultOf("no-action").getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.FIELD_MISSING);

    assertThat(
            wp.as("alice")
                .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
                .getMemberCount())
        .isEqualTo(2);
    long played = alice.resultOf(alice.command(Commands.play())).getAccepted().getSequence();
    assertThat(bob.next(KindCase.PLAYBACK_CHANGED).getSequence()).isEqualTo(played);
  }

  @Test
  void playPauseSeekAndRateReachTheOthersInOrderEffectiveAfterTheLead() {
    long t0 = clock.millis();
    CommandResult play = alice.resultOf(alice.command(Commands.play()));
    PlaybackChanged played = bob.next(KindCase.PLAYBACK_CHANGED).getPlaybackChanged();
    long first = play.getAccepted().getSequence();
    assertThat(play.getAccepted().getEffectiveAtMs()).isEqualTo(t0 + LEAD_MS);
    assertThat(played.getCause()).isEqualTo(PlaybackChanged.Cause.COMMAND);
    assertThat(played.getByUserId()).isEqualTo("alice");
    assertState(played.getState(), true, 0, t0 + LEAD_MS, 1.0, first);

    clock.advance(Duration.ofMillis(5_000));
    long t1 = clock.millis();
    alice.command(Commands.pause());
    // Paused where the film is when the pause takes effect: 5 s after play took effect.
    assertState(nextState(), false, 5_000, t1 + LEAD_MS, 1.0, first + 1);

    clock.advance(Duration.ofMillis(1_000));
    long t2 = clock.millis();
    CommandAccepted seek = wp.as("alice").sendCommand(send(Commands.seek(120_000)));
    assertThat(seek.getSequence()).isEqualTo(first + 2);
    assertThat(seek.getEffectiveAtMs()).isEqualTo(t2 + LEAD_MS);
    assertState(nextState(), false, 120_000, t2 + LEAD_MS, 1.0, first + 2);

    clock.advance(Duration.ofMillis(1_000));
    long t3 = clock.millis();
    alice.command(Commands.rate(1.5));
    assertState(nextState(), false, 120_000, t3 + LEAD_MS, 1.5, first + 3);

    clock.advance(Duration.ofMillis(1_000));
    long t4 = clock.millis();
    alice.command(Commands.play());
    assertState(nextState(), true, 120_000, t4 + LEAD_MS, 1.5, first + 4);

    clock.advance(Duration.ofMillis(2_000));
    long t5 = clock.millis();
    alice.command(Commands.seek(10_000));
    assertState(nextState(), true, 10_000, t5 + LEAD_MS, 1.5, first + 5);

    // A command that changes nothing produces no event.
    CommandAccepted again = wp.as("alice").sendCommand(send(Commands.play()));
    assertThat(again.getSequence()).isZero();
    alice.command(Commands.pause());
    assertThat(bob.next(KindCase.PLAYBACK_CHANGED).getSequence()).isEqualTo(first + 6);
  }

  @Test
  void seekOutsideTheTitleAndRateOutsideItsRangeAreRefused() {
    for (long position : new long[] {-1, DURATION_MS + 1, Long.MIN_VALUE, Long.MAX_VALUE}) {
      ErrorInfo info =
          assertRefused(
              () -> wp.as("alice").sendCommand(send(Commands.seek(position))),
              Code.INVALID_ARGUMENT,
              ErrorReason.SEEK_OUT_OF_RANGE);
      assertThat(info.getMetadataMap()).containsEntry("duration_ms", Long.toString(DURATION_MS));
    }
    for (double rate : new double[] {0.49, 2.01, 0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertRefused(
          () -> wp.as("alice").sendCommand(send(Commands.rate(rate))),
          Code.INVALID_ARGUMENT,
          ErrorReason.RATE_OUT_OF_RANGE);
    }
    CommandResult onStream = alice.resultOf(alice.command(Commands.seek(-5)));
    assertRejected(onStream.getRejected(), Code.INVALID_ARGUMENT, ErrorReason.SEEK_OUT_OF_RANGE);

    // The bounds themselves are fine, and nothing refused reached Bob.
    alice.command(Commands.seek(DURATION_MS));
    assertThat(nextState().getPositionMs()).isEqualTo(DURATION_MS);
    alice.command(Commands.seek(0));
    assertThat(nextState().getPositionMs()).isZero();
    alice.command(Commands.rate(0.5));
    assertThat(nextState().getRate()).isEqualTo(0.5);
    alice.command(Commands.rate(2.0));
    assertThat(nextState().getRate()).isEqualTo(2.0);
  }

  @Test
  void lateJoinerStartsExactlyWhereTheFilmIs() {
    long t0 = clock.millis();
    alice.command(Commands.play());
    assertThat(nextState().getEffectiveAtMs()).isEqualTo(t0 + LEAD_MS);
    clock.advance(Duration.ofMillis(42_123));
    alice.command(Commands.rate(1.25));
    PlaybackState faster = nextState();
    assertThat(faster.getPositionMs()).isEqualTo(42_123);
    clock.advance(Duration.ofMillis(10_000));

    Snapshot snapshot = wp.connect("chiara").join(roomId).snapshot();

    long now = t0 + 42_123 + 10_000;
    assertThat(snapshot.getServerTimeMs()).isEqualTo(now);
    assertThat(snapshot.getCommandLeadMs()).isEqualTo(LEAD_MS);
    assertThat(snapshot.getPlayback()).isEqualTo(faster);
    // 42.123 s at rate 1, then (10 s - lead) at rate 1.25.
    assertThat(positionAt(snapshot.getPlayback(), snapshot.getServerTimeMs()))
        .isEqualTo(42_123 + (10_000 - LEAD_MS) * 1.25);
  }

  @Test
  void titleChangeStartsTheNewTitlePausedAtTheStart() {
    alice.command(Commands.play());
    nextState();
    clock.advance(Duration.ofMillis(2_000));
    long t = clock.millis();

    CommandAccepted accepted = wp.as("alice").sendCommand(send(Commands.changeTitle("sintel")));

    PlaybackState state = nextState();
    assertThat(state)
        .isEqualTo(
            PlaybackState.newBuilder()
                .setTitleId("sintel")
                .setTitleDurationMs(888_000)
                .setPlaying(false)
                .setPositionMs(0)
                .setEffectiveAtMs(t + LEAD_MS)
                .setRate(1.0)
                .setSequence(accepted.getSequence())
                .build());
    assertThat(accepted.getEffectiveAtMs()).isEqualTo(t + LEAD_MS);
    assertThat(
            wp.as("bob")
                .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
                .getTitleId())
        .isEqualTo("sintel");
    assertRefused(
        () -> wp.as("alice").sendCommand(send(Commands.changeTitle("no-such-film"))),
        Code.NOT_FOUND,
        ErrorReason.TITLE_NOT_FOUND);
    assertRefused(
        () -> wp.as("alice").sendCommand(send(Commands.changeTitle("Sintel!"))),
        Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_ID);
    assertRefused(
        () -> wp.as("bob").sendCommand(send(Commands.changeTitle("spring"))),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
    // The new title's duration bounds seeks now.
    assertRefused(
        () -> wp.as("alice").sendCommand(send(Commands.seek(888_001))),
        Code.INVALID_ARGUMENT,
        ErrorReason.SEEK_OUT_OF_RANGE);
  }

  @Test
  void smallPrivatePartyWaitsForABufferingMember() {
    var created =
        wp.as("alice")
            .createRoom(
                CreateRoomRequest.newBuilder()
                    .setTitleId("big-buck-bunny")
                    .setName("waits")
                    .setSettings(
                        RoomSettings.newBuilder()
                            .setVisibility(Visibility.PRIVATE)
                            .setWaitForBuffering(true))
                    .build());
    String room = created.getRoom().getRoomId();
    StreamProbe host = wp.connect("alice").join(room);
    host.snapshot();
    StreamProbe viewer = wp.connect("bob").join(room, created.getInviteToken());
    viewer.snapshot();
    long t0 = clock.millis();
    host.resultOf(host.command(Commands.play()));
    viewer.next(KindCase.PLAYBACK_CHANGED);
    clock.advance(Duration.ofMillis(3_000));
    long t1 = clock.millis();

    viewer.buffering(true);

    List<ServerMessage> waiting = host.until(ServerMessage::hasPlaybackChanged);
    assertThat(waiting)
        .extracting(ServerMessage::getKindCase)
        .endsWith(KindCase.BUFFERING_CHANGED, KindCase.PLAYBACK_CHANGED);
    assertThat(waiting.get(waiting.size() - 2).getBufferingChanged().getBufferingCount())
        .isEqualTo(1);
    PlaybackChanged paused = waiting.getLast().getPlaybackChanged();
    assertThat(paused.getCause()).isEqualTo(PlaybackChanged.Cause.BUFFERING_WAIT);
    assertThat(paused.getByUserId()).isEqualTo("bob");
    assertThat(paused.getState().getPlaying()).isFalse();
    assertThat(paused.getState().getPositionMs()).isEqualTo(t1 - t0);
    assertThat(paused.getState().getEffectiveAtMs()).isEqualTo(t1 + LEAD_MS);

    clock.advance(Duration.ofMillis(1_000));
    long t2 = clock.millis();
    viewer.buffering(false);

    List<ServerMessage> resuming = host.until(ServerMessage::hasPlaybackChanged);
    assertThat(resuming)
        .extracting(ServerMessage::getKindCase)
        .containsExactly(KindCase.BUFFERING_CHANGED, KindCase.PLAYBACK_CHANGED);
    assertThat(resuming.getFirst().getBufferingChanged().getBufferingCount()).isZero();
    PlaybackChanged resumed = resuming.getLast().getPlaybackChanged();
    assertThat(resumed.getCause()).isEqualTo(PlaybackChanged.Cause.BUFFERING_RESUME);
    assertThat(resumed.getState().getPlaying()).isTrue();
    assertThat(resumed.getState().getPositionMs()).isEqualTo(t1 - t0);
    assertThat(resumed.getState().getEffectiveAtMs()).isEqualTo(t2 + LEAD_MS);
  }

  @Test
  void publicPartyNeverStallsForABufferingViewer() {
    alice.command(Commands.play());
    nextState();

    bob.buffering(true);
    alice.command(Commands.pause());

    List<ServerMessage> seen = bob.until(ServerMessage::hasPlaybackChanged);
    assertThat(seen)
        .extracting(ServerMessage::getKindCase)
        .containsExactly(KindCase.BUFFERING_CHANGED, KindCase.PLAYBACK_CHANGED);
    assertThat(seen.getLast().getPlaybackChanged().getCause())
        .isEqualTo(PlaybackChanged.Cause.COMMAND);
  }

  @Test
  void waitingForABufferingMemberEndsAfterTheTimeout() {
    try (TestServer impatient =
        TestServer.builder()
            .rooms(
                r ->
                    r.commandLead(Duration.ofMillis(LEAD_MS))
                        .bufferingTimeout(Duration.ofMillis(300)))
            .clock(clock)
            .start(wp.session())) {
      var created =
          impatient
              .as("alice")
              .createRoom(
                  CreateRoomRequest.newBuilder()
                      .setTitleId("big-buck-bunny")
                      .setName("impatient")
                      .setSettings(
                          RoomSettings.newBuilder()
                              .setVisibility(Visibility.PRIVATE)
                              .setWaitForBuffering(true))
                      .build());
      String room = created.getRoom().getRoomId();
      StreamProbe host = impatient.connect("alice").join(room);
      host.snapshot();
      StreamProbe viewer = impatient.connect("bob").join(room, created.getInviteToken());
      viewer.snapshot();
      host.resultOf(host.command(Commands.play()));

      viewer.buffering(true); // and never ready again

      List<ServerMessage> seen =
          host.until(
              m ->
                  m.hasPlaybackChanged()
                      && m.getPlaybackChanged().getCause()
                          == PlaybackChanged.Cause.BUFFERING_RESUME);
      assertThat(seen)
          .filteredOn(ServerMessage::hasPlaybackChanged)
          .extracting(m -> m.getPlaybackChanged().getCause())
          .containsExactly(
              PlaybackChanged.Cause.BUFFERING_WAIT, PlaybackChanged.Cause.BUFFERING_RESUME);
      assertThat(seen.getLast().getPlaybackChanged().getState().getPlaying()).isTrue();
    }
  }

  @Test
  void clockPingIsAnsweredWithServerReceiveAndSendTimes() {
    clock.advance(Duration.ofMillis(3));
    long now = clock.millis();

    bob.ping(123_456);

    ServerMessage message = bob.next(KindCase.PONG);
    assertThat(message.getSequence()).isZero();
    ClockPong pong = message.getPong();
    assertThat(pong.getClientSendTimeMs()).isEqualTo(123_456);
    assertThat(pong.getServerReceiveTimeMs()).isEqualTo(now);
    assertThat(pong.getServerSendTimeMs()).isEqualTo(now);
    assertThat(alice.pending()).isZero();
  }

  @Test
  void commandsOverTheUsersRateAreRefusedAndTheRoomCarriesOn() {
    try (TestServer limited =
        TestServer.builder()
            .rooms(r -> r.commandsPerSecond(0.01).commandBurst(3))
            .clock(clock)
            .start(wp.session())) {
      String room = limited.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      StreamProbe host = limited.connect("alice").join(room);
      host.snapshot();
      StreamProbe cohost = limited.connect("bob").join(room);
      cohost.snapshot();

      assertThat(host.resultOf(host.command(Commands.grantCohost("bob"))).hasAccepted()).isTrue();
      assertThat(host.resultOf(host.command(Commands.play())).hasAccepted()).isTrue();
      assertThat(host.resultOf(host.command(Commands.pause())).hasAccepted()).isTrue();

      CommandResult fourth = host.resultOf(host.command(Commands.play()));
      ErrorInfo info =
          assertRejected(fourth.getRejected(), Code.RESOURCE_EXHAUSTED, ErrorReason.RATE_LIMITED);
      assertThat(Long.parseLong(info.getMetadataOrThrow("retry_after_ms"))).isBetween(1L, 100_000L);
      ErrorInfo unary =
          assertRefused(
              () ->
                  limited
                      .as("alice")
                      .sendCommand(
                          SendCommandRequest.newBuilder()
                              .setRoomId(room)
                              .setCommand(Commands.play())
                              .build()),
              Code.RESOURCE_EXHAUSTED,
              ErrorReason.RATE_LIMITED);
      assertThat(unary.getMetadataMap()).containsKey("retry_after_ms");

      // Bob has his own allowance; the room and Alice's stream go on.
      CommandAccepted byBob = cohost.resultOf(cohost.command(Commands.play())).getAccepted();
      ServerMessage seen = host.skipTo(KindCase.PLAYBACK_CHANGED);
      assertThat(seen.getSequence()).isEqualTo(byBob.getSequence());
      assertThat(seen.getPlaybackChanged().getByUserId()).isEqualTo("bob");
      host.ping(1);
      assertThat(host.skipTo(KindCase.PONG).getPong().getClientSendTimeMs()).isEqualTo(1);
    }
  }

  private PlaybackState nextState() {
    ServerMessage message = bob.next(KindCase.PLAYBACK_CHANGED);
    assertThat(message.getPlaybackChanged().getState().getSequence())
        .isEqualTo(message.getSequence());
    return message.getPlaybackChanged().getState();
  }

  private static void assertState(
      PlaybackState state,
      boolean playing,
      long positionMs,
      long effectiveAtMs,
      double rate,
      long sequence) {
    assertThat(state.getTitleId()).isEqualTo("big-buck-bunny");
    assertThat(state.getTitleDurationMs()).isEqualTo(DURATION_MS);
    assertThat(state.getPlaying()).as("playing").isEqualTo(playing);
    assertThat(state.getPositionMs()).as("position").isEqualTo(positionMs);
    assertThat(state.getEffectiveAtMs()).as("effective at").isEqualTo(effectiveAtMs);
    assertThat(state.getRate()).as("rate").isEqualTo(rate);
    assertThat(state.getSequence()).as("sequence").isEqualTo(sequence);
  }

  /** The formula of room.proto's PlaybackState, as a player computes it. */
  static double positionAt(PlaybackState state, long serverTimeMs) {
    if (!state.getPlaying()) {
      return state.getPositionMs();
    }
    double position =
        state.getPositionMs()
            + Math.max(0, serverTimeMs - state.getEffectiveAtMs()) * state.getRate();
    return Math.min(state.getTitleDurationMs(), position);
  }

  private SendCommandRequest send(Command command) {
    return SendCommandRequest.newBuilder().setRoomId(roomId).setCommand(command).build();
  }
}
