package io.watchparty.server.room;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import io.grpc.Status;
import io.watchparty.proto.v1.BufferingChanged;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.MemberJoined;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.Notice;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.PresenceCount;
import io.watchparty.proto.v1.Resumed;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoleChanged;
import io.watchparty.proto.v1.RoleCommand;
import io.watchparty.proto.v1.RoomClosed;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.ViewerGrant;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.RefusedException;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.rpc.ErrorMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One watch party: its members and roles, the authoritative playback state, and its ordered event
 * stream.
 *
 * <p>Every change happens under {@code lock}: it is applied, numbered with the next room sequence,
 * serialized once, and offered to every stream's {@link Outbox} before the lock is released, so all
 * receivers see the same events in the same order. Nothing under the lock blocks: outboxes only
 * enqueue, and Cassandra writes are built (with their timestamps) under the lock but run after it.
 */
public final class Room {
  private final UUID id;
  private final RoomStore store;
  private final RoomConfig config;
  private final InstantSource clock;
  private final ScheduledExecutorService timers;

  /** Catalog lookup that refuses malformed and unknown ids. */
  private final Function<String, Title> titles;

  private final InviteTokens inviteTokens;
  private final RoomRights rights;
  private final Object lock = new Object();
  private final RoomChat chat;

  // Everything below is guarded by `lock`.
  private final String name;
  private RoomSettings settings; // chat moderation changes its slow mode
  private final long createdAtMs;
  private String hostUserId;
  private String hostDisplayName;
  private Optional<String> inviteToken;
  private final Set<String> cohosts;
  private final Set<String> banned;
  private Playback playback;
  private boolean closed;
  private final EventLog log;

  /** In join order: the longest-present member comes first (host succession). */
  private final LinkedHashMap<String, Member> members = new LinkedHashMap<>();

  private final Set<Subscriber> relays = new LinkedHashSet<>();
  private final Set<String> bufferingUsers = new HashSet<>();
  private boolean pausedForBuffering;
  private ScheduledFuture<?> bufferingTimeout;
  private ScheduledFuture<?> presenceTask;
  private long lastPresenceSentAtMs = Long.MIN_VALUE / 2;
  private long lastPresenceCount = -1;
  private long lastWriteMicros;

  /** Consecutive registry sweeps that found the room empty (see {@link #retireIfIdle}). */
  private int idleSweeps;

  /** Dropped from the registry: a join must find the room again (a fresh instance). */
  private boolean retired;

  Room(
      RoomRecord record,
      long firstSequence,
      RoomStore store,
      RoomConfig config,
      InstantSource clock,
      ScheduledExecutorService timers,
      Function<String, Title> titles,
      InviteTokens inviteTokens,
      AvailabilityMatrix availability,
      Function<Room, RoomChat> chat) {
    this.id = record.roomId();
    this.store = store;
    this.config = config;
    this.clock = clock;
    this.timers = timers;
    this.titles = titles;
    this.inviteTokens = inviteTokens;
    this.rights = new RoomRights(record.roomId(), availability, clock, timers);
    this.name = record.name();
    this.settings = record.settings();
    this.createdAtMs = record.createdAtMs();
    // The room was stored at its creation time: every later write must be newer (timestamped).
    this.lastWriteMicros = record.createdAtMs() * 1000;
    this.hostUserId = record.hostUserId();
    this.hostDisplayName = record.hostDisplayName();
    this.inviteToken = record.inviteToken();
    this.cohosts = new LinkedHashSet<>(record.cohosts());
    this.banned = new HashSet<>(record.banned());
    this.playback = record.playback();
    this.closed = record.closed();
    this.log = new EventLog(config.eventLogCapacity(), firstSequence);
    this.chat = chat.apply(this);
  }

  public UUID id() {
    return id;
  }

  // ---------------------------------------------------------------------------------------------
  // Joining and leaving

