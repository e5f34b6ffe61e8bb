package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.PlaybackState;
import org.junit.jupiter.api.Test;

class PlaybackTest {
  private static final long DURATION = 10_000;

  /** Playing from 1 s at server time 5 s, at the given rate. */
  private static Playback playingFrom1sAt5s(double rate) {
    return new Playback("film", DURATION, true, 1_000, 5_000, rate, 7);
  }

  private static Playback pausedAt(long positionMs, long atMs) {
    return new Playback("film", DURATION, false, positionMs, atMs, 1.0, 7);
  }

  @Test
  void startIsPausedAtZeroAtNormalSpeed() {
    Playback p = Playback.start("film", DURATION, 42);

    assertThat(p).isEqualTo(new Playback("film", DURATION, false, 0, 42, 1.0, 0));
    assertThat(p.positionAt(1_000_000)).isZero();
  }

  @Test
  void playingAdvancesWithServerTime() {
    Playback p = playingFrom1sAt5s(1.0);

    assertThat(p.positionAt(5_000)).isEqualTo(1_000);
    assertThat(p.positionAt(5_001)).isEqualTo(1_001);
    assertThat(p.positionAt(6_500)).isEqualTo(2_500);
  }

  @Test
  void playingAtOneAndAHalfAdvancesFaster() {
    Playback p = playingFrom1sAt5s(1.5);

    assertThat(p.positionAt(7_000)).isEqualTo(4_000);
    assertThat(p.positionAt(5_001)).isEqualTo(1_002); // 1.5 ms rounds to 2
    assertThat(p.positionAt(5_003)).isEqualTo(1_005); // 4.5 ms rounds to 5
  }

  @Test
  void beforeTheEffectiveTimeThePlayerHoldsAtThePosition() {
    Playback p = playingFrom1sAt5s(1.0);

    assertThat(p.positionAt(4_999)).isEqualTo(1_000);
    assertThat(p.positionAt(0)).isEqualTo(1_000);
  }

  @Test
  void positionIsClampedToTheDuration() {
    Playback p = playingFrom1sAt5s(2.0);

    assertThat(p.positionAt(9_500)).isEqualTo(10_000); // exactly the end
    assertThat(p.positionAt(9_499)).isEqualTo(9_998);
    assertThat(p.positionAt(Long.MAX_VALUE / 4)).isEqualTo(DURATION);
  }

  @Test
  void pausedHoldsWhateverTheTime() {
    Playback p = pausedAt(3_000, 5_000);

    assertThat(p.positionAt(4_000)).isEqualTo(3_000);
    assertThat(p.positionAt(5_000)).isEqualTo(3_000);
    assertThat(p.positionAt(60_000)).isEqualTo(3_000);
  }

  @Test
  void playFromPauseStartsAtThePausedPosition() {
    Playback p = pausedAt(3_000, 5_000).play(8_000);

    assertThat(p).isEqualTo(new Playback("film", DURATION, true, 3_000, 8_000, 1.0, 7));
    assertThat(p.positionAt(8_250)).isEqualTo(3_250);
  }

  @Test
  void playWhilePlayingExtrapolatesWithoutAJump() {
    Playback p = playingFrom1sAt5s(1.5).play(6_000);

    assertThat(p.positionMs()).isEqualTo(2_500);
    assertThat(p.effectiveAtMs()).isEqualTo(6_000);
    assertThat(p.positionAt(7_000)).isEqualTo(playingFrom1sAt5s(1.5).positionAt(7_000));
  }

  @Test
  void pauseFreezesTheExtrapolatedPosition() {
    Playback p = playingFrom1sAt5s(1.0).pause(7_000);

    assertThat(p).isEqualTo(new Playback("film", DURATION, false, 3_000, 7_000, 1.0, 7));
    assertThat(p.positionAt(100_000)).isEqualTo(3_000);
  }

  @Test
  void pauseTakingEffectBeforeThePlayHoldsAtThePlayPosition() {
    Playback p = playingFrom1sAt5s(1.0).pause(4_000);

    assertThat(p.playing()).isFalse();
    assertThat(p.positionMs()).isEqualTo(1_000);
  }

  @Test
  void pauseAfterTheEndHoldsAtTheEnd() {
    Playback p = playingFrom1sAt5s(1.0).pause(60_000);

    assertThat(p.positionMs()).isEqualTo(DURATION);
  }

  @Test
  void seekKeepsPlayingOrPausedAndMovesThePosition() {
    Playback playing = playingFrom1sAt5s(1.5).seek(8_000, 6_000);
    Playback paused = pausedAt(3_000, 5_000).seek(500, 6_000);

    assertThat(playing).isEqualTo(new Playback("film", DURATION, true, 8_000, 6_000, 1.5, 7));
    assertThat(playing.positionAt(7_000)).isEqualTo(9_500);
    assertThat(paused).isEqualTo(new Playback("film", DURATION, false, 500, 6_000, 1.0, 7));
    assertThat(paused.positionAt(7_000)).isEqualTo(500);
  }

  @Test
  void rateChangeExtrapolatesAtTheOldRateThenMovesAtTheNew() {
    Playback p = playingFrom1sAt5s(1.0).withRate(2.0, 6_000);

    assertThat(p).isEqualTo(new Playback("film", DURATION, true, 2_000, 6_000, 2.0, 7));
    assertThat(p.positionAt(6_500)).isEqualTo(3_000);
  }

  @Test
  void rateChangeWhilePausedKeepsThePosition() {
    Playback p = pausedAt(3_000, 5_000).withRate(0.5, 9_000);

    assertThat(p).isEqualTo(new Playback("film", DURATION, false, 3_000, 9_000, 0.5, 7));
    assertThat(p.play(10_000).positionAt(12_000)).isEqualTo(4_000);
  }

  @Test
  void withSequenceChangesOnlyTheSequence() {
    Playback p = playingFrom1sAt5s(1.5).withSequence(99);

    assertThat(p).isEqualTo(new Playback("film", DURATION, true, 1_000, 5_000, 1.5, 99));
  }

  @Test
  void protoCarriesEveryField() {
    PlaybackState state = playingFrom1sAt5s(1.5).toProto();

    assertThat(state.getTitleId()).isEqualTo("film");
    assertThat(state.getTitleDurationMs()).isEqualTo(DURATION);
    assertThat(state.getPlaying()).isTrue();
    assertThat(state.getPositionMs()).isEqualTo(1_000);
    assertThat(state.getEffectiveAtMs()).isEqualTo(5_000);
    assertThat(state.getRate()).isEqualTo(1.5);
    assertThat(state.getSequence()).isEqualTo(7);
  }
}
