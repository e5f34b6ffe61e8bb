package io.watchparty.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.watchparty.proto.SyncBands;
import io.watchparty.proto.v1.BufferingReport;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatModeration;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Leave;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.RoleCommand;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One member's connection to one room, from {@link WatchPartyClient#join}: the room stream with its
 * commands, chat and reactions, the server clock estimated over it, attached players kept in sync,
 * and resume after a dropped connection.
 *
 * <p>Resume: when the stream drops (and it was neither a deliberate {@link #leave} nor a refusal),
 * the connection announces {@link ConnectionState#RECONNECTING}, reconnects after an exponential
 * backoff with full jitter, and joins again with the last room sequence it saw; the server answers
 * with the missed events ({@link ConnectionState#RESUMED}, then exactly those events) or a fresh
 * snapshot ({@link ConnectionState#RESYNCED}). A refusal that ends the stream (kicked, banned, the
 * room closed, the title not available in the region) is announced as {@link
 * ConnectionState#REFUSED} with the server's reason, and nothing reconnects. A room that moved to
 * another server instance of a fleet ({@code ROOM_MOVED}) is followed at once to the instance the
 * refusal names, when the client knows how to dial one ({@link
 * WatchPartyClient.Builder#instances}), and the connection resumes there; when that instance fails
 * in turn (its process died), the connection asks the address it was given again, where the
 * instance that takes the room over is named.
 *
 * <p>Chat messages get a client message id when sent; a message not yet acknowledged when the
 * stream drops is sent again, with the same id, after the resume: the server stores and delivers it
 * once. Other commands are not retried: they fail with reason {@code CONNECTION_LOST}, and the app
 * decides, because a playback command sent again after a reconnect would act on a room that may
 * have moved on meanwhile (another host's seek, a pause), and the resume tells the app what did.
 *
 * <p>Thread safety: every public method may be called from any thread; it hands its work to the
 * client's own thread and returns at once. Futures complete on that thread: a dependent stage that
 * blocks would stall the connection, so apps use the {@code *Async} variants for heavy work.
 */
public final class RoomConnection {
  private static final AtomicLong REQUEST_IDS = new AtomicLong();

  private record PendingChat(String text, CompletableFuture<ChatMessage> result) {}

  private final WatchPartyClient client;
  private final String roomId;
  private final String inviteToken;
  private final RoomListener listener;
  private final Timers timers;
  private final ServerClock clock;
  private final CompletableFuture<Snapshot> joined = new CompletableFuture<>();
  private final CompletableFuture<ConnectionState> ended = new CompletableFuture<>();

  // Everything below is confined to the client's thread.
  private final Map<String, CompletableFuture<CommandAccepted>> pendingCommands = new HashMap<>();
  private final Map<String, PendingChat> pendingChats = new LinkedHashMap<>();
  private final List<PlayerSync> players = new ArrayList<>();
  private ConnectionState state = ConnectionState.CONNECTING;
  private ClientCallStreamObserver<ClientMessage> stream;

  /** The instance the stream goes to: the client's channel, or the room's owner once it moved. */
  private RoomServiceGrpc.RoomServiceStub server;

  private int generation;
  private boolean streamJoined;
  private long lastSequence;
  private boolean leaving;
  private String closedReason;
  private int attempt;
  private int failures; // the ends since the last join that were not moves: the backoff's exponent
  private Timers.Handle reconnectTimer;
  private SyncBands bands;
  private PlaybackState latestPlayback;
  private Boolean canWatch;
  private CompletableFuture<?> reconnectHold = CompletableFuture.completedFuture(null);
  private volatile long[] lastResumed = new long[0];

  RoomConnection(
      WatchPartyClient client, String roomId, String inviteToken, RoomListener listener) {
    this.client = client;
    this.roomId = roomId;
    this.inviteToken = inviteToken;
    this.listener = listener;
    this.timers = client.timers();
    this.clock = new ServerClock(client.localClock(), timers, this::sendPing);
    this.server = client.roomStub();
  }

  /** The room's id. */
  public String roomId() {
    return roomId;
  }

  /**
   * Completes with the first snapshot once joined, or exceptionally with a {@link
   * WatchPartyException} carrying the server's reason when the join is refused.
   */
  public CompletableFuture<Snapshot> joined() {
    return joined.copy();
  }

  /** Completes with the final state (LEFT, REFUSED, ROOM_CLOSED, GAVE_UP or CLOSED). */
  public CompletableFuture<ConnectionState> ended() {
    return ended.copy();
  }

  /** Server time now (Unix epoch ms) by this connection's clock estimate. */
  public long serverTimeMs() {
    return Math.round(clock.nowMs());
  }

  /** Whether the first clock estimate is done (before it, the local clock stands in). */
  public boolean clockReady() {
    return clock.ready();
  }

  /** The estimated offset of the server's clock to this machine's (server minus local), in ms. */
  public double clockOffsetMs() {
    return clock.offsetMs();
  }

  /**
   * How far off {@link #serverTimeMs} may be, in ms: half the best round trip of the winning
   * estimate, plus the clocks' possible drift since. Infinite before the first estimate.
   */
  public double clockUncertaintyMs() {
    return clock.uncertaintyMs();
  }

  /**
   * Keeps {@code player} in sync with the room's playback from now on, with the bands of the room's
   * sync policy; closing the returned handle stops that (and pauses the player).
   */
  public AutoCloseable attachPlayer(Player player) {
    Objects.requireNonNull(player, "player");
    PlayerSync sync = new PlayerSync(player, clock, client.localClock(), timers);
    timers.execute(
        () -> {
          players.add(sync);
          if (bands != null) {
            sync.setBands(bands);
          }
          if (Boolean.FALSE.equals(canWatch)) {
            sync.setBlocked(true);
          }
          if (latestPlayback != null) {
            sync.follow(latestPlayback, true);
          }
        });
    return () ->
        timers.execute(
            () -> {
              if (players.remove(sync)) {
                sync.stop();
              }
            });
  }

  // ---- Commands --------------------------------------------------------------------------------

  /** Host and co-hosts: play, at the server's effective time. */
  public CompletableFuture<CommandAccepted> play() {
    return playback(
        PlaybackCommand.newBuilder().setPlay(PlaybackCommand.Play.getDefaultInstance()));
  }

  /** Host and co-hosts: pause. */
  public CompletableFuture<CommandAccepted> pause() {
    return playback(
        PlaybackCommand.newBuilder().setPause(PlaybackCommand.Pause.getDefaultInstance()));
  }

  /** Host and co-hosts: seek to {@code positionMs} (0..title duration). */
  public CompletableFuture<CommandAccepted> seek(long positionMs) {
    return playback(
        PlaybackCommand.newBuilder()
            .setSeek(PlaybackCommand.Seek.newBuilder().setPositionMs(positionMs)));
  }

  /** Host and co-hosts: set the playback rate (0.5..2.0). */
  public CompletableFuture<CommandAccepted> setRate(double rate) {
    return playback(
        PlaybackCommand.newBuilder()
            .setSetRate(PlaybackCommand.SetRate.newBuilder().setRate(rate)));
  }

  /** Host and co-hosts: switch to another title (it starts paused at 0). */
  public CompletableFuture<CommandAccepted> changeTitle(String titleId) {
    return playback(
        PlaybackCommand.newBuilder()
            .setChangeTitle(PlaybackCommand.ChangeTitle.newBuilder().setTitleId(titleId)));
  }

  /** Host: make {@code userId} a co-host. */
  public CompletableFuture<CommandAccepted> grantCohost(String userId) {
    return role(RoleCommand.newBuilder().setGrantCohost(userId));
  }

  /** Host: revoke {@code userId}'s co-host role. */
  public CompletableFuture<CommandAccepted> revokeCohost(String userId) {
    return role(RoleCommand.newBuilder().setRevokeCohost(userId));
  }

  /** Host: hand the host role to a present member. */
  public CompletableFuture<CommandAccepted> transferHost(String userId) {
    return role(RoleCommand.newBuilder().setTransferHost(userId));
  }

  /** Host and co-hosts: remove {@code userId} from the room (they may come back). */
  public CompletableFuture<CommandAccepted> kick(String userId) {
    return role(RoleCommand.newBuilder().setKick(userId));
  }

  /** Host and co-hosts: ban {@code userId} from the room, surviving new invite links. */
  public CompletableFuture<CommandAccepted> ban(String userId) {
    return role(RoleCommand.newBuilder().setBan(userId));
  }

  /** Host and co-hosts: lift a ban. */
  public CompletableFuture<CommandAccepted> unban(String userId) {
    return role(RoleCommand.newBuilder().setUnban(userId));
  }

  /** Host and co-hosts (or the author): delete a chat message. */
  public CompletableFuture<CommandAccepted> deleteChat(String messageId) {
    return command(
        Command.newBuilder()
            .setChat(ChatModeration.newBuilder().setDeleteMessageId(messageId))
            .build());
  }

  /** Host and co-hosts: mute {@code userId} for {@code durationMs} (1 s .. 24 h). */
  public CompletableFuture<CommandAccepted> mute(String userId, long durationMs) {
    return command(
        Command.newBuilder()
            .setChat(
                ChatModeration.newBuilder()
                    .setMute(
                        ChatModeration.Mute.newBuilder()
                            .setUserId(userId)
                            .setDurationMs(durationMs)))
            .build());
  }

  /** Host and co-hosts: unmute {@code userId}. */
  public CompletableFuture<CommandAccepted> unmute(String userId) {
    return command(
        Command.newBuilder().setChat(ChatModeration.newBuilder().setUnmute(userId)).build());
  }

  /** Host and co-hosts: set chat slow mode (0 turns it off). */
  public CompletableFuture<CommandAccepted> setSlowMode(long slowModeMs) {
    return command(
        Command.newBuilder()
            .setChat(ChatModeration.newBuilder().setSetSlowModeMs(slowModeMs))
            .build());
  }

  /**
   * Sends a chat message under a fresh client message id; completes with the stored message. If the
   * connection drops first, it is sent again with the same id after the resume (stored once).
   */
  public CompletableFuture<ChatMessage> sendChat(String text) {
    Objects.requireNonNull(text, "text");
    String clientMessageId = UUID.randomUUID().toString();
    CompletableFuture<ChatMessage> result = new CompletableFuture<>();
    timers.execute(
        () -> {
          if (state.isFinal()) {
            result.completeExceptionally(notConnected());
            return;
          }
          pendingChats.put(clientMessageId, new PendingChat(text, result));
          if (streamJoined) {
            sendChatMessage(clientMessageId, text);
          }
        });
    return result;
  }

  /** Sends a reaction (one emoji of the allowed set). Not stored; lost if not connected. */
  public void react(String emoji) {
    Objects.requireNonNull(emoji, "emoji");
    send(ClientMessage.newBuilder().setReact(React.newBuilder().setEmoji(emoji)));
  }

  /** Reports that this member's player is buffering ({@code true}) or ready again. */
  public void reportBuffering(boolean buffering) {
    send(
        ClientMessage.newBuilder()
            .setBuffering(BufferingReport.newBuilder().setBuffering(buffering)));
  }

  /**
   * Leaves the room for good (the member's place and role go); nothing reconnects. Completes once
   * the server has ended the stream (or, while reconnecting, once the server stored the leave).
   */
  public CompletableFuture<Void> leave() {
    timers.execute(
        () -> {
          if (state.isFinal()) {
            return;
          }
          leaving = true;
          cancelReconnect();
          if (stream != null && streamJoined) {
            stream.onNext(ClientMessage.newBuilder().setLeave(Leave.getDefaultInstance()).build());
            stream.onCompleted();
          } else {
            dropStream();
            client
                .leaveRoom(roomId)
                .whenComplete(
                    (ok, failure) -> timers.execute(() -> finish(ConnectionState.LEFT, null)));
          }
        });
    return ended.thenApply(s -> null);
  }

  // ---- Package-private: the client and tests ----------------------------------------------------

  void start() {
    timers.execute(this::openStream);
  }

  /** Closes without leaving (the member keeps their place for the grace period). */
  void close() {
    timers.execute(
        () -> {
          cancelReconnect();
          dropStream();
          finish(ConnectionState.CLOSED, null);
        });
  }

  /** Tests: drops the stream as a network failure would (the library then resumes). */
  void dropConnection() {
    timers.execute(
        () -> {
          if (stream != null) {
            stream.cancel("test: connection dropped", null);
          }
        });
  }

  /** Tests: reconnects wait for {@code hold} to complete. */
  void holdReconnects(CompletableFuture<?> hold) {
    timers.execute(() -> reconnectHold = hold);
  }

  /** Tests: the last Resumed marker's range {from, to}; empty before any. */
  long[] lastResumed() {
    return lastResumed.clone();
  }

  /** Tests and diagnostics: the attached players' errors now, in media ms. */
  CompletableFuture<List<Double>> playerErrors() {
    CompletableFuture<List<Double>> errors = new CompletableFuture<>();
    timers.execute(
        () -> {
          List<Double> values = new ArrayList<>();
          players.forEach(p -> p.errorNowMs().ifPresent(values::add));
          errors.complete(values);
        });
    return errors;
  }

  // ---- The stream ------------------------------------------------------------------------------

  private void openStream() {
    if (state.isFinal()) {
      return;
    }
    int mine = ++generation;
    streamJoined = false;
    ClientResponseObserver<ClientMessage, ServerMessage> observer =
        new ClientResponseObserver<>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<ClientMessage> requests) {
            stream = requests;
          }

          // gRPC's threads only hand on: all work happens on the client's thread.
          @Override
          public void onNext(ServerMessage message) {
            timers.execute(
                () -> {
                  if (mine == generation) {
                    onMessage(message);
                  }
                });
          }

          @Override
          public void onError(Throwable failure) {
            timers.execute(
                () -> {
                  if (mine == generation) {
                    onStreamEnd(failure);
                  }
                });
          }

          @Override
          public void onCompleted() {
            timers.execute(
                () -> {
                  if (mine == generation) {
                    onStreamEnd(null);
                  }
                });
          }
        };
    server.connect(observer);
    Join.Builder join = Join.newBuilder().setRoomId(roomId).setLastSequence(lastSequence);
    if (inviteToken != null) {
      join.setInviteToken(inviteToken);
    }
    stream.onNext(ClientMessage.newBuilder().setRequestId(nextRequestId()).setJoin(join).build());
  }

  private void onMessage(ServerMessage message) {
    long sequence = message.getSequence();
    if (message.hasSnapshot()) {
      onSnapshot(message.getSnapshot(), sequence);
      return;
    }
    if (sequence > 0) {
      if (sequence <= lastSequence) {
        return; // seen already (a replay overlapping what arrived live)
      }
      lastSequence = sequence;
    }
    switch (message.getKindCase()) {
      case RESUMED -> {
        lastResumed =
            new long[] {
              message.getResumed().getFromSequence(), message.getResumed().getToSequence()
            };
        joinedStream();
        setState(ConnectionState.RESUMED, null);
      }
      case PLAYBACK_CHANGED -> {
        var changed = message.getPlaybackChanged();
        latestPlayback = changed.getState();
        players.forEach(p -> p.follow(changed.getState(), false));
        listener.onPlayback(changed.getState(), changed.getByUserId(), changed.getCause());
      }
      case MEMBER_JOINED -> listener.onMemberJoined(message.getMemberJoined().getMember());
      case MEMBER_LEFT ->
          listener.onMemberLeft(
              message.getMemberLeft().getUserId(), message.getMemberLeft().getReason());
      case ROLE_CHANGED -> {
        var changed = message.getRoleChanged();
        listener.onRoleChanged(changed.getUserId(), changed.getRole(), changed.getByUserId());
      }
      case PRESENCE -> listener.onPresence(message.getPresence().getMemberCount());
      case NOTICE ->
          listener.onNotice(message.getNotice().getCode(), message.getNotice().getText());
      case ROOM_CLOSED -> {
        closedReason = message.getRoomClosed().getReason();
        listener.onRoomClosed(closedReason);
      }
      case BUFFERING_CHANGED ->
          listener.onBuffering(message.getBufferingChanged().getBufferingCount());
      case CHAT -> listener.onChat(message.getChat());
      case CHAT_DELETED ->
          listener.onChatDeleted(
              message.getChatDeleted().getMessageId(), message.getChatDeleted().getByUserId());
      case REACTIONS -> listener.onReactions(Map.copyOf(message.getReactions().getCountsMap()));
      case USER_MUTED -> {
        var muted = message.getUserMuted();
        listener.onUserMuted(muted.getUserId(), muted.getUntilMs(), muted.getByUserId());
      }
      case SLOW_MODE_CHANGED ->
          listener.onSlowMode(
              message.getSlowModeChanged().getSlowModeMs(),
              message.getSlowModeChanged().getByUserId());
      case PONG -> {
        var pong = message.getPong();
        clock.onPong(
            pong.getClientSendTimeMs(), pong.getServerReceiveTimeMs(), pong.getServerSendTimeMs());
      }
      case COMMAND_RESULT -> onCommandResult(message.getCommandResult());
      case WATCHABILITY -> {
        var w = message.getWatchability();
        if (w.getUserId().isEmpty()) {
          canWatch = w.getCanWatch();
          players.forEach(p -> p.setBlocked(!w.getCanWatch()));
          listener.onWatchability(
              w.getTitleId(), w.getCanWatch(), w.getReason(), w.getAvailableFromMs());
        }
      }
      default -> {
        // A kind this library version does not know: a newer server's; nothing to do with it.
      }
    }
  }

  private void onSnapshot(Snapshot snapshot, long sequence) {
    boolean resync = lastSequence > 0 || joined.isDone();
    lastSequence = Math.max(sequence, snapshot.getPlayback().getSequence());
    bands = SyncBands.of(snapshot.getSyncPolicy());
    latestPlayback = snapshot.getPlayback();
    canWatch = snapshot.getCanWatch();
    for (PlayerSync p : players) {
      p.setBands(bands);
      p.setBlocked(!snapshot.getCanWatch());
      p.follow(snapshot.getPlayback(), true);
    }
    joinedStream();
    listener.onSnapshot(snapshot);
    // The listener hears the state before joined() completes: an app that waits for joined() has
    // been told it is joined (RoomConnectionIT checked the states right after it, and raced).
    setState(resync ? ConnectionState.RESYNCED : ConnectionState.JOINED, null);
    joined.complete(snapshot);
  }

  /**
   * The stream is joined (snapshot or resume): clock rounds run, unacknowledged chat goes again.
   */
  private void joinedStream() {
    streamJoined = true;
    attempt = 0;
    failures = 0;
    SyncBands policy = bands == null ? SyncBands.DEFAULTS : bands;
    clock.start(policy.clockSamples(), policy.clockRefreshMs());
    pendingChats.forEach((id, chat) -> sendChatMessage(id, chat.text()));
  }

  private void onCommandResult(CommandResult result) {
    String id = result.getRequestId();
    switch (result.getOutcomeCase()) {
      case CHAT_STORED -> {
        PendingChat chat = pendingChats.remove(result.getChatStored().getClientMessageId());
        if (chat != null) {
          chat.result().complete(result.getChatStored());
        }
      }
      case ACCEPTED -> {
        var command = pendingCommands.remove(id);
        if (command != null) {
          command.complete(result.getAccepted());
        }
      }
      case REJECTED -> {
        var failure = new WatchPartyException(Refusal.of(result.getRejected()));
        var command = pendingCommands.remove(id);
        if (command != null) {
          command.completeExceptionally(failure);
        }
        // A message refused because the room moved stays pending: the stream ends with the move
        // and the message goes again, with its id, to the room's owner.
        PendingChat chat = failure.refusal().isMove() ? null : pendingChats.remove(id);
        if (chat != null) {
          chat.result().completeExceptionally(failure);
        }
      }
      default -> {}
    }
  }

  private void onStreamEnd(Throwable failure) {
    stream = null;
    streamJoined = false;
    clock.stop();
    failPendingCommands();
    if (leaving) {
      finish(ConnectionState.LEFT, null);
      return;
    }
    if (closedReason != null) {
      finish(
          ConnectionState.ROOM_CLOSED,
          new Refusal(Status.Code.FAILED_PRECONDITION, "ROOM_CLOSED", closedReason, Map.of()));
      return;
    }
    Refusal refusal =
        failure == null
            ? Refusal.local("STREAM_ENDED", "the server ended the room stream")
            : Refusal.of(failure);
    if (refusal.endsMembership()) {
      finish(ConnectionState.REFUSED, refusal);
      return;
    }
    if (attempt >= client.maxReconnectAttempts()) {
      finish(ConnectionState.GAVE_UP, refusal);
      return;
    }
    setState(ConnectionState.RECONNECTING, refusal);
    Optional<RoomServiceGrpc.RoomServiceStub> owner = client.roomStubMovedTo(refusal);
    // Told where the room is now, the connection goes there at once. Else it backs off (a move
    // does not grow the backoff, a failure does) and asks the address it was given: an owner it
    // was sent to that failed (crashed, say) is not asked again, the fleet names the next one.
    long delay = owner.isPresent() ? 0 : client.backoff().delayMs(failures++);
    attempt++;
    server = owner.orElseGet(client::roomStub);
    CompletableFuture<?> hold = reconnectHold;
    reconnectTimer =
        timers.schedule(
            () -> hold.whenComplete((ok, error) -> timers.execute(this::openStream)), delay);
  }

  private void finish(ConnectionState last, Refusal refusal) {
    if (state.isFinal()) {
      return;
    }
    players.forEach(PlayerSync::stop);
    players.clear();
    clock.stop();
    failPendingCommands();
    WatchPartyException failure =
        new WatchPartyException(
            refusal != null ? refusal : Refusal.local(last.name(), "the connection ended"));
    pendingChats.values().forEach(c -> c.result().completeExceptionally(failure));
    pendingChats.clear();
    joined.completeExceptionally(failure);
    setState(last, refusal);
    ended.complete(last);
    client.forget(this);
  }

  private void setState(ConnectionState next, Refusal refusal) {
    state = next;
    listener.onConnectionState(next, Optional.ofNullable(refusal));
  }

  private void failPendingCommands() {
    var failure =
        new WatchPartyException(
            Refusal.local("CONNECTION_LOST", "the connection dropped before the command's result"));
    pendingCommands.values().forEach(f -> f.completeExceptionally(failure));
    pendingCommands.clear();
  }

  private void cancelReconnect() {
    if (reconnectTimer != null) {
      reconnectTimer.cancel();
      reconnectTimer = null;
    }
  }

  private void dropStream() {
    generation++; // whatever the old stream still reports is ignored
    if (stream != null) {
      stream.cancel("closed by the client", null);
      stream = null;
    }
    streamJoined = false;
  }

  private CompletableFuture<CommandAccepted> playback(PlaybackCommand.Builder command) {
    return command(Command.newBuilder().setPlayback(command).build());
  }

  private CompletableFuture<CommandAccepted> role(RoleCommand.Builder command) {
    return command(Command.newBuilder().setRole(command).build());
  }

  private CompletableFuture<CommandAccepted> command(Command command) {
    CompletableFuture<CommandAccepted> result = new CompletableFuture<>();
    timers.execute(
        () -> {
          if (!streamJoined) {
            result.completeExceptionally(notConnected());
            return;
          }
          String id = nextRequestId();
          pendingCommands.put(id, result);
          stream.onNext(ClientMessage.newBuilder().setRequestId(id).setCommand(command).build());
        });
    return result;
  }

  private void send(ClientMessage.Builder message) {
    timers.execute(
        () -> {
          if (streamJoined) {
            stream.onNext(message.setRequestId(nextRequestId()).build());
          }
        });
  }

  private void sendChatMessage(String clientMessageId, String text) {
    stream.onNext(
        ClientMessage.newBuilder()
            .setRequestId(clientMessageId)
            .setSendChat(SendChat.newBuilder().setClientMessageId(clientMessageId).setText(text))
            .build());
  }

  private void sendPing(long localSendMs) {
    if (stream != null) {
      stream.onNext(
          ClientMessage.newBuilder()
              .setPing(ClockPing.newBuilder().setClientSendTimeMs(localSendMs))
              .build());
    }
  }

  private static WatchPartyException notConnected() {
    return new WatchPartyException(
        Refusal.local("NOT_CONNECTED", "the room stream is not connected now"));
  }

  private static String nextRequestId() {
    return "r" + REQUEST_IDS.incrementAndGet();
  }
}
