package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatModeration;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.catalog.LicenceWindow;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.catalog.TitleAvailability;
import io.watchparty.server.refusal.RefusedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A room registry without Cassandra: rooms are kept in a map ({@link MapStore}) through the {@link
 * RoomStore} seam, streams are {@link RecordingSink}s, the catalog is two titles. Time is {@link
 * ManualTime}: it stands still until a test {@linkplain ManualTime#advance advances} it, and timers
 * fire as it passes them; their callbacks still run on a real executor, so thread hops are
 * exercised.
 */
final class RoomFixture implements AutoCloseable {
  static final Title FILM = new Title("film", "A Film", 600_000, "/media/film.mp4", "", 2020);
  static final Title LOCAL = new Title("local", "Only in FR", 600_000, "/media/l.mp4", "", 2021);

  static final Identity ALICE = user("alice", "FR");
  static final Identity BOB = user("bob", "FR");
  static final Identity CHIARA = user("chiara", "IT");
  static final Identity RELAY = new Identity("web-bridge", "Web bridge", "FR", true, false, true);

  static final Instances.Instance HERE = new Instances.Instance("here", "127.0.0.1:50051");

  final MapStore store = new MapStore();

  /** The instances alive besides this one ({@link #HERE}); none unless a test adds some. */
  final Set<String> otherLiveInstances = ConcurrentHashMap.newKeySet();

  final ExecutorService executor =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("room-work-", 0).factory());
  final ManualTime time = new ManualTime(executor);
  final Map<String, TitleAvailability> availability = new ConcurrentHashMap<>();
  final List<Room> rooms = new CopyOnWriteArrayList<>();

  /** Availability lookups made while some room's lock was held: there must be none. */
  final AtomicInteger lookupsUnderLock = new AtomicInteger();

  final RoomRegistry registry;

  RoomFixture() {
    this(RoomConfig.DEFAULTS);
  }

  RoomFixture(RoomConfig config) {
    availability.put(FILM.titleId(), everywhere(FILM.titleId()));
    availability.put(
        LOCAL.titleId(),
        new TitleAvailability(LOCAL.titleId(), Map.of("FR", LicenceWindow.ALWAYS)));
    Function<String, CompletableFuture<Title>> titles =
        id ->
            Optional.of(FILM)
                .filter(t -> t.titleId().equals(id))
                .or(() -> Optional.of(LOCAL).filter(t -> t.titleId().equals(id)))
                .map(CompletableFuture::completedFuture)
                .orElseGet(
                    () ->
                        CompletableFuture.failedFuture(
                            new IllegalArgumentException("no title " + id)));
    registry =
        new RoomRegistry(
            store,
            new Instances() {
              @Override
              public Instance self() {
                return HERE;
              }

              @Override
              public CompletionStage<List<Instance>> live() {
                List<Instance> live = new ArrayList<>(List.of(HERE));
                otherLiveInstances.forEach(id -> live.add(new Instance(id, id + ":50051")));
                return CompletableFuture.completedFuture(live);
              }

              @Override
              public CompletionStage<Boolean> refusesConnections(Instance instance) {
                return CompletableFuture.completedFuture(false); // a stopped one is not listed
              }
            },
            titles,
            titleId -> {
              if (rooms.stream().anyMatch(Room::heldByCurrentThread)) {
                lookupsUnderLock.incrementAndGet();
              }
              return CompletableFuture.completedFuture(availability.get(titleId));
            },
            config,
            time.clock(),
            time.ticker(),
            time.scheduler(),
            time.executor(),
            (roomId, epoch, created) -> CompletableFuture.completedFuture(room -> new QuietChat()));
  }

  static Identity user(String userId, String region) {
    return new Identity(
        userId,
        userId.substring(0, 1).toUpperCase() + userId.substring(1),
        region,
        true,
        false,
        false);
  }

  static TitleAvailability everywhere(String titleId) {
    return new TitleAvailability(
        titleId,
        Map.of("FR", LicenceWindow.ALWAYS, "IT", LicenceWindow.ALWAYS, "JP", LicenceWindow.ALWAYS));
  }

  Room create(Identity host, Visibility visibility) {
    return create(host, RoomSettings.newBuilder().setVisibility(visibility).build());
  }

  Room create(Identity host, RoomSettings settings) {
    Room room =
        registry
            .create(
                host,
                CreateRoomRequest.newBuilder()
                    .setName("Movie night")
                    .setTitleId(FILM.titleId())
                    .setSettings(settings)
                    .build())
            .toCompletableFuture()
            .join();
    rooms.add(room);
    return room;
  }

  Room find(Room room) {
    Room found = settled(registry.find(room.id().toString()));
    rooms.add(found);
    return found;
  }

  RecordingSink join(Room room, Identity who) {
    return join(room, who, "");
  }

  RecordingSink join(Room room, Identity who, String inviteToken) {
    RecordingSink sink = new RecordingSink(256);
    sink.subscriber =
        settled(
            room.join(
                who,
                sink,
                Join.newBuilder()
                    .setRoomId(room.id().toString())
                    .setInviteToken(inviteToken)
                    .build()));
    return sink;
  }

  /** The stage's value once it completes; its failure rethrown as it is (a refusal, say). */
  static <T> T settled(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  static CommandAccepted done(CompletionStage<CommandAccepted> stage) {
    return stage.toCompletableFuture().join();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** Rooms in a map; counts reads; its writes can be made to fail or to wait. */
  static final class MapStore implements RoomStore {
    final Map<UUID, RoomRecord> rooms = new ConcurrentHashMap<>();
    final List<RoomChange> applied = new CopyOnWriteArrayList<>();
    final AtomicInteger finds = new AtomicInteger();
    final AtomicInteger failuresLeft = new AtomicInteger();

    /** Writes refused as no retry can mend (a statement the store refuses), and each try. */
    final AtomicInteger refusalsLeft = new AtomicInteger();

    final AtomicInteger writes = new AtomicInteger();

    /** The counts owners recorded, by room. */
    final Map<UUID, Audience> audiences = new ConcurrentHashMap<>();

    /** Reads wait for this (complete it to let them answer). */
    volatile CompletableFuture<Void> readGate = CompletableFuture.completedFuture(null);

    /** Writes wait for this, and complete on the thread that completes it. */
    volatile CompletableFuture<Void> writeGate = CompletableFuture.completedFuture(null);

    @Override
    public CompletionStage<Void> create(RoomRecord room) {
      rooms.put(room.roomId(), room);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Optional<RoomRecord>> find(UUID roomId) {
      finds.incrementAndGet();
      return readGate.thenApply(v -> Optional.ofNullable(rooms.get(roomId)));
    }

    @Override
    public CompletionStage<Optional<RoomOwner>> owner(UUID roomId) {
      return readGate.thenApply(
          v -> Optional.ofNullable(rooms.get(roomId)).flatMap(RoomRecord::owner));
    }

    @Override
    public CompletionStage<Boolean> isPartyMember(UUID roomId, String userId) {
      return CompletableFuture.completedFuture(
          applied.stream()
              .filter(c -> c instanceof RoomChange.MembershipSet m && m.userId().equals(userId))
              .reduce((a, b) -> b)
              .map(c -> ((RoomChange.MembershipSet) c).member())
              .orElse(false)); // these tests run one room at a time
    }

    @Override
    public CompletionStage<List<UUID>> roomIdsOf(String userId) {
      return CompletableFuture.completedFuture(List.of()); // these tests do not list them
    }

    @Override
    public CompletionStage<Void> recordAudience(UUID roomId, long epoch, long members) {
      audiences.put(roomId, new Audience(epoch, members));
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Optional<Audience>> audience(UUID roomId) {
      return readGate.thenApply(v -> Optional.ofNullable(audiences.get(roomId)));
    }

    @Override
    public CompletionStage<List<UUID>> publicRoomIds() {
      return CompletableFuture.completedFuture(
          rooms.values().stream()
              .filter(r -> r.settings().getVisibility() == Visibility.PUBLIC)
              .map(RoomRecord::roomId)
              .toList());
    }

    @Override
    public CompletionStage<RoomOwner> claim(
        UUID roomId, Instances.Instance claimant, long readEpoch) {
      RoomRecord claimed =
          rooms.computeIfPresent(
              roomId,
              (id, r) ->
                  r.owner().map(RoomOwner::epoch).orElse(0L) == readEpoch
                      ? withOwner(r, RoomOwner.next(claimant, readEpoch))
                      : r);
      return CompletableFuture.completedFuture(claimed.owner().orElseThrow());
    }

    /** Another instance claims the room, as a fleet's instance would. */
    RoomOwner takeOver(UUID roomId, Instances.Instance other) {
      RoomRecord r = rooms.get(roomId);
      return claim(roomId, other, r.owner().orElseThrow().epoch()).toCompletableFuture().join();
    }

    private static RoomRecord withOwner(RoomRecord r, RoomOwner owner) {
      return new RoomRecord(
          r.roomId(),
          r.name(),
          r.settings(),
          r.hostUserId(),
          r.hostDisplayName(),
          r.inviteToken(),
          r.cohosts(),
          r.banned(),
          r.playback(),
          r.closed(),
          r.createdAtMs(),
          Optional.of(owner));
    }

    @Override
    public CompletionStage<Void> apply(UUID roomId, long epoch, List<RoomChange> changes) {
      writes.incrementAndGet();
      RoomOwner owner = rooms.get(roomId).owner().orElseThrow();
      if (owner.epoch() != epoch) {
        return CompletableFuture.failedFuture(new RoomMoved(owner));
      }
      if (refusalsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return CompletableFuture.failedFuture(
            new IllegalArgumentException("a statement the store refuses"));
      }
      if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return CompletableFuture.failedFuture(new IllegalStateException("storage is down"));
      }
      return writeGate.thenRun(() -> applied.addAll(changes));
    }

    @Override
    public boolean mayRetry(Throwable failure) {
      return failure instanceof IllegalStateException;
    }

    @Override
    public boolean awaitWrites(Duration timeout) {
      return true;
    }
  }

  /** A stream that keeps what the room sent it; {@code capacity} frames fit before it overflows. */
  static final class RecordingSink implements StreamSink {
    volatile int capacity;
    final List<ServerMessage> frames = new CopyOnWriteArrayList<>();
    volatile int resets;
    volatile boolean finished;
    volatile RefusedException refusal;
    Subscriber subscriber;

    RecordingSink(int capacity) {
      this.capacity = capacity;
    }

    /** From now on the receiver reads nothing: its queue is full. */
    void stall() {
      capacity = frames.size();
    }

    @Override
    public boolean offer(byte[] frame) {
      if (frames.size() >= capacity) {
        return false;
      }
      frames.add(parse(frame));
      return true;
    }

    /** Replies are kept whatever the capacity, as the real outbox keeps them. */
    @Override
    public void reply(byte[] frame) {
      frames.add(parse(frame));
    }

    @Override
    public void resetTo(byte[] snapshot) {
      frames.removeIf(m -> !m.hasCommandResult() && !m.hasPong());
      frames.add(parse(snapshot));
      resets++;
    }

    @Override
    public void finish() {
      finished = true;
    }

    @Override
    public void refuse(RefusedException refused) {
      refusal = refused;
    }

    @Override
    public int backlog() {
      return frames.size();
    }

    @Override
    public long resyncs() {
      return resets;
    }

    Snapshot snapshot() {
      assertThat(frames.getFirst().hasSnapshot()).as("first frame is a snapshot").isTrue();
      return frames.getFirst().getSnapshot();
    }

    List<ServerMessage.KindCase> kinds() {
      return frames.stream().map(ServerMessage::getKindCase).toList();
    }

    private static ServerMessage parse(byte[] frame) {
      try {
        return ServerMessage.parseFrom(frame);
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("the room sent a frame that is not a ServerMessage", e);
      }
    }
  }

  /** A room chat with no messages: these tests are about the room. */
  private static final class QuietChat implements RoomChat {
    @Override
    public CompletionStage<ChatMessage> send(Identity who, SendChat message) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }

    @Override
    public void react(Identity who, React reaction) {}

    @Override
    public CompletionStage<CommandAccepted> moderate(Identity who, ChatModeration command) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }

    @Override
    public CompletionStage<ListChatHistoryResponse> history(
        Identity who, String pageToken, int pageSize) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }

    @Override
    public void addRecent(Snapshot.Builder snapshot) {}

    @Override
    public boolean idle() {
      return true;
    }
  }
}
