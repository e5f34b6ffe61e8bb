package io.watchparty.server.room;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.watchparty.proto.v1.BufferingReport;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.Notice;
import io.watchparty.proto.v1.NoticeCode;
import io.watchparty.proto.v1.RelayAudience;
import io.watchparty.proto.v1.RelayedViewer;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.ViewerGrant;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.catalog.TitleAvailability;
import io.watchparty.server.refusal.RefusedException;
import java.time.InstantSource;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One watch party. A facade over the parts that each own one concern, all guarded by the one room
 * lock: {@link Roles} (who may do what), {@link Presence} (who is here), {@link PlaybackControl}
 * (the authoritative playback state and the buffering wait), {@link EventStream} (the numbered
 * events and snapshots), {@link Admission} (who may come in), {@link RoomLicence} (who may watch
 * the title), the {@link RoomChat}, and behind them {@link RoomWriter} (Cassandra follows the room)
 * and {@link RoomTimers}. Admission and the licence see the room through a narrow {@link
 * RoomContext}.
 *
 * <p>Every change happens under the lock: it is applied, numbered with the next room sequence,
 * serialized once and offered to every stream's {@link StreamSink} before the lock is released, so
 * all receivers see the same events in the same order. Nothing under the lock blocks: sinks only
 * enqueue, availability is read before the lock is taken, and writes are recorded under it but sent
 * after it. The lock is a {@link ReentrantLock} because virtual threads take it: on JDK 21-23 a
 * {@code synchronized} block would pin their carrier thread.
 */
public final class Room {
  /**
   * The most viewers one {@code RelayAudience} may name: added and removed together, and as many
   * described (room.proto).
   */
  public static final int MAX_AUDIENCE_CHANGE = 1_000;

  private final UUID id;
  private final RoomConfig config;
  private final InstantSource clock;

  /**
   * Catalog lookup that refuses malformed and unknown ids. Like {@link #availability}, cached: the
   * future is complete when returned unless the title is cold, and a cold one completes on an
   * executor (never a storage driver thread). Never waited for, and never called under the lock.
   */
  private final Function<String, CompletableFuture<Title>> titles;

  /** A title's licence windows (see {@link #titles}). */
  private final Function<String, CompletableFuture<TitleAvailability>> availability;

  /**
   * The last command to arrive, done once it has been applied (not stored). A command waits for the
   * one before it: while a title switch reads a cold title from storage, the play that followed it
   * must not overtake it. Nearly always already done, and the command then runs at once.
   */
  private final AtomicReference<CompletableFuture<Void>> lastCommand =
      new AtomicReference<>(CompletableFuture.completedFuture(null));

  private final InviteTokens inviteTokens;
  private final ReentrantLock lock = new ReentrantLock();
  private final RoomTimers timers;
  private final RoomWriter writer;
  private final PartyMembership party;

  // The parts: each one's whole state is guarded by `lock`, which lives here, so their own fields
  // say so in their Javadoc rather than in an annotation.
  @GuardedBy("lock")
  private final RoomState state;

  @GuardedBy("lock")
  private final Roles roles;

  @GuardedBy("lock")
  private final EventStream events;

  @GuardedBy("lock")
  private final Presence presence;

  @GuardedBy("lock")
  private final PlaybackControl playback;

  @GuardedBy("lock")
  private final RoleCommands roleCommands;

  @GuardedBy("lock")
  private final RoomLicence licence;

  /**
   * Guarded by the lock too, but for {@link Admission#admitting}, which takes it in its attempts.
   */
  private final Admission admission;

  @GuardedBy("lock")
  private final RoomChat.Access chatAccess;

  private final RoomChat chat;

  /** Consecutive registry sweeps that found the room empty (see {@link #retireIfIdle}). */
  @GuardedBy("lock")
  private int idleSweeps;

  /** Dropped from the registry: a join must find the room again (a fresh instance). */
  @GuardedBy("lock")
  private boolean retired;