  /**
   * Admits a stream to the room and queues its first frames: a snapshot, or on resume the missed
   * events. Refuses (and changes nothing) when the caller may not join.
   */
  public Subscriber join(Identity who, Outbox outbox, Join request) {
    rights.warm(currentTitleId()); // outside the lock
    synchronized (lock) {
      if (retired) {
        throw new Retired();
      }
      requireOpen();
      if (request.getAsRelay()) {
        if (!who.relay()) {
          throw new RefusedException(
              ErrorReason.NOT_A_RELAY, "only relay accounts may join as a relay");
        }
        Subscriber relay = new Subscriber(this, who, outbox, true);
        relays.add(relay);
        sendInitialFrames(relay, request.getLastSequence());
        return relay;
      }
      requireAdmissible(who, request.getInviteToken());
      if (!rights.scheduled()) {
        rights.schedule(playback.titleId(), this::licenceCheck);
      }
      Member member = members.get(who.userId());
      Subscriber subscriber = new Subscriber(this, who, outbox, false);
      if (member == null) {
        member = new Member(who.userId(), who.displayName(), who.region());
        members.put(who.userId(), member);
        // Announced before the newcomer's stream is added: its snapshot (numbered with this
        // event's sequence) already shows the arrival, and the events after it follow.
        if (detailedPresence()) {
          publish(
              ServerMessage.newBuilder()
                  .setMemberJoined(
                      MemberJoined.newBuilder()
                          .setMember(toProto(member).toBuilder().setConnected(true))));
        } else {
          schedulePresence();
        }
      }
      boolean reconnected = member.graceTimer != null;
      if (reconnected) {
        // Back within the grace period: no leave, no join, the role is kept.
        member.graceTimer.cancel(false);
        member.graceTimer = null;
      }
      member.connections.add(subscriber);
      sendInitialFrames(subscriber, request.getLastSequence());
      if (reconnected && isHost(member.userId)) {
        publish(
            ServerMessage.newBuilder()
                .setNotice(
                    Notice.newBuilder()
                        .setCode("HOST_RECONNECTED")
                        .setText(member.displayName + " is back")));
      }
      return subscriber;
    }
  }

  /**
   * Whether {@code who} may watch this room, for a relay about to serve them: the same rules as a
   * member's join (subscription, region, bans, invite). Changes nothing.
   */
  public ViewerGrant authorizeViewer(Identity who, String inviteToken) {
    rights.warm(currentTitleId()); // outside the lock
    synchronized (lock) {
      requireOpen();
      requireAdmissible(who, inviteToken);
      return ViewerGrant.newBuilder()
          .setRoom(infoLocked().toBuilder().setCanWatch(true))
          .setRole(roleOf(who.userId()))
          .build();
    }
  }

  /** The rules every viewer passes, joining by stream or served by a relay. Under the lock. */
  private void requireAdmissible(Identity who, String inviteToken) {
    RoomRegistry.requireSubscribed(who);
    rights.requireWatchable(playback.titleId(), who.region());
    if (banned.contains(who.userId())) {
      throw new RefusedException(
          ErrorReason.BANNED_FROM_ROOM,
          "you are banned from this room",
          Map.of("room_id", id.toString()));
    }
    boolean known =
        members.containsKey(who.userId()) || isHost(who.userId()) || cohosts.contains(who.userId());
    if (!known && !mayEnterWith(inviteToken)) {
      throw new RefusedException(
          ErrorReason.INVITE_TOKEN_INVALID,
          "this private room needs a current invite link",
          Map.of("room_id", id.toString()));
    }
  }

  /** The stream ended without a Leave: the member keeps their place for the grace period. */
  public void disconnected(Subscriber subscriber) {
    synchronized (lock) {
      if (subscriber.isRelay()) {
        if (relays.remove(subscriber)) {
          schedulePresence();
        }
        return;
      }
      Member member = members.get(subscriber.identity().userId());
      if (member == null || !member.connections.remove(subscriber) || member.connected()) {
        return;
      }
      member.graceTimer =
          timers.schedule(
              () -> graceExpired(member),
              config.reconnectGrace().toMillis(),
              TimeUnit.MILLISECONDS);
      if (isHost(member.userId) && !closed) {
        publish(
            ServerMessage.newBuilder()
                .setNotice(
                    Notice.newBuilder()
                        .setCode("HOST_DISCONNECTED")
                        .setText(member.displayName + " lost their connection")));
      }
    }
  }

  /** The member leaves for good, from every device. */
  public void leave(Subscriber subscriber) {
    List<BoundStatement> writes = new ArrayList<>();
    synchronized (lock) {
      if (subscriber.isRelay()) {
        relays.remove(subscriber);
        subscriber.outbox().close(Status.OK.asRuntimeException());
        schedulePresence();
        return;
      }
      Member member = members.get(subscriber.identity().userId());
      if (member == null) {
        return;
      }
      member.connections.forEach(s -> s.outbox().close(Status.OK.asRuntimeException()));
      removeMember(member, MemberLeft.Reason.LEFT, writes);
    }
    runAsync(writes);
  }

  private void graceExpired(Member member) {
    List<BoundStatement> writes = new ArrayList<>();
    synchronized (lock) {
      if (members.get(member.userId) != member || member.connected()) {
        return;
      }
      removeMember(member, MemberLeft.Reason.TIMED_OUT, writes);
    }
    runAsync(writes);
  }

  private void removeMember(Member member, MemberLeft.Reason reason, List<BoundStatement> writes) {
    boolean announced = detailedPresence(); // joins were announced one by one, so are leaves
    members.remove(member.userId);
    if (member.graceTimer != null) {
      member.graceTimer.cancel(false);
      member.graceTimer = null;
    }
    if (announced) {
      publish(
          ServerMessage.newBuilder()
              .setMemberLeft(MemberLeft.newBuilder().setUserId(member.userId).setReason(reason)));
    } else {
      schedulePresence();
    }
    if (bufferingUsers.remove(member.userId)) {
      bufferingSettled(writes);
    }
    if (isHost(member.userId) && !closed) {
      hostLeft(writes);
    }
  }

