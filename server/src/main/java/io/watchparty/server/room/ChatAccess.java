package io.watchparty.server.room;

import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.ServerMessage;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** What a room's chat may see and do: handed to it only under the room lock. */
final class ChatAccess implements RoomChat.Access {
  private final RoomState state;
  private final Roles roles;
  private final Presence presence;
  private final EventStream events;
  private final RoomWriter writer;
  private final RoomTimers timers;

  ChatAccess(
      RoomState state,
      Roles roles,
      Presence presence,
      EventStream events,
      RoomWriter writer,
      RoomTimers timers) {
    this.state = state;
    this.roles = roles;
    this.presence = presence;
    this.events = events;
    this.writer = writer;
    this.timers = timers;
  }

  @Override
  public void schedule(Runnable task, long delayMs) {
    timers.schedule(task, delayMs);
  }

  @Override
  public void requireOpen() {
    writer.requireOwned();
    state.requireOpen();
  }

  @Override
  public boolean closed() {
    return state.closed();
  }

  @Override
  public RoomChat.Presence presence(String userId) {
    if (roles.isBanned(userId)) {
      return RoomChat.Presence.BANNED;
    }
    return presence.isPresent(userId) ? RoomChat.Presence.PRESENT : RoomChat.Presence.ABSENT;
  }

  @Override
  public Role role(String userId) {
    return roles.roleOf(userId);
  }

  @Override
  public void requireController(String userId) {
    roles.requireController(userId);
  }

  @Override
  public void requireMayModerate(String actor, String target, Sanction sanction) {
    roles.requireMayModerate(actor, target, sanction);
  }

  @Override
  public void requireMayDelete(String actor, String author) {
    roles.requireMayDelete(actor, author);
  }

  @Override
  public RoomSettings settings() {
    return state.settings();
  }

  @Override
  public void setSlowMode(long slowModeMs) {
    state.setSlowMode(slowModeMs);
  }

  @Override
  public long publish(ServerMessage.Builder event) {
    return events.publish(event);
  }

  @Override
  public void writeBehind(String what, Supplier<CompletionStage<?>> write) {
    writer.addWrite(what, write);
  }

  @Override
  public void lostTo(RoomOwner owner) {
    writer.lostTo(owner);
  }

  @Override
  public CompletionStage<Void> whenStored() {
    return writer.whenStored();
  }
}
