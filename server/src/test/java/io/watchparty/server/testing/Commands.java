package io.watchparty.server.testing;

import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.RoleCommand;

/** Short names for the commands tests send. */
public final class Commands {
  private Commands() {}

  public static Command play() {
    return playback(
        PlaybackCommand.newBuilder().setPlay(PlaybackCommand.Play.getDefaultInstance()));
  }

  public static Command pause() {
    return playback(
        PlaybackCommand.newBuilder().setPause(PlaybackCommand.Pause.getDefaultInstance()));
  }

  public static Command seek(long positionMs) {
    return playback(
        PlaybackCommand.newBuilder()
            .setSeek(PlaybackCommand.Seek.newBuilder().setPositionMs(positionMs)));
  }

  public static Command rate(double rate) {
    return playback(
        PlaybackCommand.newBuilder()
            .setSetRate(PlaybackCommand.SetRate.newBuilder().setRate(rate)));
  }

  public static Command changeTitle(String titleId) {
    return playback(
        PlaybackCommand.newBuilder()
            .setChangeTitle(PlaybackCommand.ChangeTitle.newBuilder().setTitleId(titleId)));
  }

  public static Command grantCohost(String userId) {
    return role(RoleCommand.newBuilder().setGrantCohost(userId));
  }

  public static Command revokeCohost(String userId) {
    return role(RoleCommand.newBuilder().setRevokeCohost(userId));
  }

  public static Command transferHost(String userId) {
    return role(RoleCommand.newBuilder().setTransferHost(userId));
  }

  public static Command kick(String userId) {
    return role(RoleCommand.newBuilder().setKick(userId));
  }

  public static Command ban(String userId) {
    return role(RoleCommand.newBuilder().setBan(userId));
  }

  public static Command unban(String userId) {
    return role(RoleCommand.newBuilder().setUnban(userId));
  }

  private static Command playback(PlaybackCommand.Builder command) {
    return Command.newBuilder().setPlayback(command).build();
  }

  private static Command role(RoleCommand.Builder command) {
    return Command.newBuilder().setRole(command).build();
  }
}