  private void hostLeft(List<BoundStatement> writes) {
    if (settings.getHostLeavePolicy() == HostLeavePolicy.END_ROOM) {
      close("HOST_LEFT", writes);
      return;
    }
    Optional<Member> successor =
        members.values().stream()
            .filter(m -> cohosts.contains(m.userId))
            .findFirst()
            .or(() -> members.values().stream().findFirst());
    successor.ifPresent(next -> makeHost(next, "", writes));
  }

  private void makeHost(Member next, String byUserId, List<BoundStatement> writes) {
    hostUserId = next.userId;
    hostDisplayName = next.displayName;
    if (cohosts.remove(next.userId)) {
      writes.add(timestamped(store.setCohost(id, next.userId, false)));
    }
    writes.add(timestamped(store.setHost(id, next.userId, next.displayName)));
    publish(
        ServerMessage.newBuilder()
            .setRoleChanged(
                RoleChanged.newBuilder()
                    .setUserId(next.userId)
                    .setRole(Role.HOST)
                    .setByUserId(byUserId)));
  }

  private void close(String reason, List<BoundStatement> writes) {
    closed = true;
    rights.cancel();
    publish(ServerMessage.newBuilder().setRoomClosed(RoomClosed.newBuilder().setReason(reason)));
    for (Member m : members.values()) {
      m.connections.forEach(s -> s.outbox().close(Status.OK.asRuntimeException()));
      if (m.graceTimer != null) {
        m.graceTimer.cancel(false);
      }
    }
    relays.forEach(s -> s.outbox().close(Status.OK.asRuntimeException()));
    members.clear();
    relays.clear();
    store.close(id).forEach(w -> writes.add(timestamped(w)));
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /**
   * Applies a command from {@code who}. Playback changes take effect {@link
   * RoomConfig#commandLead()} from now; they are persisted in the background, so that playback goes
   * on even while Cassandra is unreachable. Role changes complete only once stored. Chat moderation
   * is the room's {@link RoomChat}'s.
   */
  public CompletionStage<CommandAccepted> command(Identity who, Command command) {
    if (command.hasChat()) {
      // Chat moderation may read and write Cassandra first: the chat takes the lock itself.
      return chat.moderate(who, command.getChat());
    }
    Optional<Title> newTitle =
        command.getPlayback().hasChangeTitle()
            ? Optional.of(titles.apply(command.getPlayback().getChangeTitle().getTitleId()))
            : Optional.empty();
    newTitle.ifPresent(t -> rights.warm(t.titleId())); // outside the lock
    List<BoundStatement> writes = new ArrayList<>();
    CommandAccepted accepted;
    synchronized (lock) {
      requireOpen();
      requirePresent(who.userId());
      accepted =
          switch (command.getKindCase()) {
            case PLAYBACK -> playbackCommand(who, command.getPlayback(), newTitle, writes);
            case ROLE -> roleCommand(who, command.getRole(), writes);
            case CHAT -> throw new IllegalStateException("chat commands are handled above");
            case KIND_NOT_SET ->
                throw new RefusedException(ErrorReason.FIELD_MISSING, "the command is empty");
          };
    }
    if (command.hasPlayback()) {
      runAsync(writes);
      return CompletableFuture.completedFuture(accepted);
    }
    return store.apply(writes).thenApply(v -> accepted);
  }

  private CommandAccepted playbackCommand(
      Identity who,
      PlaybackCommand command,
      Optional<Title> newTitle,
      List<BoundStatement> writes) {
    requireController(who.userId());
    long at = clock.millis() + config.commandLead().toMillis();
    Playback next =
        switch (command.getActionCase()) {
          case PLAY -> playback.playing() ? playback : playback.play(at);
          case PAUSE -> playback.playing() ? playback.pause(at) : playback;
          case SEEK -> {
            long position = command.getSeek().getPositionMs();
            if (position < 0 || position > playback.durationMs()) {
              throw new RefusedException(
                  ErrorReason.SEEK_OUT_OF_RANGE,
                  "seek position "
                      + position
                      + " ms is outside the title (0.."
                      + playback.durationMs()
                      + " ms)",
                  Map.of("duration_ms", Long.toString(playback.durationMs())));
            }
            yield playback.seek(position, at);
          }
          case SET_RATE -> {
            double rate = command.getSetRate().getRate();
            if (!(rate >= Playback.MIN_RATE && rate <= Playback.MAX_RATE)) {
              throw new RefusedException(
                  ErrorReason.RATE_OUT_OF_RANGE,
                  "playback rate "
                      + rate
                      + " is outside "
                      + Playback.MIN_RATE
                      + ".."
                      + Playback.MAX_RATE,
                  Map.of(
                      "min_rate", Double.toString(Playback.MIN_RATE),
                      "max_rate", Double.toString(Playback.MAX_RATE)));
            }
            yield playback.withRate(rate, at);
          }
          case CHANGE_TITLE -> {
            Title title = newTitle.orElseThrow();
            yield Playback.start(title.titleId(), title.durationMs(), at);
          }
          case ACTION_NOT_SET ->
              throw new RefusedException(
                  ErrorReason.FIELD_MISSING, "the playback command has no action");
        };
    if (next == playback) {
      return CommandAccepted.newBuilder().setEffectiveAtMs(playback.effectiveAtMs()).build();
    }
    // An explicit command ends any wait for buffering members.
    pausedForBuffering = false;
    long sequence = changePlayback(next, who.userId(), PlaybackChanged.Cause.COMMAND, writes);
    var accepted = CommandAccepted.newBuilder().setSequence(sequence).setEffectiveAtMs(at);
    if (command.hasChangeTitle()) {
      accepted.setMembersUnableToWatch(reevaluateWatchability(true));
      rights.schedule(playback.titleId(), this::licenceCheck);
    }
    return accepted.build();
  }

  private long changePlayback(
      Playback next, String byUserId, PlaybackChanged.Cause cause, List<BoundStatement> writes) {
    long sequence = log.lastSequence() + 1;
    playback = next.withSequence(sequence);
    writes.add(timestamped(store.savePlayback(id, playback)));
    return publish(
        ServerMessage.newBuilder()
            .setPlaybackChanged(
                PlaybackChanged.newBuilder()
                    .setState(playback.toProto())
                    .setByUserId(byUserId)
                    .setCause(cause)));
  }

  private CommandAccepted roleCommand(
      Identity who, RoleCommand command, List<BoundStatement> writes) {
    String actor = who.userId();
    long sequence =
        switch (command.getActionCase()) {
          case GRANT_COHOST -> {
            requireHost(actor);
            // A viewer a relay serves is present too: a browser user may be made co-host.
            String target = validUserId(command.getGrantCohost());
            if (!members.containsKey(target) && !relayed(target)) {
              presentMember(target); // refuses: not in the room
            }
            if (isHost(target) || !cohosts.add(target)) {
              yield 0;
            }
            writes.add(timestamped(store.setCohost(id, target, true)));
            yield publishRole(target, Role.COHOST, actor);
          }
          case REVOKE_COHOST -> {
            requireHost(actor);
            String target = validUserId(command.getRevokeCohost());
            if (!cohosts.remove(target)) {
              yield 0;
            }
            writes.add(timestamped(store.setCohost(id, target, false)));
            yield publishRole(target, Role.VIEWER, actor);
          }
          case TRANSFER_HOST -> {
            requireHost(actor);
            Member target = presentMember(command.getTransferHost());
            if (isHost(target.userId)) {
              yield 0;
            }
            // The previous host stays in charge of playback as a co-host.
            cohosts.add(actor);
            writes.add(timestamped(store.setCohost(id, actor, true)));
            makeHost(target, actor, writes);
            yield publishRole(actor, Role.COHOST, actor);
          }
          case KICK -> {
            String target = validUserId(command.getKick());
            Member member = members.get(target);
            if (member == null && !relayed(target)) {
              presentMember(target); // refuses: not in the room
            }
            requireMayModerate(actor, target);
            removeEverywhere(target, member, MemberLeft.Reason.KICKED, writes);
            yield log.lastSequence();
          }
          case BAN -> {
            String target = validUserId(command.getBan());
            requireMayModerate(actor, target);
            if (!banned.add(target)) {
              yield 0;
            }
            writes.add(timestamped(store.setBanned(id, target, true)));
            if (cohosts.remove(target)) {
              writes.add(timestamped(store.setCohost(id, target, false)));
            }
            removeEverywhere(target, members.get(target), MemberLeft.Reason.BANNED, writes);
            yield log.lastSequence();
          }
          case UNBAN -> {
            requireController(actor);
            String target = validUserId(command.getUnban());
            if (!banned.remove(target)) {
              yield 0;
            }
            writes.add(timestamped(store.setBanned(id, target, false)));
            yield 0;
          }
          case ACTION_NOT_SET ->
              throw new RefusedException(
                  ErrorReason.FIELD_MISSING, "the role command has no action");
        };
    return CommandAccepted.newBuilder().setSequence(sequence).build();
  }

  private long publishRole(String userId, Role role, String byUserId) {
    return publish(
        ServerMessage.newBuilder()
            .setRoleChanged(
                RoleChanged.newBuilder().setUserId(userId).setRole(role).setByUserId(byUserId)));
  }

  private void closeStreams(Member member, ErrorReason reason, String message) {
    var status =
        ErrorMapper.toStatusException(
            new RefusedException(reason, message, Map.of("room_id", id.toString())));
    member.connections.forEach(s -> s.outbox().close(status));
  }

  /** Host only: a new invite token; the previous link stops working at once. */
  public CompletionStage<String> rotateInvite(Identity who) {
    List<BoundStatement> writes = new ArrayList<>();
    String token;
    synchronized (lock) {
      requireOpen();
      requireHost(who.userId());
      if (settings.getVisibility() != Visibility.PRIVATE) {
        throw new RefusedException(
            ErrorReason.INVALID_SETTING, "public rooms have no invite token to rotate");
      }
      token = inviteTokens.next();
      inviteToken = Optional.of(token);
      writes.add(timestamped(store.setInvite(id, token)));
    }
    return store.apply(writes).thenApply(v -> token);
  }

  // ---------------------------------------------------------------------------------------------
  // Buffering and relays

  /** A member's player is buffering (or ready again). */
  public void buffering(Subscriber subscriber, boolean buffering) {
    if (subscriber.isRelay()) {
      return;
    }
    List<BoundStatement> writes = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        return;
      }
      String userId = subscriber.identity().userId();
      boolean changed = buffering ? bufferingUsers.add(userId) : bufferingUsers.remove(userId);
      if (!changed) {
        return;
      }
      if (detailedPresence()) {
        publish(
            ServerMessage.newBuilder()
                .setBufferingChanged(
                    BufferingChanged.newBuilder().setBufferingCount(bufferingUsers.size())));
      }
      if (buffering && waitsForBuffering() && playback.playing()) {
        pausedForBuffering = true;
        changePlayback(
            playback.pause(clock.millis() + config.commandLead().toMillis()),
            userId,
            PlaybackChanged.Cause.BUFFERING_WAIT,
            writes);
        bufferingTimeout =
            timers.schedule(
                this::bufferingTimedOut,
                config.bufferingTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
      } else if (!buffering) {
        bufferingSettled(writes);
      }
    }
    runAsync(writes);
  }