  /** The instance that took the room from this one, once storage said so (see {@link #letGo}). */
  @GuardedBy("lock")
  private RoomOwner movedTo;

  /** Everything a room is built from besides its record. */
  record Services(
      RoomConfig config,
      InstantSource clock,
      RoomTimers timers,
      RoomWriter writer,
      Function<String, CompletableFuture<Title>> titles,
      Function<String, CompletableFuture<TitleAvailability>> availability,
      InviteTokens inviteTokens,
      BiFunction<UUID, String, CompletionStage<Boolean>> storedPartyMember,
      FanOutTimes fanOutTimes,
      Executor executor) {}

  Room(
      RoomRecord record,
      long firstSequence,
      TitleAvailability titleAvailability,
      Services services,
      Function<Room, RoomChat> chat) {
    this.id = record.roomId();
    this.config = services.config();
    this.clock = services.clock();
    this.titles = services.titles();
    this.availability = services.availability();
    this.inviteTokens = services.inviteTokens();
    this.timers = services.timers();
    this.writer = services.writer();
    this.party = new PartyMembership(id, writer, clock, services.storedPartyMember());
    this.state = new RoomState(record);
    this.roles = new Roles(record);
    this.events =
        new EventStream(
            new EventLog(config.eventLogCapacity(), firstSequence),
            this::snapshot,
            this::personal,
            services.fanOutTimes());
    this.presence =
        new Presence(
            id, config, clock, timers, events, roles, this::presenceDue, this::relayedGraceExpired);
    this.playback =
        new PlaybackControl(
            record.playback(), config, clock, timers, events, writer, this::bufferingTimedOut);
    this.roleCommands =
        new RoleCommands(state, roles, presence, playback, events, writer, party, timers);
    RoomContext context = new Context();
    this.licence = new RoomLicence(context, titleAvailability, clock, this::licenceCheck);
    this.admission = new Admission(context, roles, party, licence, services.executor());
    this.chatAccess = new ChatAccess(state, roles, presence, events, writer, timers);
    this.chat = chat.apply(this);
  }

  public UUID id() {
    return id;
  }

  private void presenceDue() {
    enter();
    try {
      presence.sendCount(state.closed());
    } finally {
      lock.unlock();
    }
  }

