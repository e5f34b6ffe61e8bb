package io.watchparty.bridge.relay;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.watchparty.proto.v1.BufferingReport;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Leave;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.RelayAudience;
import io.watchparty.proto.v1.RelayedViewer;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Watchability;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One room's upstream relay stream and the browsers of this bridge that watch the room: one gRPC
 * stream however many browsers there are (DESIGN section 4).
 *
 * <p>The stream joins {@code as_relay}, so the server numbers and sends it every room event once.
 * Each event becomes one JSON frame that every browser's queue shares; the view of the room is kept
 * up to date so that a newcomer gets a snapshot at once. The relay names its browsers' users to the
 * server ({@code RelayAudience}), so they count as present and may chat. When the stream drops, the
 * relay reconnects with backoff and jitter and resumes from the last sequence it saw; when the
 * server answers with a snapshot instead, every browser gets that snapshot. In a fleet of servers
 * the stream goes to the instance that owns the room ({@link RoomOwners}): refused or ended with
 * {@code ROOM_MOVED}, it reconnects at once to the owner the refusal names and resumes there (a new
 * owner's sequence numbers are past the old one's, so it answers with a snapshot). The stream is
 * closed a short linger after the last browser leaves.
 *
 * <p>{@link #lock} guards all mutable state; under it the relay only queues (never blocks on a
 * browser, never calls the server synchronously).
 */
final class RoomRelay {
  /** The most viewers one RelayAudience names (the server's limit, room.proto). */
  static final int AUDIENCE_CHUNK = 1_000;

  /**
   * Moves followed at once in a row without a join; more back off as any reconnect does (two
   * instances that each name the other would otherwise be asked in a tight loop).
   */
  static final int MAX_MOVES = 3;

  private static final Logger log = LoggerFactory.getLogger(RoomRelay.class);
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer().omittingInsignificantWhitespace().alwaysPrintFieldsWithNoPresence();

  /**
   * An event made for one browser's user (the relay itself joins as a viewer who may watch, so its
   * snapshot says nothing of a browser user's role or region): the event, the title it is about,
   * and whether the user may watch it.
   */
  record Personal(Outgoing.Event event, String titleId, boolean canWatch) {}

  private final String roomId;
  private final RelayHub hub;
  private final ReentrantLock lock = new ReentrantLock();

  @GuardedBy("lock")
  private final Set<ViewerStream> viewers = new LinkedHashSet<>();

  @GuardedBy("lock")
  private final Map<String, Integer> audience = new HashMap<>();

  /** Who each user in {@link #audience} is, as their grant said (the server lists them). */
  @GuardedBy("lock")
  private final Map<String, Viewer> named = new HashMap<>();

  private final EventBuffer buffer;

  @GuardedBy("lock")
  private RoomView view;

  @GuardedBy("lock")
  private ClientCallStreamObserver<ClientMessage> upstream;

  @GuardedBy("lock")
  private boolean joined;

  @GuardedBy("lock")
  private int failedAttempts;

  /** Where the current upstream stream went: the room's owner, as far as the bridge knows. */
  @GuardedBy("lock")
  private RoomOwners.Route route;

  /** Moves followed since the relay last joined; past {@link #MAX_MOVES} it backs off. */
  @GuardedBy("lock")
  private int movesSinceJoin;

  @GuardedBy("lock")
  private ScheduledFuture<?> linger;

  @GuardedBy("lock")
  private ScheduledFuture<?> reconnect;

  @GuardedBy("lock")
  private boolean closed;

  // Personal snapshots of the current sequence, by role and watchability: built once each.
  @GuardedBy("lock")
  private long personalSequence = -1;

  @GuardedBy("lock")
  private final Map<String, String> personalSnapshots = new HashMap<>();

  RoomRelay(String roomId, RelayHub hub) {
    this.roomId = roomId;
    this.hub = hub;
    this.buffer = new EventBuffer(hub.settings().eventBuffer());
  }

  String roomId() {
    return roomId;
  }

  RelayMetrics metrics() {
    return hub.metrics();
  }