  private boolean waitsForBuffering() {
    // Public parties never stall for one viewer.
    return settings.getWaitForBuffering() && settings.getVisibility() == Visibility.PRIVATE;
  }

  private void bufferingSettled(List<BoundStatement> writes) {
    if (pausedForBuffering && bufferingUsers.isEmpty()) {
      resumeAfterBuffering(writes);
    }
  }

  private void bufferingTimedOut() {
    List<BoundStatement> writes = new ArrayList<>();
    synchronized (lock) {
      if (!closed && pausedForBuffering) {
        resumeAfterBuffering(writes);
      }
    }
    runAsync(writes);
  }

  private void resumeAfterBuffering(List<BoundStatement> writes) {
    pausedForBuffering = false;
    if (bufferingTimeout != null) {
      bufferingTimeout.cancel(false);
      bufferingTimeout = null;
    }
    changePlayback(
        playback.play(clock.millis() + config.commandLead().toMillis()),
        "",
        PlaybackChanged.Cause.BUFFERING_RESUME,
        writes);
  }

  /**
   * A relay reports the viewers it started and stopped serving (each authorized before with {@link
   * #authorizeViewer}) and how many it serves in all.
   */
  public void relayAudience(
      Subscriber relay, long viewerCount, List<String> added, List<String> removed) {
    if (!relay.isRelay()) {
      throw new RefusedException(ErrorReason.NOT_A_RELAY, "only relay streams report an audience");
    }
    if (viewerCount < 0) {
      throw new RefusedException(ErrorReason.INVALID_TARGET, "viewer count must not be negative");
    }
    added.forEach(Room::validUserId);
    removed.forEach(Room::validUserId);
    synchronized (lock) {
      for (String userId : added) {
        if (banned.contains(userId)) {
          throw new RefusedException(
              ErrorReason.BANNED_FROM_ROOM,
              "'" + userId + "' is banned from this room",
              Map.of("user_id", userId, "room_id", id.toString()));
        }
      }
      added.forEach(userId -> relay.audience.merge(userId, 1, Integer::sum));
      removed.forEach(
          userId -> relay.audience.computeIfPresent(userId, (u, n) -> n > 1 ? n - 1 : null));
      relay.audienceCount = viewerCount;
      schedulePresence();
    }
  }