  private void bufferingTimedOut() {
    enter();
    try {
      if (!state.closed()) {
        playback.waitTimedOut();
      }
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Joining and leaving

  /**
   * Admits a stream to the room and queues its first frames: a snapshot, or on resume the missed
   * events. Refuses (and changes nothing) when the caller may not join.
   */
  public CompletionStage<Subscriber> join(Identity who, StreamSink sink, Join request) {
    return readAvailability()
        .thenCompose(
            reading ->
                admission.admitting(
                    who, storedMember -> joinLocked(who, sink, request, reading, storedMember)));
  }

  private Subscriber joinLocked(
      Identity who,
      StreamSink sink,
      Join request,
      TitleAvailability reading,
      boolean storedMember) {
    enter();
    try {
      if (retired) {
        throw new Retired();
      }
      state.requireOpen();
      licence.absorb(reading);
      Subscriber subscriber = new Subscriber(this, who, sink, request.getAsRelay());
      if (request.getAsRelay()) {
        if (!who.relay()) {
          throw new RefusedException(
              ErrorReason.NOT_A_RELAY, "only relay accounts may join as a relay");
        }
        presence.addRelay(subscriber, request.getLastSequence());
        return subscriber;
      }
      if (who.relay()) {
        throw new RefusedException(
            ErrorReason.NOT_A_VIEWER, "a relay account joins a room only as a relay (as_relay)");
      }
      admission.requireAdmissible(who, request.getInviteToken(), storedMember);
      licence.watch();
      Presence.Arrival arrival = presence.addConnection(who, subscriber, request.getLastSequence());
      Optional<Member> member = presence.member(who.userId());
      if (member.isPresent()) {
        licence.arrived(member.get(), true);
      }
      if (arrival.replayed()) {
        licence.resumed(subscriber, who.region());
      }
      if (arrival.newcomer()) {
        party.joined(who.userId());
      }
      if (arrival.reconnected() && roles.isHost(who.userId())) {
        notice(NoticeCode.HOST_RECONNECTED, who.displayName() + " is back");
      }
      return subscriber;
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  /**
   * Whether {@code who} may watch this room, for a relay about to serve them: the same rules as a
   * member's join (subscription, region, bans, invite). Changes nothing.
   */
  public CompletionStage<ViewerGrant> authorizeViewer(Identity who, String inviteToken) {
    return readAvailability().thenCompose(reading -> authorizeViewer(who, inviteToken, reading));
  }

  private CompletionStage<ViewerGrant> authorizeViewer(
      Identity who, String inviteToken, TitleAvailability reading) {
    return admission.admitting(
        who,
        storedMember -> {
          enter();
          try {
            state.requireOpen();
            licence.absorb(reading);
            admission.requireAdmissible(who, inviteToken, storedMember);
            return ViewerGrant.newBuilder()
                .setRoom(infoLocked(licence.canWatch(who.region())))
                .setRole(roles.roleOf(who.userId()))
                .build();
          } finally {
            lock.unlock();
          }
        });
  }

  /** The stream ended without a Leave: the member keeps their place for the grace period. */
  public void disconnected(Subscriber subscriber) {
    enter();
    try {
      Optional<Member> dropped = presence.dropConnection(subscriber, this::graceExpired);
      if (dropped.isPresent() && roles.isHost(dropped.get().userId) && !state.closed()) {
        notice(NoticeCode.HOST_DISCONNECTED, dropped.get().displayName + " lost their connection");
      }
    } finally {
      lock.unlock();
    }
  }

  /** The member leaves for good, from every device. */
  public void leave(Subscriber subscriber) {
    enter();
    try {
      if (subscriber.isRelay()) {
        presence.removeRelay(subscriber);
        return;
      }
      Optional<Member> member = presence.member(subscriber.identity().userId());
      if (member.isPresent()) {
        member.get().connections.forEach(s -> s.sink().finish());
        roleCommands.removeMember(member.get(), MemberLeft.Reason.LEFT);
      }
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  private void relayedGraceExpired(String userId) {
    enter();
    try {
      if (presence.relayedGraceExpired(userId)) {
        roleCommands.gone(userId);
      }
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  /**
   * {@code who} leaves the party for good without a stream of their own (a browser user's "leave"):
   * their streams end, relays stop serving them (MemberLeft, LEFT), and it is no longer their
   * party. Completes once stored; a no-op for someone who is not in it.
   */
  public CompletionStage<Void> leaveParty(Identity who) {
    String userId = who.userId();
    enter();
    try {
      Optional<Member> member = presence.member(userId);
      boolean relayed = presence.removeFromRelays(userId);
      if (member.isPresent()) {
        member.get().connections.forEach(s -> s.sink().finish());
        roleCommands.removeMember(member.get(), MemberLeft.Reason.LEFT);
      } else {
        party.left(userId);
        if (relayed) {
          presence.announceLeft(userId, MemberLeft.Reason.LEFT);
          roleCommands.gone(userId);
        }
      }
      return writer.whenStored();
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  private void graceExpired(Member member) {
    enter();
    try {
      if (presence.member(member.userId).orElse(null) == member && !member.connected()) {
        roleCommands.removeMember(member, MemberLeft.Reason.TIMED_OUT);
      }
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /**
   * Applies a command from {@code who}. As {@code room.proto} states for every kind of command, it
   * is applied and announced at once, and Cassandra follows (retried until stored), so the room
   * goes on while Cassandra is unreachable; it is acknowledged once stored, except playback, which
   * is acknowledged at once. Chat moderation is the room's {@link RoomChat}'s.
   */
  public CompletionStage<CommandAccepted> command(Identity who, Command command) {
    if (command.hasChat()) {
      // Chat moderation may read Cassandra first: the chat takes the lock itself.
      return chat.moderate(who, command.getChat());
    }
    CompletableFuture<Optional<NewTitle>> newTitle =
        command.getPlayback().hasChangeTitle()
            ? lookUp(command.getPlayback().getChangeTitle().getTitleId()).thenApply(Optional::of)
            : CompletableFuture.completedFuture(Optional.empty());
    CompletableFuture<Void> applied = new CompletableFuture<>();
    CompletableFuture<CompletionStage<CommandAccepted>> applying =
        lastCommand
            .getAndSet(applied)
            .thenCombine(newTitle, (previousApplied, looked) -> apply(who, command, looked));
    // Applied or refused (the lookup's failure included): the next command may go.
    applying.whenComplete((stored, failure) -> applied.complete(null));
    return applying.thenCompose(stored -> stored);
  }

  /** A title and its licence windows, read before the lock. */
  private record NewTitle(Title title, TitleAvailability rights) {}

  /** Looks a title and its licence windows up (cached; see {@link #titles}). */
  private CompletableFuture<NewTitle> lookUp(String titleId) {
    return titles
        .apply(titleId)
        .thenCompose(
            title -> availability.apply(title.titleId()).thenApply(r -> new NewTitle(title, r)));
  }

  private CompletionStage<CommandAccepted> apply(
      Identity who, Command command, Optional<NewTitle> newTitle) {
    enter();
    try {
      requireOwned();
      state.requireOpen();
      presence.requirePresent(who.userId());
      return switch (command.getKindCase()) {
        // Playback is acknowledged at once: sync never waits for Cassandra.
        case PLAYBACK -> CompletableFuture.completedStage(playbackCommand(who, command, newTitle));
        case ROLE -> {
          CommandAccepted accepted =
              CommandAccepted.newBuilder()
                  .setSequence(roleCommands.apply(who.userId(), command.getRole()))
                  .build();
          yield writer.whenStored().thenApply(stored -> accepted);
        }
        case CHAT -> throw new IllegalStateException("chat commands are handled above");
        case KIND_NOT_SET ->
            throw new RefusedException(ErrorReason.FIELD_MISSING, "the command is empty");
      };
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  @GuardedBy("lock")
  private CommandAccepted playbackCommand(
      Identity who, Command command, Optional<NewTitle> newTitle) {
    roles.requireController(who.userId());
    Optional<Long> sequence =
        playback.command(who.userId(), command.getPlayback(), newTitle.map(NewTitle::title));
    var accepted = CommandAccepted.newBuilder().setEffectiveAtMs(playback.state().effectiveAtMs());
    sequence.ifPresent(accepted::setSequence);
    if (sequence.isPresent() && newTitle.isPresent()) {
      accepted.setMembersUnableToWatch(licence.switched(newTitle.get().rights()));
    }
    return accepted.build();
  }

  /** Host only: a new invite token; the previous link stops working at once. */
  public CompletionStage<String> rotateInvite(Identity who) {
    enter();
    try {
      requireOwned();
      state.requireOpen();
      roles.requireHost(who.userId());
      if (state.settings().getVisibility() != Visibility.PRIVATE) {
        throw new RefusedException(
            ErrorReason.INVALID_SETTING, "public rooms have no invite token to rotate");
      }
      String token = inviteTokens.next();
      roles.setInviteToken(token);
      writer.add(at -> new RoomChange.InviteSet(token, at));
      return writer.whenStored().thenApply(stored -> token);
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Buffering and relays

  /** A member's player is buffering (or ready again). */
  public void buffering(Subscriber subscriber, BufferingReport report) {
    // A relay reports for one of its viewers.
    String userId =
        subscriber.isRelay()
            ? Identity.requireUserId(report.getViewerUserId())
            : subscriber.identity().userId();
    enter();
    try {
      // Under the lock: a kick or ban changes the relay's audience under it too.
      if (subscriber.isRelay() && !subscriber.audience.containsKey(userId)) {
        throw new RefusedException(
            ErrorReason.INVALID_TARGET,
            "this relay does not serve '" + userId + "'",
            Map.of("user_id", userId));
      }
      if (!state.closed()) {
        playback.buffering(userId, report.getBuffering(), state.settings(), presence.detailed());
      }
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  /**
   * A relay reports the viewers it started and stopped serving (each authorized before with {@link
   * #authorizeViewer}) and how many tabs it serves in all (checked, not counted: the room counts
   * people, each named viewer once).
   */
  public void relayAudience(Subscriber relay, RelayAudience report) {
    long viewerCount = report.getViewerCount();
    List<String> added = report.getAddedUserIdsList();
    List<String> removed = report.getRemovedUserIdsList();
    if (!relay.isRelay()) {
      throw new RefusedException(ErrorReason.NOT_A_RELAY, "only relay streams report an audience");
    }
    if (viewerCount < 0) {
      throw new RefusedException(ErrorReason.INVALID_TARGET, "viewer count must not be negative");
    }
    // Each named viewer is checked under the room lock and may cost a membership write: one
    // message naming tens of thousands stalled the room and flooded Cassandra. A relay splits a
    // larger change (a whole audience after a reconnect) into several messages.
    int named = Math.max(added.size() + removed.size(), report.getAddedViewersCount());
    if (named > MAX_AUDIENCE_CHANGE) {
      throw new RefusedException(
          ErrorReason.AUDIENCE_TOO_LARGE,
          "a relay audience message may name at most "
              + MAX_AUDIENCE_CHANGE
              + " viewers, this one names "
              + named,
          Map.of("max_viewers", Integer.toString(MAX_AUDIENCE_CHANGE)));
    }
    added.forEach(Identity::requireUserId);
    removed.forEach(Identity::requireUserId);
    Map<String, RelayedViewer> details = new HashMap<>();
    report.getAddedViewersList().forEach(v -> details.put(v.getUserId(), v));
    enter();
    try {
      for (String userId : added) {
        if (roles.isBanned(userId)) {
          throw new RefusedException(
              ErrorReason.BANNED_FROM_ROOM,
              "'" + userId + "' is banned from this room",
              Map.of("user_id", userId, "room_id", id.toString()));
        }
      }
      for (String userId : presence.relayAudience(relay, added, removed, details)) {
        party.joined(userId);
        Optional<Watcher> viewer = presence.relayedOnly(userId);
        if (viewer.isPresent()) {
          licence.arrived(viewer.get(), false);
        }
      }
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  /** Queues the answer to a stream's own request (see {@link StreamSink#reply}). */
  public void reply(Subscriber subscriber, byte[] frame) {
    subscriber.sink().reply(frame);
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * What differs between receivers' snapshots: their role and their right to watch. Called back by
   * {@link EventStream} under the lock, which Error Prone cannot see through the method reference.
   */
  @SuppressWarnings("GuardedBy")
  private EventStream.Personal personal(Subscriber subscriber) {
    if (subscriber.isRelay()) {
      return new EventStream.Personal(Role.VIEWER, true);
    }
    return new EventStream.Personal(
        roles.roleOf(subscriber.identity().userId()),
        licence.canWatch(subscriber.identity().region()));
  }

  /** A snapshot as one variant of receivers sees it; called back by {@link EventStream}, locked. */
  @SuppressWarnings("GuardedBy")
  private Snapshot.Builder snapshot(EventStream.Personal variant) {
    Snapshot.Builder snapshot =
        Snapshot.newBuilder()
            .setRoom(infoLocked(variant.canWatch()))
            .setPlayback(playback.state().toProto())
            .setMemberCount(presence.count())
            .setYourRole(variant.role())
            .setServerTimeMs(clock.millis())
            .setCommandLeadMs(config.commandLead().toMillis())
            .setCanWatch(variant.canWatch())
            .setSlowModeMs(state.settings().getSlowModeMs())
            .setSyncPolicy(config.syncPolicy().toProto());
    chat.addRecent(snapshot);
    if (presence.detailed()) {
      snapshot.addAllMembers(presence.describeAll());
    }
    return snapshot;
  }

  /** How many snapshot frames this room built; overflowing receivers share one per sequence. */
  long snapshotsBuilt() {
    enter();
    try {
      return events.snapshotsBuilt();
    } finally {
      lock.unlock();
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
   * Called by the registry's periodic sweep: a state.closed() room, or one nobody has been in for
   * two sweeps, stops all its timers and is dropped from memory once Cassandra has all of it (the
   * next access loads it again). Returns whether it retired.
   */
  boolean retireIfIdle() {
    enter();
    try {
      boolean empty = presence.isEmpty();
      idleSweeps = empty ? idleSweeps + 1 : 0;
      if ((!state.closed() && idleSweeps < 2) || !empty || !writer.idle() || !chat.idle()) {
        return false;
      }
      retired = true;
      licence.cancel();
      timers.stopAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Another instance owns the room now (storage refused a write of ours for its newer epoch): every
   * stream is refused {@code ROOM_MOVED}, naming the owner, and the room stops; the registry drops
   * it. Clients reconnect to the owner.
   */
  void letGo(RoomOwner owner) {
    enter();
    try {
      retired = true;
      movedTo = owner;
      presence.endAll(sink -> sink.refuse(owner.movedHere(id)));
      licence.cancel();
      timers.stopAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses a change to a room another instance took (the client goes there), or one this instance
   * is handing over.
   */
  @GuardedBy("lock")
  private void requireOwned() {
    if (movedTo != null) {
      throw movedTo.movedHere(id);
    }
    writer.requireOwned();
  }

  /**
   * The first step of handing the room to another instance: it refuses every change from now on,
   * while what it recorded is stored ({@link #storageSettled}).
   */
  void stopTakingChanges() {
    writer.stopTaking();
  }

  /** Whether every change and chat message of the room is stored (or given up). */
  boolean storageSettled() {
    enter();
    try {
      return writer.idle() && chat.idle();
    } finally {
      lock.unlock();
    }
  }

  /** The epoch of this instance's ownership of the room. */
  long epoch() {
    return writer.epoch();
  }

  /** Whether every change this room recorded is stored. */
  boolean writesSettled() {
    return writer.idle();
  }

  /** Whether this thread holds the room lock (tests check nothing blocking runs under it). */
  boolean heldByCurrentThread() {
    return lock.isHeldByCurrentThread();
  }

  /** Timers this room has pending (none once it retired). */
  int pendingTimers() {
    return timers.pending();
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  /** The room as described to a user of {@code region}: says whether they can watch it. */
  public CompletionStage<RoomInfo> info(String region) {
    return readAvailability()
        .thenApply(
            reading -> {
              enter();
              try {
                licence.absorb(reading);
                return infoLocked(licence.canWatch(region));
              } finally {
                lock.unlock();
              }
            });
  }

  /** Whether {@code userId} may see this private room without an invite. */
  public boolean mayDescribeTo(String userId, String offeredInviteToken) {
    enter();
    try {
      return admission.mayDescribeTo(userId, offeredInviteToken);
    } finally {
      lock.unlock();
    }
  }

  /** The open streams of a member; tests look at their backlog. */
  List<Subscriber> connectionsOf(String userId) {
    enter();
    try {
      return presence.member(userId).map(m -> List.copyOf(m.connections)).orElse(List.of());
    } finally {
      lock.unlock();
    }
  }

  /** The invite token of a private room. */
  public Optional<String> inviteToken() {
    enter();
    try {
      return roles.inviteToken();
    } finally {
      lock.unlock();
    }
  }

  @GuardedBy("lock")
  private RoomInfo infoLocked(boolean canWatch) {
    return state.describe(roles, playback.state(), presence.count(), canWatch);
  }

  /** How a room out of memory is described from its stored record. */
  static RoomInfo describe(RoomRecord record, long memberCount, boolean canWatch) {
    return new RoomState(record)
        .describe(new Roles(record), record.playback(), memberCount, canWatch);
  }

  // ---------------------------------------------------------------------------------------------
  // Regional availability

  /** People present: members and relayed viewers (connected or within their grace period). */
  public long presentMemberCount() {
    enter();
    try {
      return presence.listed();
    } finally {
      lock.unlock();
    }
  }

  /** Host and co-hosts: how many present members could not watch {@code titleId} now. */
  public CompletionStage<Long> countUnableToWatch(Identity who, String titleId) {
    return lookUp(titleId)
        .thenApply(
            looked -> {
              enter();
              try {
                roles.requireController(who.userId());
                return licence.unableToWatch(looked.rights());
              } finally {
                lock.unlock();
              }
            });
  }

  /** The availability of {@code titleId} changed through this server: re-check at once. */
  public void availabilityChanged(String titleId) {
    if (currentTitleId().equals(titleId)) {
      licenceCheck();
    }
  }

  /** On the licence timer, or after a change: re-reads the title's windows and tells members. */
  private void licenceCheck() {
    readAvailability()
        .whenComplete(
            (fresh, failure) -> {
              enter();
              try {
                if (!state.closed()) {
                  // Unread (storage failing, the title cold): time still passes, and the last
                  // reading decides; the next check tries again.
                  licence.recheck(failure == null ? fresh : licence.current());
                  licence.schedule();
                }
              } finally {
                lock.unlock();
              }
            });
  }

  /** The current title's availability, read before the lock is taken (it may reach Cassandra). */
  private CompletableFuture<TitleAvailability> readAvailability() {
    return availability.apply(currentTitleId());
  }

  private String currentTitleId() {
    enter();
    try {
      return playback.titleId();
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Rules

  @GuardedBy("lock")
  private void notice(NoticeCode code, String text) {
    events.publish(
        ServerMessage.newBuilder().setNotice(Notice.newBuilder().setCode(code).setText(text)));
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
    enter();
    try {
      // Not refused once the room moved: what was in flight still settles (requireOpen refuses
      // what is new).
      return step.apply(chatAccess);
    } finally {
      lock.unlock();
      writer.flush();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // What admission and the licence see

  /** The room as {@link Admission} and {@link RoomLicence} see it; they call it under the lock. */
  private final class Context implements RoomContext {
    @Override
    public UUID roomId() {
      return id;
    }

    @Override
    @GuardedBy("Room.this.lock")
    public RoomSettings settings() {
      return state.settings();
    }

    @Override
    @GuardedBy("Room.this.lock")
    public String titleId() {
      return playback.titleId();
    }

    @Override
    @GuardedBy("Room.this.lock")
    public boolean isMember(String userId) {
      return presence.member(userId).isPresent();
    }

    @Override
    @GuardedBy("Room.this.lock")
    public Collection<Watcher> watchers() {
      return presence.watchers();
    }

    @Override
    @GuardedBy("Room.this.lock")
    public void deliver(Subscriber stream, byte[] frame) {
      events.deliver(stream, frame);
    }

    @Override
    @GuardedBy("Room.this.lock")
    public void tellRelays(String userId, byte[] frame) {
      presence.tellRelays(userId, frame);
    }

    @Override
    public RoomTimers.Timer schedule(Runnable task, long delayMs) {
      return timers.schedule(task, delayMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The lock

  /**
   * Takes the lock for one step. Every step is {@code enter(); try { ... } finally { lock.unlock();
   * }} in the method that needs the lock, which Error Prone reads to check every access to the
   * parts; a step passed as a lambda would hide the lock from it.
   */
  @SuppressWarnings("GuardedBy") // taken on the line before
  private void enter() {
    lock.lock();
    events.snapshotsChanged(); // a snapshot is shared only within one step
  }
}
