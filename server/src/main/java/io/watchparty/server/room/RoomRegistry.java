package io.watchparty.server.room;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.catalog.TitleAvailability;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.Failures;
import io.watchparty.server.refusal.RefusedException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rooms this server owns: creates them, loads them from storage on first use (so they survive
 * restarts), and lists the public ones. A room is loaded once however many callers want it at the
 * same moment (after a restart every viewer of a room reconnects at once): they wait for the same
 * load, so they share one instance.
 *
 * <p>Several instances may share the storage (a fleet): each room is owned by one of them ({@link
 * RoomOwner}). A room this instance creates is its own; loading a room claims it, unless its owner
 * is another live instance, in which case the caller is sent there ({@code ROOM_MOVED}). An
 * instance that finds its room taken when it writes lets the room go ({@link Room#letGo}).
 */
public final class RoomRegistry {
  static final Logger log = LoggerFactory.getLogger(RoomRegistry.class);

  /** How often empty rooms are looked for; one empty for two sweeps in a row leaves memory. */
  static final Duration SWEEP_INTERVAL = Duration.ofMinutes(5);

  /** How often the counts of present members are recorded for the other instances' listings. */
  static final Duration AUDIENCE_INTERVAL = Duration.ofSeconds(5);

  static final int MAX_NAME_LENGTH = 80;

  /** The longest chat slow-mode interval, at creation and when changed later. */
  public static final long MAX_SLOW_MODE_MS = Duration.ofMinutes(10).toMillis();

  private static final Pattern ROOM_ID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Set<Visibility> VISIBILITIES = Set.of(Visibility.PRIVATE, Visibility.PUBLIC);

  private final RoomStore store;
  private final Instances instances;
  private final Function<String, CompletableFuture<Title>> titles;
  private final Function<String, CompletableFuture<TitleAvailability>> availability;
  private final RoomConfig config;
  private final InstantSource clock;
  private final Ticker ticker;
  private final ScheduledExecutorService scheduler;
  private final Executor executor;
  private final RateLimiter commandLimiter;
  private final InviteTokens inviteTokens = new InviteTokens();
  private final FanOutTimes fanOutTimes = new FanOutTimes();

  /** Rooms in memory, or being loaded: every caller of one room waits for the same load. */
  private final ConcurrentHashMap<UUID, CompletableFuture<Room>> rooms = new ConcurrentHashMap<>();

  private final RoomChat.Factory chats;
  private final ScheduledFuture<?> sweeps;
  private final ScheduledFuture<?> audiences;

  /** The count last recorded for each room in memory (see {@link #recordAudiences}). */
  private final Map<UUID, Long> recordedAudience = new ConcurrentHashMap<>();

  /**
   * @param titles looks up catalog titles (cached), refusing malformed and unknown ids; a cold
   *     lookup completes on an executor, never on a storage driver thread
   * @param availability a title's licence windows by region (cached and completed as titles are)
   * @param scheduler fires every room's timers (grace periods, presence counts, buffering waits,
   *     licence boundaries, write retries); it should remove cancelled tasks at once
   * @param executor runs timer callbacks, storage completions and room loads: never the storage
   *     driver's I/O threads or the scheduler's one thread
   * @param chats builds the chat of each room (recent messages loaded with the room)
   */
  public RoomRegistry(
      RoomStore store,
      Instances instances,
      Function<String, CompletableFuture<Title>> titles,
      Function<String, CompletableFuture<TitleAvailability>> availability,
      RoomConfig config,
      InstantSource clock,
      Ticker ticker,
      ScheduledExecutorService scheduler,
      Executor executor,
      RoomChat.Factory chats) {
    this.store = store;
    this.instances = instances;
    this.titles = titles;
    this.availability = availability;
    this.config = config;
    this.clock = clock;
    this.ticker = ticker;
    this.sentToClaimant =
        Caffeine.newBuilder().ticker(ticker).expireAfterWrite(Duration.ofMinutes(1)).build();
    this.scheduler = scheduler;
    this.executor = executor;
    this.chats = chats;
    this.commandLimiter =
        new RateLimiter("commands", config.commandsPerSecond(), config.commandBurst(), ticker);
    // Last, once the registry is complete: the sweeps keep memory bounded by the active rooms.
    this.sweeps =
        scheduler.scheduleWithFixedDelay(
            this::sweep,
            SWEEP_INTERVAL.toMillis(),
            SWEEP_INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
    this.audiences =
        scheduler.scheduleWithFixedDelay(
            this::recordAudiences,
            AUDIENCE_INTERVAL.toMillis(),
            AUDIENCE_INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** Stops the sweeps and the recording of counts; the server is stopping. */
  public void close() {
    sweeps.cancel(false);
    audiences.cancel(false);
  }

  /** Creates a room hosted by {@code host}; completes once Cassandra has stored it. */
  public CompletionStage<Room> create(Identity host, CreateRoomRequest request) {
    requireSubscribed(host);
    String name = request.getName().strip();
    if (name.isEmpty()
        || name.length() > MAX_NAME_LENGTH
        || name.chars().anyMatch(Character::isISOControl)) {
      throw new RefusedException(
          ErrorReason.INVALID_SETTING,
          "room name must be 1-" + MAX_NAME_LENGTH + " printable characters",
          Map.of("field", "name"));
    }
    RoomSettings settings = validated(request.getSettings());
    return titles
        .apply(request.getTitleId())
        .thenCompose(
            title ->
                availability
                    .apply(title.titleId())
                    .thenCompose(rights -> create(host, name, settings, title, rights)));
  }

  private CompletionStage<Room> create(
      Identity host, String name, RoomSettings settings, Title title, TitleAvailability rights) {
    if (!rights.canWatch(host.region(), clock.instant())) {
      throw new RefusedException(
          ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION,
          "'" + title.name() + "' is not available in your region (" + host.region() + ")",
          Map.of("title_id", title.titleId(), "region", host.region()));
    }
    long now = clock.millis();
    RoomRecord record =
        new RoomRecord(
            UUID.randomUUID(),
            name,
            settings,
            host.userId(),
            host.displayName(),
            settings.getVisibility() == Visibility.PRIVATE
                ? Optional.of(inviteTokens.next())
                : Optional.empty(),
            Set.of(),
            Set.of(),
            Playback.start(title.titleId(), title.durationMs(), now),
            false,
            now,
            Optional.of(RoomOwner.next(instances.self(), 0)));
    RoomOwner owner = record.owner().orElseThrow();
    return store
        .create(record)
        .thenCombine(chats.prepare(record.roomId(), owner.epoch(), true), (stored, chat) -> chat)
        .thenApplyAsync(
            chat -> {
              Room room = newRoom(record, owner, rights, chat);
              rooms.put(room.id(), CompletableFuture.completedFuture(room));
              return room;
            },
            executor);
  }

  private static RoomSettings validated(RoomSettings settings) {
    if (!VISIBILITIES.contains(settings.getVisibility())) {
      throw new RefusedException(
          ErrorReason.INVALID_SETTING,
          "settings.visibility must be PRIVATE or PUBLIC",
          Map.of("field", "settings.visibility"));
    }
    if (settings.getSlowModeMs() < 0 || settings.getSlowModeMs() > MAX_SLOW_MODE_MS) {
      throw new RefusedException(
          ErrorReason.INVALID_SETTING,
          "settings.slow_mode_ms must be 0.." + MAX_SLOW_MODE_MS,
          Map.of("field", "settings.slow_mode_ms"));
    }
    var builder = settings.toBuilder();
    if (settings.getHostLeavePolicy() == HostLeavePolicy.HOST_LEAVE_POLICY_UNSPECIFIED) {
      builder.setHostLeavePolicy(HostLeavePolicy.TRANSFER_HOST);
    } else if (settings.getHostLeavePolicy() == HostLeavePolicy.UNRECOGNIZED) {
      throw new RefusedException(
          ErrorReason.INVALID_SETTING,
          "settings.host_leave_policy is not a known policy",
          Map.of("field", "settings.host_leave_policy"));
    }
    return builder.build();
  }

  /**
   * The room with this id, loaded from Cassandra if this server has not seen it yet. Never waits:
   * every caller of a room that is loading gets the same pending load, which completes on the
   * executor (a failed load is forgotten, so the next caller tries again).
   *
   * @throws RefusedException MALFORMED_ID at once for an id that is no room id
   */
  public CompletionStage<Room> find(String roomId) {
    if (roomId == null || !ROOM_ID.matcher(roomId).matches()) {
      throw new RefusedException(
          ErrorReason.MALFORMED_ID,
          "room id " + Echo.quoted(String.valueOf(roomId)) + " is not a lower-case UUID");
    }
    UUID id = UUID.fromString(roomId);
    CompletableFuture<Room> loading = rooms.computeIfAbsent(id, this::load);
    if (loading.isCompletedExceptionally()) {
      // It failed inside the compute, where its own clean-up could not remove it yet.
      rooms.remove(id, loading);
    }
    // A copy per caller: a caller's dependent stages must not be able to complete the shared load.
    return loading.copy();
  }

  /**
   * Starts loading a room and its chat (it only starts: it runs inside the map's compute): claims
   * the room for this instance, unless another live instance owns it. A failed load is not kept:
   * the next caller tries again.
   */
  private CompletableFuture<Room> load(UUID id) {
    long startedAt = ticker.read();
    CompletableFuture<Room> loading =
        store
            .find(id)
            .thenCompose(
                found -> {
                  RoomRecord record =
                      found.orElseThrow(
                          () ->
                              new RefusedException(
                                  ErrorReason.ROOM_NOT_FOUND,
                                  "no room " + id,
                                  Map.of("room_id", id.toString())));
                  return claim(record)
                      .thenCompose(
                          owner -> {
                            long claimedAt = ticker.read();
                            return chats
                                .prepare(id, owner.epoch(), false)
                                .thenCombineAsync(
                                    availability.apply(record.playback().titleId()),
                                    (chat, rights) -> {
                                      Room room = newRoom(record, owner, rights, chat);
                                      logTakeover(record, owner, startedAt, claimedAt);
                                      return room;
                                    },
                                    executor);
                          });
                })
            .toCompletableFuture();
    loading.whenComplete(
        (room, failure) -> {
          if (failure != null) {
            rooms.remove(id, loading);
          }
        });
    return loading;
  }

  /**
   * Makes this instance the owner of a stored room, with the next epoch; refuses {@code ROOM_MOVED}
   * when another instance owns it and is alive, or claimed it first. A room whose owner is not live
   * is claimed by the live instance rendezvous hashing picks (as a handover picks its successor),
   * so that after a crash the clients of all instances gather at one claimant instead of racing
   * their claims on the room's row: another instance sends them there, unless it has done so for
   * {@link #CLAIM_GRACE} already (its view of the live instances may be wrong; a wrong view costs
   * time, never safety, as every claim is conditional on the epoch read). A closed room is claimed
   * too: it is only ever read.
   */
  private CompletionStage<RoomOwner> claim(RoomRecord record) {
    Instances.Instance self = instances.self();
    Optional<RoomOwner> stored = record.owner();
    if (stored.isEmpty() || stored.get().instanceId().equals(self.id())) {
      return claimFor(self, record.roomId(), stored.map(RoomOwner::epoch).orElse(0L));
    }
    RoomOwner former = stored.get();
    // One read of the live instances says whether the owner is one and, if not, who claims.
    return instances
        .live()
        .thenCompose(
            live -> {
              Optional<Instances.Instance> listed =
                  live.stream().filter(i -> i.id().equals(former.instanceId())).findFirst();
              if (listed.isEmpty()) {
                return CompletableFuture.completedFuture(claimant(record.roomId(), former, live));
              }
              return instances
                  .refusesConnections(listed.get())
                  .thenApply(
                      gone -> {
                        if (!gone) {
                          sentToClaimant.invalidate(record.roomId());
                          throw former.movedHere(record.roomId());
                        }
                        return claimant(record.roomId(), former, live);
                      });
            })
        .thenCompose(
            claimant -> {
              if (!claimant.id().equals(self.id())) {
                throw new RoomOwner(claimant.id(), claimant.address(), former.epoch())
                    .movedHere(record.roomId());
              }
              return claimFor(self, record.roomId(), former.epoch());
            });
  }

  /**
   * How long an instance sends the clients of a room whose owner is not live to the claimant it
   * picked before it claims the room itself: about as long as a dead instance's heartbeat row
   * lives, after which every view of the live instances agrees again.
   */
  static final Duration CLAIM_GRACE = Duration.ofSeconds(2);

  /**
   * When this instance first sent a room's clients to another claimant (ticker nanos), since the
   * room's owner was last seen live.
   */
  private final Cache<UUID, Long> sentToClaimant;

  /**
   * The instance that should claim a room whose owner {@code former} is not live: the one
   * rendezvous hashing picks among the {@code live} instances but {@code former}; this one once it
   * has sent the room's clients elsewhere for {@link #CLAIM_GRACE}.
   */
  private Instances.Instance claimant(
      UUID roomId, RoomOwner former, List<Instances.Instance> live) {
    Instances.Instance self = instances.self();
    List<Instances.Instance> candidates =
        new ArrayList<>(
            live.stream()
                .filter(instance -> !instance.id().equals(former.instanceId()))
                .filter(instance -> !instance.id().equals(self.id()))
                .toList());
    candidates.add(self);
    Instances.Instance pick = successorOf(roomId, candidates);
    if (pick.equals(self)) {
      return self;
    }
    long now = ticker.read();
    long since = sentToClaimant.get(roomId, id -> now);
    return now - since >= CLAIM_GRACE.toNanos() ? self : pick;
  }

  /** Claims a room for {@code self} over {@code readEpoch}; refuses if another claimed it first. */
  private CompletionStage<RoomOwner> claimFor(
      Instances.Instance self, UUID roomId, long readEpoch) {
    return store
        .claim(roomId, self, readEpoch)
        .thenApply(
            owner -> {
              if (!owner.equals(RoomOwner.next(self, readEpoch))) {
                throw owner.movedHere(roomId);
              }
              return owner;
            });
  }

  /** How many rooms' owners {@link #confirmOwnership} reads at once. */
  private static final int OWNERSHIP_READS_AT_ONCE = 64;

  /**
   * Confirms that this instance still owns each room it holds, and lets go of those another
   * instance took: called when this instance's heartbeat lapsed (it was paused, say, or cut off
   * from Cassandra), the only time another instance may take a room of a live instance. Without it,
   * a room nobody writes to would keep its viewers on a stale copy until its next write was
   * refused. Reads {@link #OWNERSHIP_READS_AT_ONCE} owners at a time.
   */
  public CompletionStage<Void> confirmOwnership() {
    List<Room> held = inMemory();
    CompletableFuture<Void> confirmed = CompletableFuture.completedFuture(null);
    for (int from = 0; from < held.size(); from += OWNERSHIP_READS_AT_ONCE) {
      List<Room> chunk = held.subList(from, Math.min(held.size(), from + OWNERSHIP_READS_AT_ONCE));
      confirmed =
          confirmed.thenCompose(
              v ->
                  CompletableFuture.allOf(
                      chunk.stream().map(this::confirmOwner).toArray(CompletableFuture[]::new)));
    }
    return confirmed;
  }

  private CompletableFuture<Void> confirmOwner(Room room) {
    return store
        .owner(room.id())
        .thenAcceptAsync(
            owner ->
                owner
                    .filter(current -> current.epoch() != room.epoch())
                    .ifPresent(
                        current -> {
                          log.info(
                              "Room {} was taken over by instance {} ({}) while this instance's"
                                  + " heartbeat lapsed: its streams are sent there",
                              room.id(),
                              current.instanceId(),
                              current.address());
                          moved(room.id(), current);
                        }),
            executor) // letting go ends streams: not on the driver's threads
        .exceptionally(
            failure -> {
              // Its next write is fenced all the same; the next lapse checks it again.
              log.warn(
                  "Room {}: its owner could not be read after a heartbeat lapse ({})",
                  room.id(),
                  Failures.unwrap(failure).toString());
              return null;
            })
        .toCompletableFuture();
  }

  /** A room claimed from another instance is said, with where its load took time. */
  private void logTakeover(RoomRecord record, RoomOwner owner, long startedAt, long claimedAt) {
    record
        .owner()
        .filter(former -> !former.instanceId().equals(owner.instanceId()))
        .ifPresent(
            former ->
                log.info(
                    "Room {} taken over from instance {} ({}), which is not live: epoch {};"
                        + " read and claimed in {} ms, its chat and title loaded in {} ms more",
                    record.roomId(),
                    former.instanceId(),
                    former.address(),
                    owner.epoch(),
                    TimeUnit.NANOSECONDS.toMillis(claimedAt - startedAt),
                    TimeUnit.NANOSECONDS.toMillis(ticker.read() - claimedAt)));
  }

  /** Another instance took a room of this one's: its streams go there, and it leaves memory. */
  private void moved(UUID id, RoomOwner owner) {
    CompletableFuture<Room> loading = rooms.get(id);
    if (loading != null) {
      loaded(loading)
          .ifPresent(
              room -> {
                room.letGo(owner);
                rooms.remove(id, loading);
              });
    }
  }

  /** A page of the public directory, as a user of {@code region} sees it. */
  public CompletionStage<PublicDirectory.Page> publicRooms(
      String region, PublicDirectory.Request request) {
    return store
        .publicRoomIds()
        .thenCompose(ids -> openRooms(ids, region))
        .thenApply(open -> PublicDirectory.page(open, request));
  }

  /** The open rooms {@code who} is in, most recently created first (see ListMyRooms). */
  public CompletionStage<List<RoomInfo>> roomsOf(Identity who) {
    return store
        .roomIdsOf(who.userId())
        .thenCompose(ids -> openRooms(ids, who.region()))
        .thenApply(
            open ->
                open.stream()
                    .sorted(Comparator.comparingLong(RoomInfo::getCreatedAtMs).reversed())
                    .toList());
  }

  /**
   * The open rooms among {@code ids} as a user of {@code region} sees them. A room out of this
   * instance's memory is described from storage, without loading it (and its chat) just to list it,
   * with the count its owner recorded if that owner is live (another instance serves it); those
   * reads run concurrently.
   */
  private CompletionStage<List<RoomInfo>> openRooms(List<UUID> ids, String region) {
    Instant now = clock.instant();
    // Whose recorded counts to believe; unreadable, the rooms elsewhere are listed as empty.
    CompletionStage<Set<String>> liveIds =
        ids.stream().allMatch(id -> inMemory(id).isPresent())
            ? CompletableFuture.completedFuture(Set.of())
            : instances
                .live()
                .<Set<String>>thenApply(
                    live -> live.stream().map(Instances.Instance::id).collect(Collectors.toSet()))
                .exceptionally(unreadable -> Set.of());
    List<CompletableFuture<Optional<RoomInfo>>> described = new ArrayList<>();
    for (UUID id : ids) {
      Optional<Room> loaded = inMemory(id);
      if (loaded.isPresent()) {
        described.add(loaded.get().info(region).thenApply(Optional::of).toCompletableFuture());
        continue;
      }
      described.add(
          store
              .find(id)
              .thenCombine(store.audience(id), Stored::new)
              .thenCombine(liveIds, Stored::members)
              .thenComposeAsync(
                  found -> {
                    if (found.isEmpty()) {
                      log.warn("Room {} is listed but does not exist", id);
                      return CompletableFuture.completedFuture(Optional.<RoomInfo>empty());
                    }
                    RoomRecord r = found.get().room();
                    return availability
                        .apply(r.playback().titleId())
                        .thenApply(
                            rights ->
                                Optional.of(
                                    Room.describe(
                                        r, found.get().members(), rights.canWatch(region, now))));
                  },
                  executor)
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(described.toArray(CompletableFuture[]::new))
        .thenApply(
            all ->
                described.stream()
                    .map(CompletableFuture::join) // all done: join only reads the value
                    .flatMap(Optional::stream)
                    .filter(info -> !info.getClosed())
                    .toList());
  }

  /** A room another instance serves, with how many are present there. */
  private record Listed(RoomRecord room, long members) {}

  /** A room as storage holds it, with the count its owner recorded. */
  private record Stored(Optional<RoomRecord> room, Optional<RoomStore.Audience> audience) {
    /**
     * The room, with the count its owner recorded if that owner is still the one storage names and
     * is live; else with nobody (a room no live instance serves has nobody in it).
     */
    Optional<Listed> members(Set<String> liveIds) {
      return room.map(
          r ->
              new Listed(
                  r,
                  audience
                      .filter(
                          counted ->
                              r.owner()
                                  .filter(owner -> owner.epoch() == counted.epoch())
                                  .filter(owner -> liveIds.contains(owner.instanceId()))
                                  .isPresent())
                      .map(RoomStore.Audience::members)
                      .orElse(0L)));
    }
  }

  /**
   * Admits a stream to a room (see {@link Room#join}); if the room was dropped from memory in the
   * meantime, joins its fresh instance instead.
   */
  public CompletionStage<Subscriber> join(
      String roomId, Identity who, StreamSink sink, Join request) {
    return find(roomId)
        .thenCompose(room -> room.join(who, sink, request))
        .exceptionallyCompose(
            failure ->
                Failures.unwrap(failure) instanceof Room.Retired
                    ? join(roomId, who, sink, request) // find() loads the room again
                    : CompletableFuture.failedFuture(Failures.unwrap(failure)));
  }

  /**
   * Drops closed and long-empty rooms from memory, and has the counts of the others recorded again
   * at the next {@link #recordAudiences} (their counts in storage outlive a few sweeps, not many);
   * runs every {@link #SWEEP_INTERVAL}.
   */
  void sweep() {
    rooms.forEach(
        (id, loading) -> {
          if (loaded(loading).filter(Room::retireIfIdle).isPresent()) {
            rooms.remove(id, loading);
          }
        });
    recordedAudience.clear();
  }

  /**
   * Records how many are present in each room of this instance's whose count changed since it was
   * last recorded, for the listings of the other instances (see {@link #openRooms}): they see a
   * change within {@link #AUDIENCE_INTERVAL}, for one small write per changed room and interval.
   * Runs every {@link #AUDIENCE_INTERVAL}.
   */
  void recordAudiences() {
    recordedAudience.keySet().retainAll(rooms.keySet());
    rooms.forEach(
        (id, loading) ->
            loaded(loading)
                .ifPresent(
                    room -> {
                      long members = room.presentMemberCount();
                      Long recorded = recordedAudience.put(id, members);
                      if (recorded == null || recorded != members) {
                        recordAudience(id, room.epoch(), members);
                      }
                    }));
  }

  /** A count that could not be stored is tried again at the next {@link #recordAudiences}. */
  private void recordAudience(UUID roomId, long epoch, long members) {
    store
        .recordAudience(roomId, epoch, members)
        .exceptionally(
            failure -> {
              recordedAudience.remove(roomId, members);
              log.debug("Room {}: its count of {} not stored ({})", roomId, members, failure);
              return null;
            });
  }

  /** The availability of {@code titleId} changed through this server: its rooms re-check. */
  public void availabilityChanged(String titleId) {
    inMemory().forEach(room -> room.availabilityChanged(titleId));
  }

  /**
   * Lets the last background writes finish (bounded) before the server stops: those in flight, and
   * every room's writes recorded but not yet acknowledged (a retry may be due). False if some were
   * still pending at the deadline.
   */
  public boolean flush(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (!store.awaitWrites(timeout)) {
      return false;
    }
    while (!inMemory().stream().allMatch(Room::writesSettled)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(10); // the rooms' completions run on the executor, right after the store's
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /**
   * Hands this instance's rooms to the other live instances, for a planned stop (SIGTERM, a rolling
   * restart): each room stops taking changes, and once what it recorded is stored (bounded by
   * {@code timeout}) it is claimed for its successor over its epoch, as any claim, and its streams
   * end {@code ROOM_MOVED} naming the successor, so clients go there at once instead of waiting for
   * this instance's heartbeat to expire. Rendezvous hashing over the live instances picks each
   * room's successor, so a stopping instance's rooms spread over the fleet. Returns how many rooms
   * were handed over: none if no other instance is live; a room whose writes did not settle in
   * time, or whose claim failed, is left to the shutdown's usual end.
   */
  public int handOver(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String self = instances.self().id();
    List<Instances.Instance> successors;
    try {
      successors =
          instances
              .live()
              .toCompletableFuture()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .stream()
              .filter(instance -> !instance.id().equals(self))
              .toList();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("No room handed over: the live instances could not be read ({})", e.toString());
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
    List<Room> owned = inMemory();
    if (successors.isEmpty() || owned.isEmpty()) {
      return 0;
    }
    owned.forEach(Room::stopTakingChanges);
    while (!owned.stream().allMatch(Room::storageSettled) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10); // the rooms' completions run on the executor
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 0;
      }
    }
    Map<Room, CompletableFuture<RoomOwner>> claims = new LinkedHashMap<>();
    for (Room room : owned) {
      if (room.storageSettled()) {
        claims.put(
            room,
            store
                .claim(room.id(), successorOf(room.id(), successors), room.epoch())
                .toCompletableFuture());
      }
    }
    int handed = 0;
    for (Map.Entry<Room, CompletableFuture<RoomOwner>> claim : claims.entrySet()) {
      Room room = claim.getKey();
      try {
        long left = Math.max(1, deadline - System.nanoTime());
        RoomOwner owner = claim.getValue().get(left, TimeUnit.NANOSECONDS);
        room.letGo(owner);
        rooms.remove(room.id());
        handed++;
      } catch (ExecutionException | TimeoutException e) {
        log.warn(
            "Room {} was not handed over ({}); its streams end as the server stops",
            room.id(),
            e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    log.info(
        "Handed {} of {} room(s) to {} other instance(s)", handed, owned.size(), successors.size());
    return handed;
  }

  /**
   * The instance that takes a room when its owner stops: the highest of a hash of the room and each
   * instance (rendezvous hashing), so each instance's share changes only by the rooms of the
   * instances that come and go.
   */
  static Instances.Instance successorOf(UUID roomId, List<Instances.Instance> candidates) {
    return candidates.stream()
        .max(Comparator.comparingLong(instance -> weight(roomId, instance.id())))
        .orElseThrow();
  }

  private static long weight(UUID roomId, String instanceId) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest((roomId + "/" + instanceId).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The fan-out times of every room's events on this server. */
  public FanOutTimes fanOutTimes() {
    return fanOutTimes;
  }

  /** How many rooms this server holds in memory. */
  public int loadedRooms() {
    return inMemory().size();
  }

  private List<Room> inMemory() {
    return rooms.values().stream().flatMap(loading -> loaded(loading).stream()).toList();
  }

  /** The room with this id if it is in memory (loaded, not still loading). */
  private Optional<Room> inMemory(UUID id) {
    CompletableFuture<Room> loading = rooms.get(id);
    return loading == null ? Optional.empty() : loaded(loading);
  }

  private static Optional<Room> loaded(CompletableFuture<Room> loading) {
    return loading.isDone() && !loading.isCompletedExceptionally()
        ? Optional.of(loading.join())
        : Optional.empty();
  }

  /** Refuses a command from a user who sent too many lately. */
  public void checkCommandRate(Identity who) {
    commandLimiter.acquire(who.userId());
  }

  /** Hosting and joining need an active subscription. */
  public static void requireSubscribed(Identity who) {
    if (!who.subscribed()) {
      throw new RefusedException(
          ErrorReason.SUBSCRIPTION_INACTIVE,
          "an active subscription is needed to host or join a watch party",
          Map.of("user_id", who.userId()));
    }
  }

  private Room newRoom(
      RoomRecord record, RoomOwner owner, TitleAvailability rights, Function<Room, RoomChat> chat) {
    RoomTimers timers = new RoomTimers(scheduler, executor);
    var services =
        new Room.Services(
            config,
            clock,
            timers,
            new RoomWriter(
                record.roomId(),
                store,
                owner.epoch(),
                record.createdAtMs(),
                clock,
                timers,
                executor,
                config,
                moved -> moved(record.roomId(), moved)),
            titles,
            availability,
            inviteTokens,
            // Asked only when a newcomer would be refused; the join goes on once it answers.
            store::isPartyMember,
            fanOutTimes,
            executor);
    // Events that are not stored (presence) may have used numbers past the stored one before: each
    // ownership counts from its own epoch's range.
    return new Room(record, owner.firstSequence(), rights, services, chat);
  }
}