  /** Whether some relay serves {@code userId}. Under the lock. */
  private boolean relayed(String userId) {
    return relays.stream().anyMatch(r -> r.audience.containsKey(userId));
  }

  /**
   * Removes a kicked or banned user from the room: their own streams end with the refusal, the
   * relays stop counting them, and one MemberLeft tells everyone (relays must then stop serving
   * them). Under the lock.
   */
  private void removeEverywhere(
      String userId, Member member, MemberLeft.Reason reason, List<BoundStatement> writes) {
    boolean wasRelayed = false;
    for (Subscriber relay : relays) {
      wasRelayed |= relay.audience.remove(userId) != null;
    }
    if (member != null) {
      boolean ban = reason == MemberLeft.Reason.BANNED;
      closeStreams(
          member,
          ban ? ErrorReason.BANNED_FROM_ROOM : ErrorReason.KICKED_FROM_ROOM,
          ban ? "you were banned from the room" : "you were removed from the room");
      removeMember(member, reason, writes);
    } else if (wasRelayed) {
      publish(
          ServerMessage.newBuilder()
              .setMemberLeft(MemberLeft.newBuilder().setUserId(userId).setReason(reason)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Events and snapshots

  /** Numbers, serializes (once) and delivers an event to every stream. Under the lock. */
  private long publish(ServerMessage.Builder event) {
    long sequence = log.lastSequence() + 1;
    byte[] frame = event.setSequence(sequence).build().toByteArray();
    log.append(sequence, frame);
    for (Member member : members.values()) {
      for (Subscriber s : member.connections) {
        deliver(s, frame);
      }
    }
    for (Subscriber relay : relays) {
      deliver(relay, frame);
    }
    return sequence;
  }

  /**
   * Queues a frame for one stream only (a reply to its own request), resynchronizing the stream
   * first if its backlog is full so that the reply is not lost.
   */
  public void reply(Subscriber subscriber, byte[] frame) {
    if (subscriber.outbox().offer(frame)) {
      return;
    }
    synchronized (lock) {
      subscriber.outbox().resetTo(snapshotFrame(subscriber));
    }
    subscriber.outbox().offer(frame);
  }

  /** Queues a frame; false if the stream fell behind and got the current snapshot instead. */
  private boolean deliver(Subscriber subscriber, byte[] frame) {
    if (!subscriber.outbox().offer(frame)) {
      // Fell too far behind: a snapshot replaces the backlog instead of growing it.
      subscriber.outbox().resetTo(snapshotFrame(subscriber));
      return false;
    }
    return true;
  }

  private void sendInitialFrames(Subscriber subscriber, long lastSequence) {
    if (lastSequence > 0) {
      Optional<List<byte[]>> missed = log.after(lastSequence);
      if (missed.isPresent()) {
        byte[] resumed =
            ServerMessage.newBuilder()
                .setResumed(
                    Resumed.newBuilder()
                        .setFromSequence(lastSequence + 1)
                        .setToSequence(log.lastSequence()))
                .build()
                .toByteArray();
        deliver(subscriber, resumed);
        for (byte[] frame : missed.get()) {
          if (!deliver(subscriber, frame)) {
            return; // the snapshot that replaced the replay covers the rest of it
          }
        }
        if (!subscriber.isRelay()) {
          // Per-connection notices are not in the event log: restate the one that matters.
          deliver(subscriber, rights.frame(playback.titleId(), subscriber.identity().region()));
        }
        return;
      }
    }
    deliver(subscriber, snapshotFrame(subscriber));
  }

  private byte[] snapshotFrame(Subscriber subscriber) {
    Snapshot.Builder snapshot =
        Snapshot.newBuilder()
            .setRoom(infoLocked())
            .setPlayback(playback.toProto())
            .setMemberCount(memberCountLocked())
            .setYourRole(
                subscriber.isRelay() ? Role.VIEWER : roleOf(subscriber.identity().userId()))
            .setServerTimeMs(clock.millis())
            .setCommandLeadMs(config.commandLead().toMillis())
            .setCanWatch(
                subscriber.isRelay()
                    || rights.canWatch(playback.titleId(), subscriber.identity().region()))
            .setSlowModeMs(settings.getSlowModeMs())
            .setSyncPolicy(config.syncPolicy().toProto());
    chat.addRecent(snapshot);
    if (detailedPresence()) {
      members.values().forEach(m -> snapshot.addMembers(toProto(m)));
    }
    return ServerMessage.newBuilder()
        .setSequence(log.lastSequence())
        .setSnapshot(snapshot)
        .build()
        .toByteArray();
  }

  /** Large rooms: one count event per presence interval at most, and only if it changed. */
  private void schedulePresence() {
    if (presenceTask != null || closed) {
      return;
    }
    long due =
        Math.max(0, lastPresenceSentAtMs + config.presenceInterval().toMillis() - clock.millis());
    presenceTask = timers.schedule(this::sendPresence, due, TimeUnit.MILLISECONDS);
  }

  private void sendPresence() {
    synchronized (lock) {
      presenceTask = null;
      long count = memberCountLocked();
      if (closed || count == lastPresenceCount) {
        return;
      }
      lastPresenceCount = count;
      lastPresenceSentAtMs = clock.millis();
      publish(
          ServerMessage.newBuilder().setPresence(PresenceCount.newBuilder().setMemberCount(count)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory

  /** Thrown by {@link #join} on a room the registry has dropped; the caller looks it up again. */
  static final class Retired extends RuntimeException {
    Retired() {
      super("room retired", null, false, false);
    }
  }

  /**
   * Called by the registry's periodic sweep: a closed room, or one nobody has been in for two
   * sweeps, stops its timers and is dropped from memory (Cassandra has all of it; the next access
   * loads it again). Returns whether it retired.
   */
  boolean retireIfIdle() {
    synchronized (lock) {
      boolean empty = members.isEmpty() && relays.isEmpty();
      idleSweeps = empty ? idleSweeps + 1 : 0;
      if (!closed && idleSweeps < 2) {
        return false;
      }
      if (!empty) {
        return false;
      }
      retired = true;
      for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {presenceTask, bufferingTimeout}) {
        if (timer != null) {
          timer.cancel(false);
        }
      }
      return true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  /** The room as described to others. */
  public RoomInfo info() {
    synchronized (lock) {
      return infoLocked();
    }
  }

  /** The room as described to a user of {@code region}: says whether they can watch it. */
  public RoomInfo info(String region) {
    rights.warm(currentTitleId());
    synchronized (lock) {
      return infoLocked().toBuilder()
          .setCanWatch(rights.canWatch(playback.titleId(), region))
          .build();
    }
  }

  private String currentTitleId() {
    synchronized (lock) {
      return playback.titleId();
    }
  }

  /** Whether {@code userId} may see this private room without an invite. */
  public boolean mayDescribeTo(String userId, String offeredInviteToken) {
    synchronized (lock) {
      return settings.getVisibility() == Visibility.PUBLIC
          || members.containsKey(userId)
          || isHost(userId)
          || cohosts.contains(userId)
          || mayEnterWith(offeredInviteToken);
    }
  }

  /** Under the lock. */
  private Role roleOf(String userId) {
    if (isHost(userId)) {
      return Role.HOST;
    }
    return cohosts.contains(userId) ? Role.COHOST : Role.VIEWER;
  }

  /** The open streams of a member; tests look at their backlog. */
  List<Subscriber> connectionsOf(String userId) {
    synchronized (lock) {
      Member member = members.get(userId);
      return member == null ? List.of() : List.copyOf(member.connections);
    }
  }

  /** The invite token of a private room. */
  public Optional<String> inviteToken() {
    synchronized (lock) {
      return inviteToken;
    }
  }

  private RoomInfo infoLocked() {
    return describe(
        new RoomRecord(
            id,
            name,
            settings,
            hostUserId,
            hostDisplayName,
            inviteToken,
            Set.of(),
            Set.of(),
            playback,
            closed,
            createdAtMs),
        memberCountLocked());
  }

  /** How a room is described to others (no secrets: the invite token is left out). */
  static RoomInfo describe(RoomRecord room, long memberCount) {
    return RoomInfo.newBuilder()
        .setRoomId(room.roomId().toString())
        .setName(room.name())
        .setTitleId(room.playback().titleId())
        .setHostUserId(room.hostUserId())
        .setHostDisplayName(room.hostDisplayName())
        .setSettings(room.settings())
        .setMemberCount(memberCount)
        .setClosed(room.closed())
        .setCreatedAtMs(room.createdAtMs())
        .build();
  }

  private long memberCountLocked() {
    long count = members.size();
    for (Subscriber relay : relays) {
      count += relay.audienceCount;
    }
    return count;
  }

  private boolean detailedPresence() {
    return members.size() <= config.presenceDetailLimit();
  }

  private io.watchparty.proto.v1.Member toProto(Member m) {
    return io.watchparty.proto.v1.Member.newBuilder()
        .setUserId(m.userId)
        .setDisplayName(m.displayName)
        .setRole(roleOf(m.userId))
        .setConnected(m.connected())
        .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Regional availability

  /** Members present (connected or within their grace period), relayed viewers not included. */
  public long presentMemberCount() {
    synchronized (lock) {
      return members.size();
    }
  }

  /** Host and co-hosts: how many present members could not watch {@code titleId} now. */
  public long countUnableToWatch(Identity who, String titleId) {
    Title title = titles.apply(titleId);
    rights.warm(title.titleId()); // outside the lock
    synchronized (lock) {
      requireController(who.userId());
      return rights.unableToWatch(title.titleId(), members.values());
    }
  }

  /** The availability of {@code titleId} changed through this server: re-check at once. */
  public void availabilityChanged(String titleId) {
    if (currentTitleId().equals(titleId)) {
      licenceCheck();
    }
  }

  /** Tells members whose right to watch changed; returns how many cannot watch. Under lock. */
  private long reevaluateWatchability(boolean titleChanged) {
    return rights.reevaluate(
        playback.titleId(),
        members.values(),
        titleChanged,
        (member, frame) -> member.connections.forEach(s -> deliver(s, frame)));
  }

  private void licenceCheck() {
    rights.warm(currentTitleId()); // may reload: outside the lock
    synchronized (lock) {
      if (closed) {
        return;
      }
      reevaluateWatchability(false);
      rights.schedule(playback.titleId(), this::licenceCheck);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Rules

  private boolean isHost(String userId) {
    return hostUserId.equals(userId);
  }

  private boolean mayEnterWith(String offered) {
    if (settings.getVisibility() == Visibility.PUBLIC) {
      return true;
    }
    // Constant-time comparison: the token is a secret.
    return inviteToken.isPresent()
        && offered != null
        && MessageDigest.isEqual(
            inviteToken.get().getBytes(StandardCharsets.UTF_8),
            offered.getBytes(StandardCharsets.UTF_8));
  }

  private void requireOpen() {
    if (closed) {
      throw new RefusedException(
          ErrorReason.ROOM_CLOSED, "the room has ended", Map.of("room_id", id.toString()));
    }
  }

  /**
   * Commands come from members: joined through a stream, or served by a relay that named them (a
   * kicked co-host keeps no remote control).
   */
  private void requirePresent(String userId) {
    if (members.containsKey(userId) || relayed(userId)) {
      return;
    }
    throw new RefusedException(
        ErrorReason.NOT_JOINED,
        "join the room before sending it commands",
        Map.of("room_id", id.toString()));
  }

  private void requireHost(String userId) {
    if (!isHost(userId)) {
      throw new RefusedException(ErrorReason.NOT_HOST, "only the host may do this");
    }
  }

  private void requireController(String userId) {
    if (!isHost(userId) && !cohosts.contains(userId)) {
      throw new RefusedException(
          ErrorReason.NOT_HOST_OR_COHOST, "only the host and co-hosts control the room");
    }
  }

  /** Host moderates anyone but themself; co-hosts moderate viewers. */
  private void requireMayModerate(String actor, String target) {
    requireController(actor);
    if (isHost(target) || actor.equals(target)) {
      throw new RefusedException(
          ErrorReason.INVALID_TARGET, "the host and yourself cannot be removed");
    }
    if (!isHost(actor) && cohosts.contains(target)) {
      throw new RefusedException(ErrorReason.NOT_HOST, "only the host may remove a co-host");
    }
  }

  private Member presentMember(String userId) {
    Member member = members.get(validUserId(userId));
    if (member == null) {
      throw new RefusedException(
          ErrorReason.MEMBER_NOT_FOUND,
          "'" + userId + "' is not in the room",
          Map.of("user_id", userId));
    }
    return member;
  }

  private static String validUserId(String userId) {
    if (!Identity.isUserId(userId)) {
      throw new RefusedException(ErrorReason.MALFORMED_ID, "user id '" + userId + "' is malformed");
    }
    return userId;
  }

  // ---------------------------------------------------------------------------------------------
  // Chat

  /** The room's chat. */
  public RoomChat chat() {
    return chat;
  }

  /**
   * Runs a step of the room's chat under the room lock, which guards the chat's own state too: chat
   * events take their place in the room's one sequence, and a snapshot shows the chat as of its
   * sequence. The step must not block.
   */
  public <T> T withChatLock(Function<RoomChat.Access, T> step) {
    synchronized (lock) {
      return step.apply(chatAccess);
    }
  }

  /** What the chat may see and do; only ever handed out under the lock. */
  private final RoomChat.Access chatAccess =
      new RoomChat.Access() {
        @Override
        public void requireOpen() {
          Room.this.requireOpen();
        }

        @Override
        public boolean closed() {
          return closed;
        }

        @Override
        public RoomChat.Presence presence(String userId) {
          if (banned.contains(userId)) {
            return RoomChat.Presence.BANNED;
          }
          if (members.containsKey(userId)) {
            return RoomChat.Presence.PRESENT;
          }
          for (Subscriber relay : relays) {
            if (relay.identity().userId().equals(userId) || relay.audience.containsKey(userId)) {
              return RoomChat.Presence.PRESENT;
            }
          }
          return RoomChat.Presence.ABSENT;
        }

        @Override
        public Role role(String userId) {
          return roleOf(userId);
        }

        @Override
        public RoomSettings settings() {
          return settings;
        }

        @Override
        public void setSlowMode(long slowModeMs) {
          settings = settings.toBuilder().setSlowModeMs(slowModeMs).build();
        }

        @Override
        public long publish(ServerMessage.Builder event) {
          return Room.this.publish(event);
        }
      };

  // ---------------------------------------------------------------------------------------------
  // Persistence

  /**
   * Gives a write this room's next write timestamp, so Cassandra applies the room's changes in the
   * order they happened even though they run concurrently, after the lock.
   */
  private BoundStatement timestamped(BoundStatement write) {
    lastWriteMicros = Math.max(lastWriteMicros + 1, clock.millis() * 1000);
    return write.setQueryTimestamp(lastWriteMicros);
  }

  private void runAsync(List<BoundStatement> writes) {
    if (writes.isEmpty()) {
      return;
    }
    store
        .apply(writes)
        .whenComplete(
            (v, failure) -> {
              if (failure != null) {
                RoomRegistry.log.warn(
                    "Room {}: could not persist a change ({}); playback goes on",
                    id,
                    failure.toString());
              }
            });
  }
}