  /**
   * Starts serving a browser whose user the server has just authorized. Replays what it missed
   * after {@code lastEventId} when that is still buffered, else it gets a snapshot.
   *
   * @return empty when this relay has closed meanwhile (the hub then opens a new one)
   */
  Optional<ViewerStream> attach(
      Viewer viewer, Role role, String titleId, OptionalLong lastEventId) {
    lock.lock();
    try {
      if (closed) {
        return Optional.empty();
      }
      if (linger != null) {
        linger.cancel(false);
        linger = null;
      }
      ViewerStream stream =
          new ViewerStream(this, viewer, role, titleId, hub.settings().viewerQueue());
      viewers.add(stream);
      audience.merge(viewer.userId(), 1, Integer::sum);
      named.put(viewer.userId(), viewer);
      if (joined) {
        sendAudience(List.of(viewer.userId()), List.of());
      }
      if (view != null) {
        Optional<List<Outgoing.Event>> missed =
            lastEventId.isPresent()
                ? buffer.after(lastEventId.getAsLong(), view.sequence())
                : Optional.empty();
        if (missed.isPresent()) {
          missed.get().forEach(stream::offer);
          metrics().resumedExactly();
        } else {
          if (lastEventId.isPresent()) {
            metrics().resumedBySnapshot();
          }
          stream.resync();
        }
      } else if (lastEventId.isPresent()) {
        // A relay with no view yet (a room new to this bridge, say after the bridge restarted)
        // holds no events to replay: the first snapshot from upstream, which goes to every browser
        // waiting for it, answers this resume too.
        metrics().resumedBySnapshot();
      }
      if (upstream == null && reconnect == null) {
        connect();
      }
      return Optional.of(stream);
    } finally {
      lock.unlock();
    }
  }

