package io.watchparty.server.room;

import io.watchparty.proto.v1.BufferingChanged;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.refusal.RefusedException;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The authoritative playback state of one room and the wait for buffering members: commands take
 * effect {@link RoomConfig#commandLead()} from now, each change is announced with its sequence and
 * written behind. Guarded by the room lock.
 */
final class PlaybackControl {
  private final RoomConfig config;
  private final InstantSource clock;
  private final RoomTimers timers;
  private final EventStream events;
  private final RoomWriter writer;
  private final Runnable bufferingTimedOut;

  private Playback playback;
  private final Set<String> bufferingUsers = new HashSet<>();
  private boolean pausedForBuffering;
  private RoomTimers.Timer bufferingTimeout;

  /**
   * @param bufferingTimedOut called (on a timer) when the wait for buffering members is over; it
   *     takes the room lock and calls {@link #waitTimedOut}
   */
  PlaybackControl(
      Playback playback,
      RoomConfig config,
      InstantSource clock,
      RoomTimers timers,
      EventStream events,
      RoomWriter writer,
      Runnable bufferingTimedOut) {
    this.playback = playback;
    this.config = config;
    this.clock = clock;
    this.timers = timers;
    this.events = events;
    this.writer = writer;
    this.bufferingTimedOut = bufferingTimedOut;
  }

  Playback state() {
    return playback;
  }

  String titleId() {
    return playback.titleId();
  }

  /**
   * Applies a host's or co-host's command ({@code newTitle} already looked up for a title change).
   * Returns the sequence of the change, or empty if the state is already what was asked.
   */
  Optional<Long> command(String byUserId, PlaybackCommand command, Optional<Title> newTitle) {
    long at = clock.millis() + config.commandLead().toMillis();
    Playback next =
        switch (command.getActionCase()) {
          case PLAY -> playback.playing() ? playback : playback.play(at);
          case PAUSE -> playback.playing() ? playback.pause(at) : playback;
          case SEEK -> playback.seek(command.getSeek().getPositionMs(), at);
          case SET_RATE -> playback.withRate(command.getSetRate().getRate(), at);
          case CHANGE_TITLE -> {
            Title title = newTitle.orElseThrow();
            yield Playback.start(title.titleId(), title.durationMs(), at);
          }
          case ACTION_NOT_SET ->
              throw new RefusedException(
                  ErrorReason.FIELD_MISSING, "the playback command has no action");
        };
    if (next == playback) {
      return Optional.empty();
    }
    // An explicit command ends any wait for buffering members.
    endWait();
    return Optional.of(change(next, byUserId, PlaybackChanged.Cause.COMMAND));
  }

  /**
   * A member's player is buffering (or ready again). A small private party that waits for buffering
   * pauses until everyone is ready or the wait times out; a public one never stalls.
   */
  void buffering(String userId, boolean buffering, RoomSettings settings, boolean detailed) {
    boolean changed = buffering ? bufferingUsers.add(userId) : bufferingUsers.remove(userId);
    if (!changed) {
      return;
    }
    if (detailed) {
      events.publish(
          ServerMessage.newBuilder()
              .setBufferingChanged(
                  BufferingChanged.newBuilder().setBufferingCount(bufferingUsers.size())));
    }
    boolean waits =
        settings.getWaitForBuffering() && settings.getVisibility() == Visibility.PRIVATE;
    if (buffering && waits && playback.playing()) {
      pausedForBuffering = true;
      change(
          playback.pause(clock.millis() + config.commandLead().toMillis()),
          userId,
          PlaybackChanged.Cause.BUFFERING_WAIT);
      bufferingTimeout = timers.schedule(bufferingTimedOut, config.bufferingTimeout().toMillis());
    } else if (!buffering) {
      resumeIfAllReady();
    }
  }

  /** A member left: they no longer hold up the room. */
  void forget(String userId) {
    if (bufferingUsers.remove(userId)) {
      resumeIfAllReady();
    }
  }

  void waitTimedOut() {
    if (pausedForBuffering) {
      resume();
    }
  }

  private void resumeIfAllReady() {
    if (pausedForBuffering && bufferingUsers.isEmpty()) {
      resume();
    }
  }

  private void resume() {
    endWait();
    change(
        playback.play(clock.millis() + config.commandLead().toMillis()),
        "",
        PlaybackChanged.Cause.BUFFERING_RESUME);
  }

  private void endWait() {
    pausedForBuffering = false;
    if (bufferingTimeout != null) {
      bufferingTimeout.cancel();
      bufferingTimeout = null;
    }
  }

  private long change(Playback next, String byUserId, PlaybackChanged.Cause cause) {
    playback = next.withSequence(events.lastSequence() + 1);
    Playback saved = playback;
    writer.add(at -> new RoomChange.PlaybackSaved(saved, at));
    return events.publish(
        ServerMessage.newBuilder()
            .setPlaybackChanged(
                PlaybackChanged.newBuilder()
                    .setState(playback.toProto())
                    .setByUserId(byUserId)
                    .setCause(cause)));
  }
}