  /** A browser stopped watching; the last one starts the linger. */
  void detach(ViewerStream stream) {
    lock.lock();
    try {
      if (!viewers.remove(stream)) {
        return;
      }
      String userId = stream.viewer().userId();
      if (audience.computeIfPresent(userId, (u, n) -> n > 1 ? n - 1 : null) == null) {
        named.remove(userId);
      }
      if (joined) {
        sendAudience(List.of(), List.of(userId));
      }
      if (viewers.isEmpty() && !closed) {
        linger =
            hub.timers()
                .schedule(
                    this::lingerOver, hub.settings().linger().toMillis(), TimeUnit.MILLISECONDS);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Ends every stream of {@code userId} in this room, e.g. after they left from another tab. */
  void endUser(String userId, EndReason reason) {
    lock.lock();
    try {
      for (ViewerStream stream : viewers) {
        if (stream.viewer().userId().equals(userId)) {
          stream.end(reason);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Ends every stream and the upstream; for the bridge's shutdown. */
  void shutdown() {
    lock.lock();
    try {
      viewers.forEach(s -> s.end(EndReason.SHUTTING_DOWN));
      closeLocked();
    } finally {
      lock.unlock();
    }
  }

  int viewerCount() {
    lock.lock();
    try {
      return viewers.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * A tick of the keep-alive clock for every browser of the room ({@link ViewerStream#heartbeat}).
   */
  void heartbeat() {
    lock.lock();
    try {
      viewers.forEach(ViewerStream::heartbeat);
    } finally {
      lock.unlock();
    }
  }

  int deepestQueue() {
    lock.lock();
    try {
      return viewers.stream().mapToInt(ViewerStream::depth).max().orElse(0);
    } finally {
      lock.unlock();
    }
  }

  boolean upstreamOpen() {
    lock.lock();
    try {
      return upstream != null && joined;
    } finally {
      lock.unlock();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Upstream

  @GuardedBy("lock")
  private void connect() {
    reconnect = null;
    var observer = new UpstreamObserver();
    route = hub.owners().route(roomId);
    hub.roomStub(route.channel()).connect(observer);
    // The call has started: beforeStart handed us its request side.
    upstream = observer.requests;
    ClientMessage.Builder join =
        ClientMessage.newBuilder()
            .setRequestId("join")
            .setJoin(
                Join.newBuilder()
                    .setRoomId(roomId)
                    .setAsRelay(true)
                    .setLastSequence(view == null ? 0 : view.sequence()));
    upstream.onNext(join.build());
    metrics().upstreamOpened();
  }

  private void lingerOver() {
    lock.lock();
    try {
      if (viewers.isEmpty() && !closed) {
        closeLocked();
      }
    } finally {
      lock.unlock();
    }
  }

  @GuardedBy("lock")
  private void closeLocked() {
    closed = true;
    if (reconnect != null) {
      reconnect.cancel(false);
      reconnect = null;
    }
    if (linger != null) {
      linger.cancel(false);
      linger = null;
    }
    if (upstream != null) {
      // A relay that leaves: the server drops its audience at once rather than after a grace.
      upstream.onNext(ClientMessage.newBuilder().setLeave(Leave.getDefaultInstance()).build());
      upstream.onCompleted();
      upstream = null;
    }
    joined = false;
    hub.closed(this);
  }

  @GuardedBy("lock")
  private void sendAudience(List<String> added, List<String> removed) {
    if (upstream == null) {
      return;
    }
    // The server takes at most AUDIENCE_CHUNK names per message (room.proto): a larger change goes
    // in several, removals first. A change of the count alone is one message naming nobody.
    List<String> names = new ArrayList<>(removed.size() + added.size());
    names.addAll(removed);
    names.addAll(added);
    int from = 0;
    do {
      int to = Math.min(names.size(), from + AUDIENCE_CHUNK);
      int split = Math.clamp(removed.size(), from, to);
      List<String> chunkAdded = names.subList(split, to);
      String requestId =
          added.size() == 1 && chunkAdded.size() == 1 ? "audience+" + added.get(0) : "audience";
      upstream.onNext(
          ClientMessage.newBuilder()
              .setRequestId(requestId)
              .setRelayAudience(
                  RelayAudience.newBuilder()
                      .setViewerCount(viewers.size())
                      .addAllAddedUserIds(chunkAdded)
                      .addAllAddedViewers(described(chunkAdded))
                      .addAllRemovedUserIds(names.subList(from, split)))
              .build());
      from = to;
    } while (from < names.size());
  }

  /** Who the added viewers are, once each. */
  @GuardedBy("lock")
  private List<RelayedViewer> described(List<String> added) {
    List<RelayedViewer> described = new ArrayList<>();
    for (String userId : new LinkedHashSet<>(added)) {
      Viewer viewer = named.get(userId);
      if (viewer != null) {
        described.add(
            RelayedViewer.newBuilder()
                .setUserId(viewer.userId())
                .setDisplayName(viewer.displayName())
                .setRegion(viewer.region())
                .build());
      }
    }
    return described;
  }

  /**
   * A browser's player is buffering (or ready again): the server hears it for that viewer, so a
   * small private party waits for them as for any member. False if the user has no stream here.
   */
  boolean buffering(String userId, boolean buffering) {
    lock.lock();
    try {
      if (!audience.containsKey(userId) || upstream == null || !joined) {
        return false;
      }
      upstream.onNext(
          ClientMessage.newBuilder()
              .setRequestId("buffering+" + userId)
              .setBuffering(
                  BufferingReport.newBuilder().setBuffering(buffering).setViewerUserId(userId))
              .build());
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** After a (re)join the server's relay subscriber is new and serves no one: name everyone. */
  @GuardedBy("lock")
  private void sendWholeAudience() {
    List<String> everyone = new ArrayList<>();
    audience.forEach(
        (userId, count) -> {
          for (int i = 0; i < count; i++) {
            everyone.add(userId);
          }
        });
    if (!everyone.isEmpty() || viewers.isEmpty()) {
      sendAudience(everyone, List.of());
    }
  }

  private void onMessage(ClientCallStreamObserver<ClientMessage> from, ServerMessage message) {
    lock.lock();
    try {
      if (from != upstream) {
        return; // a stream this relay has already given up on
      }
      switch (message.getKindCase()) {
        case SNAPSHOT -> onSnapshot(message.getSnapshot(), message.getSequence());
        case RESUMED -> {
          joined = true;
          failedAttempts = 0;
          movesSinceJoin = 0;
          sendWholeAudience();
        }
        case COMMAND_RESULT -> onCommandResult(message.getCommandResult());
        case WATCHABILITY -> onWatchability(message.getWatchability());
        case PONG, KIND_NOT_SET -> {
          // Pongs: the bridge's clock uses GetServerTime.
        }
        default -> onEvent(message);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * A licence window opened or closed for one of this relay's viewers: each of their browsers hears
   * it as the personal {@code watchability} event. (A notice without a user is about the relay
   * itself, which may always watch.)
   */
  @GuardedBy("lock")
  private void onWatchability(Watchability notice) {
    if (notice.getUserId().isEmpty()) {
      return;
    }
    hub.watchability().pushed(notice);
    Outgoing.Event event =
        Outgoing.Event.of(
            Outgoing.Event.NO_ID,
            "watchability",
            print(
                ServerMessage.newBuilder()
                    .setWatchability(notice.toBuilder().clearUserId())
                    .build()));
    viewers.stream()
        .filter(s -> s.viewer().userId().equals(notice.getUserId()))
        .forEach(s -> s.told(event, notice.getCanWatch()));
  }

  @GuardedBy("lock")
  private void onSnapshot(Snapshot snapshot, long sequence) {
    boolean rejoined = !joined;
    view = new RoomView(snapshot, sequence);
    buffer.clear();
    joined = true;
    failedAttempts = 0;
    movesSinceJoin = 0;
    if (rejoined) {
      sendWholeAudience();
    }
    viewers.forEach(ViewerStream::resync);
    if (view.closed()) {
      endAll(EndReason.ROOM_CLOSED);
    }
  }

  @GuardedBy("lock")
  private void onEvent(ServerMessage event) {
    if (view == null || event.getSequence() <= view.sequence()) {
      return; // already seen (a resume that overlapped)
    }
    Optional<String> newTitle = view.apply(event);
    Outgoing.Event frame = frame(event);
    buffer.add(frame);
    for (ViewerStream stream : viewers) {
      stream.offer(frame);
    }
    metrics().delivered(viewers.size());
    newTitle.ifPresent(title -> viewers.forEach(s -> s.checkTitle(title)));
    switch (event.getKindCase()) {
      case ROLE_CHANGED -> {
        String userId = event.getRoleChanged().getUserId();
        viewers.stream()
            .filter(s -> s.viewer().userId().equals(userId))
            .forEach(s -> s.role(event.getRoleChanged().getRole()));
      }
      case MEMBER_LEFT -> {
        MemberLeft left = event.getMemberLeft();
        EndReason reason =
            switch (left.getReason()) {
              case KICKED -> EndReason.KICKED;
              case BANNED -> EndReason.BANNED;
              case LEFT -> EndReason.LEFT;
              default -> null; // a timed-out app connection: the user's browsers watch on
            };
        if (reason != null) {
          endUser(left.getUserId(), reason);
        }
      }
      case ROOM_CLOSED -> endAll(EndReason.ROOM_CLOSED);
      default -> {}
    }
  }

  @GuardedBy("lock")
  private void onCommandResult(CommandResult result) {
    if (!result.hasRejected() || !result.getRequestId().startsWith("audience+")) {
      return;
    }
    // The server refused to count a viewer (banned between authorization and the audience).
    String userId = result.getRequestId().substring("audience+".length());
    log.info(
        "Room {}: the server refused to count {}: {}",
        roomId,
        userId,
        result.getRejected().getMessage());
    endUser(userId, EndReason.REFUSED);
  }

  @GuardedBy("lock")
  private void endAll(EndReason reason) {
    viewers.forEach(s -> s.end(reason));
  }

  private void onUpstreamEnd(ClientCallStreamObserver<ClientMessage> from, Throwable failure) {
    Status status = failure == null ? Status.OK : Status.fromThrowable(failure);
    Optional<String> movedTo = failure == null ? Optional.empty() : RoomOwners.movedTo(failure);
    lock.lock();
    try {
      if (from != upstream) {
        return;
      }
      upstream = null;
      joined = false;
      RoomOwners.Route tried = route;
      route = null;
      if (closed) {
        return;
      }
      if (view != null && view.closed()) {
        endAll(EndReason.ROOM_CLOSED);
        closeLocked();
        return;
      }
      if (movedTo.isPresent() && viewers.isEmpty()) {
        closeLocked();
        return;
      }
      boolean followed =
          movedTo.isPresent() && hub.owners().follow(roomId, movedTo.get()).isPresent();
      if (followed && movesSinceJoin++ < MAX_MOVES) {
        // Another instance owns the room: to it at once, and resume there.
        reconnect = hub.timers().schedule(this::reconnectNow, 0, TimeUnit.MILLISECONDS);
        return;
      }
      if (!followed && tried != null) {
        // The owner the bridge knew may be gone: the next stream asks the upstream.
        hub.owners().unreachable(roomId, tried);
      }
      switch (status.getCode()) {
        case NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED, INVALID_ARGUMENT -> {
          // The server will not relay this room (gone, closed, or this bridge is not a relay).
          log.warn("Room {}: the server refused the relay: {}", roomId, status);
          endAll(
              status.getCode() == Status.Code.FAILED_PRECONDITION
                  ? EndReason.ROOM_CLOSED
                  : EndReason.REFUSED);
          closeLocked();
          return;
        }
        default -> {}
      }
      if (viewers.isEmpty()) {
        closeLocked();
        return;
      }
      // Full jitter, so that a restarted server is not hit by every relay at the same instant.
      long delay = hub.settings().reconnectBackoff().delayMs(failedAttempts);
      failedAttempts++;
      log.info(
          "Room {}: upstream stream ended ({}); reconnecting in {} ms (attempt {})",
          roomId,
          status.getCode(),
          delay,
          failedAttempts);
      reconnect = hub.timers().schedule(this::reconnectNow, delay, TimeUnit.MILLISECONDS);
    } finally {
      lock.unlock();
    }
  }

  private void reconnectNow() {
    lock.lock();
    try {
      reconnect = null;
      if (!closed && upstream == null) {
        connect();
      }
    } finally {
      lock.unlock();
    }
  }

  // -------------------------------------------------------------------------------------------
  // What a browser's writer asks for (on its own thread, outside the lock while it calls out)

  /** The current snapshot, personal to the stream's user: their role, whether they may watch. */
  Personal snapshotFor(ViewerStream stream) {
    Snapshot snapshot;
    long sequence;
    lock.lock();
    try {
      snapshot = view.snapshot();
      sequence = view.sequence();
    } finally {
      lock.unlock();
    }
    String titleId = snapshot.getPlayback().getTitleId();
    boolean canWatch =
        hub.watchability()
            .check(stream.viewer(), titleId)
            .map(Watchability::getCanWatch)
            .orElse(stream.watchable());
    Role role = stream.role();
    String key = role.name() + "/" + canWatch;
    lock.lock();
    try {
      if (personalSequence != sequence) {
        personalSequence = sequence;
        personalSnapshots.clear();
      }
      String json =
          personalSnapshots.computeIfAbsent(
              key,
              k ->
                  print(
                      ServerMessage.newBuilder()
                          .setSequence(sequence)
                          .setSnapshot(
                              snapshot.toBuilder()
                                  .setYourRole(role)
                                  .setCanWatch(canWatch)
                                  .setRoom(snapshot.getRoom().toBuilder().setCanWatch(canWatch))
                                  .setServerTimeMs(hub.serverTimeMs()))
                          .build()));
      return new Personal(Outgoing.Event.of(sequence, "snapshot", json), titleId, canWatch);
    } finally {
      lock.unlock();
    }
  }

  /** Whether the stream's user may watch {@code titleId}, as an event for them alone. */
  Optional<Personal> watchabilityFor(ViewerStream stream, String titleId) {
    return hub.watchability()
        .check(stream.viewer(), titleId)
        .map(
            w ->
                new Personal(
                    Outgoing.Event.of(
                        Outgoing.Event.NO_ID,
                        "watchability",
                        print(ServerMessage.newBuilder().setWatchability(w).build())),
                    titleId,
                    w.getCanWatch()));
  }

  private static Outgoing.Event frame(ServerMessage event) {
    return Outgoing.Event.of(
        event.getSequence(), event.getKindCase().name().toLowerCase(Locale.ROOT), print(event));
  }

  static String print(ServerMessage message) {
    try {
      return JSON.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a ServerMessage that cannot be printed as JSON", e);
    }
  }

  /** Receives the upstream stream; each callback hands over to the relay under its lock. */
  private final class UpstreamObserver
      implements ClientResponseObserver<ClientMessage, ServerMessage> {
    private ClientCallStreamObserver<ClientMessage> requests;

    @Override
    public void beforeStart(ClientCallStreamObserver<ClientMessage> requestStream) {
      this.requests = requestStream;
    }

    @Override
    public void onNext(ServerMessage message) {
      onMessage(requests, message);
    }

    @Override
    public void onError(Throwable t) {
      onUpstreamEnd(requests, t);
    }

    @Override
    public void onCompleted() {
      onUpstreamEnd(requests, null);
    }
  }
}
