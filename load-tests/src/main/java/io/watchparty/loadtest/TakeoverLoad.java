package io.watchparty.loadtest;

import io.grpc.ManagedChannel;
import io.watchparty.client.ConnectionState;
import io.watchparty.client.RoomConnection;
import io.watchparty.client.WatchPartyClient;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Takeovers under load: three server instances (processes of their own on 127.0.0.1-3, over the
 * ring {@code --cassandra} names), a public room of {@code --viewers} clients of the Java client
 * library (each given one of the three addresses, as a load balancer would spread them) whose host
 * seeks every {@code --seek-ms} and whose chatters send {@code --chat-rate} messages a second;
 * then, {@code --kills} times, the room's owner is killed ({@code kill -9}), the room taken over by
 * another instance when its clients come back, and the killed instance started again.
 *
 * <p>Prints the takeover time (kill to the first seek the new owner accepted) p50/p99/max, each
 * viewer's gap around a kill (last state shown before it, first after), the events viewers missed
 * or saw twice, and the acknowledged chat messages missing from the history or stored twice. Exit
 * status 0 when nothing was lost or duplicated. Loopback only, bounded; it stops by itself.
 */
@CommandLine.Command(
    name = "takeover-load",
    mixinStandardHelpOptions = true,
    description = "Kills a busy room's owner again and again and measures the takeovers.")
public final class TakeoverLoad implements Callable<Integer> {
  private static final List<String> HOSTS = List.of("127.0.0.1", "127.0.0.2", "127.0.0.3");

  @Option(names = "--cassandra", required = true, description = "the ring, host:port,...")
  String cassandra;

  @Option(names = "--keyspace", defaultValue = "watchparty_takeover")
  String keyspace;

  @Option(names = "--server-classpath", required = true, description = "the server's classpath")
  String serverClasspath;

  @Option(names = "--logs", defaultValue = "target/takeover", description = "instance logs")
  Path logs;

  @Option(names = "--viewers", defaultValue = "1000", description = "viewers (1 to 1000)")
  int viewers;

  @Option(names = "--chatters", defaultValue = "10", description = "viewers who also chat")
  int chatters;

  @Option(names = "--chat-rate", defaultValue = "20", description = "messages a second, in all")
  int chatRate;

  @Option(names = "--seek-ms", defaultValue = "200", description = "between host seeks")
  long seekMs;

  @Option(names = "--kills", defaultValue = "20", description = "kills of the owner (1 to 50)")
  int kills;

  @Option(names = "--settle-ms", defaultValue = "3000", description = "after each takeover")
  long settleMs;

  public static void main(String[] args) {
    System.exit(new CommandLine(new TakeoverLoad()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (viewers < 1 || viewers > 1_000 || kills < 1 || kills > 50 || chatters > viewers) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--viewers 1..1000, --kills 1..50, --chatters <= --viewers");
    }
    for (String contact : cassandra.split(",")) {
      if (!InetAddress.getByName(contact.substring(0, contact.lastIndexOf(':')))
          .isLoopbackAddress()) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "not a loopback address: " + contact);
      }
    }
    String secret = "takeover-" + java.util.UUID.randomUUID() + "-0123456789abcdef";
    Tokens tokens = new Tokens(secret);
    Files.createDirectories(logs);
    InstanceProcess.Fleet fleet =
        new InstanceProcess.Fleet(
            serverClasspath,
            cassandra,
            keyspace,
            secret,
            List.of("-Xmx1g"),
            logs,
            InstanceProcess.BUSY_HOSTS);
    List<InstanceProcess> instances = Collections.synchronizedList(new ArrayList<>());
    Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    List<WatchPartyClient> clients = new ArrayList<>();
    ScheduledExecutorService ticks = Executors.newScheduledThreadPool(2);
    try {
      // The first instance applies the schema alone; then the other two.
      instances.add(InstanceProcess.start(fleet, "instance-1", HOSTS.get(0)));
      instances.add(InstanceProcess.start(fleet, "instance-2", HOSTS.get(1)));
      instances.add(InstanceProcess.start(fleet, "instance-3", HOSTS.get(2)));
      java.util.function.Function<String, io.grpc.Channel> dial =
          address -> channels.computeIfAbsent(address, Loopback::channel);
      // The fleet's one address, as clients know it: calls spread over the live instances.
      ManagedChannel balanced =
          BalancedChannel.over(instances.stream().map(InstanceProcess::address).toList());
      channels.put("balanced", balanced);
      java.util.function.Function<String, WatchPartyClient> client =
          user -> {
            WatchPartyClient c =
                WatchPartyClient.builder(balanced, tokens.token(user))
                    .instances(dial)
                    .maxReconnectAttempts(100)
                    .build();
            synchronized (clients) {
              clients.add(c);
            }
            return c;
          };

      String roomId =
          client
              .apply("takeover-host")
              .createRoom(
                  "sintel",
                  "Takeover load",
                  RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC).build())
              .get(30, TimeUnit.SECONDS)
              .getRoom()
              .getRoomId();
      FleetViewer hostHeard = new FleetViewer();
      RoomConnection host = client.apply("takeover-host").join(roomId, hostHeard);
      host.joined().get(60, TimeUnit.SECONDS);
      List<FleetViewer> watching = new ArrayList<>();
      List<RoomConnection> joins = new ArrayList<>();
      for (int i = 0; i < viewers; i++) {
        FleetViewer viewer = new FleetViewer();
        watching.add(viewer);
        joins.add(client.apply("takeover-viewer-" + i).join(roomId, viewer));
      }
      for (RoomConnection join : joins) {
        join.joined().get(120, TimeUnit.SECONDS);
      }
      System.out.printf("%d viewers joined room %s%n", viewers, roomId);
      HostSeeks seeks = new HostSeeks(host);
      List<ChatSends> chat = new ArrayList<>();
      for (int i = 0; i < chatters; i++) {
        chat.add(new ChatSends(joins.get(i), "viewer-" + i));
      }
      ticks.scheduleAtFixedRate(seeks::seek, 0, seekMs, TimeUnit.MILLISECONDS);
      if (chatters > 0 && chatRate > 0) {
        long everyMicros = 1_000_000L / chatRate;
        int[] next = {0};
        ticks.scheduleAtFixedRate(
            () -> chat.get(next[0]++ % chat.size()).send(), 0, everyMicros, TimeUnit.MICROSECONDS);
      }
      Thread.sleep(settleMs);

      List<Long> takeovers = new ArrayList<>();
      List<Long> gaps = new ArrayList<>();
      int unseen = 0;
      for (int kill = 1; kill <= kills; kill++) {
        String ownerAddress = ownerOf(instances, dial, tokens, roomId);
        int index = indexOf(instances, ownerAddress);
        InstanceProcess owner = instances.get(index);
        long epoch = seeks.epoch();
        long killedAt = System.nanoTime();
        LocalTime killedAtClock = LocalTime.now();
        owner.kill();
        Optional<HostSeeks.Change> first = Optional.empty();
        long deadline = killedAt + TimeUnit.SECONDS.toNanos(60);
        while (first.isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(20);
          first = seeks.firstAcceptedAfterEpoch(epoch);
        }
        long takeover = first.map(c -> c.acceptedAtNanos() - killedAt).orElse(Long.MAX_VALUE);
        takeovers.add(takeover);
        // Started again as a new process (a new instance id) on its address, while the room runs.
        instances.set(
            index,
            InstanceProcess.start(
                fleet, owner.name() + "-" + kill, HOSTS.get(index), owner.port()));
        Thread.sleep(settleMs);
        for (FleetViewer viewer : watching) {
          Optional<Long> gap = viewer.gapAroundNanos(killedAt);
          if (gap.isPresent()) {
            gaps.add(gap.get());
          } else {
            unseen++;
          }
        }
        Optional<Long> hostTold =
            hostHeard.firstAtNanos(killedAt, Set.of(ConnectionState.RECONNECTING));
        Optional<Long> hostBack =
            hostHeard.firstAtNanos(
                killedAt,
                Set.of(ConnectionState.RESUMED, ConnectionState.RESYNCED, ConnectionState.JOINED));
        System.out.printf(
            "kill %d of %d at %s: owner %s, takeover %s (the host's stream ended after %s, joined"
                + " again after %s)%n",
            kill,
            kills,
            killedAtClock,
            ownerAddress,
            takeover == Long.MAX_VALUE ? "none in 60 s" : ms(takeover),
            hostTold.map(t -> ms(t - killedAt)).orElse("-"),
            hostBack.map(t -> ms(t - killedAt)).orElse("-"));
        // How the host's connection got there: each attempt's end and why.
        System.out.printf(
            "  the host's connection meanwhile: %s%n",
            hostHeard.changesBetween(killedAt, hostBack.orElse(Long.MAX_VALUE)).stream()
                .map(
                    change ->
                        "+%s %s%s"
                            .formatted(
                                ms(change.atNanos() - killedAt),
                                change.state(),
                                change.reason().isEmpty() ? "" : " (" + change.reason() + ")"))
                .toList());
        if (first.isEmpty()) {
          System.out.printf(
              "  the host's connection: %s, refusals %s%n",
              hostHeard
                  .states()
                  .subList(Math.max(0, hostHeard.states().size() - 6), hostHeard.states().size()),
              hostHeard.refusals.subList(
                  Math.max(0, hostHeard.refusals.size() - 6), hostHeard.refusals.size()));
        }
      }
      ticks.shutdownNow();
      awaitQuiet(seeks, chat);

      List<HostSeeks.Change> accepted = seeks.accepted();
      Thread.sleep(2_000); // the last accepted change reaches every viewer
      int lost = 0;
      int duplicated = 0;
      int reverted = 0;
      int wrongEnd = 0;
      for (FleetViewer viewer : watching) {
        FleetViewer.Exactness exactness = viewer.exactness(accepted);
        lost += exactness.lost().size();
        duplicated += exactness.duplicated().size();
        reverted += exactness.reverted();
        if (viewer.last().map(s -> s.positionMs()).orElse(-1L) != accepted.getLast().positionMs()) {
          wrongEnd++;
        }
      }
      String finalOwner = ownerOf(instances, dial, tokens, roomId);
      List<ChatMessage> stored = FleetCalls.history(dial.apply(finalOwner), tokens, roomId);
      Set<String> storedIds = new HashSet<>();
      int storedTwice = 0;
      for (ChatMessage message : stored) {
        if (!storedIds.add(message.getClientMessageId())) {
          storedTwice++;
        }
      }
      int acknowledged = 0;
      int chatLost = 0;
      int chatFailed = 0;
      java.util.Map<String, Long> whyFailed = new java.util.TreeMap<>();
      Set<String> storedMessageIds = new HashSet<>();
      stored.forEach(m -> storedMessageIds.add(m.getMessageId()));
      for (ChatSends sends : chat) {
        chatFailed += sends.failed();
        sends.failures().forEach((why, count) -> whyFailed.merge(why, count, Long::sum));
        for (ChatMessage message : sends.acknowledgedMessages()) {
          acknowledged++;
          if (!storedMessageIds.contains(message.getMessageId())) {
            chatLost++;
          }
        }
      }
      Collections.sort(takeovers);
      Collections.sort(gaps);
      System.out.printf(
          "takeover (kill -9 to the first seek the new owner accepted), %d kills: p50 %s, p99 %s,"
              + " max %s%n",
          kills,
          ms(percentile(takeovers, 0.50)),
          ms(percentile(takeovers, 0.99)),
          ms(takeovers.getLast()));
      System.out.printf(
          "each viewer's gap around a kill (last state before, first after), %d: p50 %s, p99 %s,"
              + " max %s; viewers that saw nothing after a kill: %d%n",
          gaps.size(),
          ms(percentile(gaps, 0.50)),
          ms(percentile(gaps, 0.99)),
          ms(gaps.getLast()),
          unseen);
      System.out.printf(
          "seeks accepted %d, refused %d; viewer events lost %d, duplicated %d; viewers shown a"
              + " change the killed owner had not stored %d; viewers not at the last seek %d%n",
          accepted.size(), seeks.refused(), lost, duplicated, reverted, wrongEnd);
      System.out.printf(
          "chat: acknowledged %d, failed %d, acknowledged but not stored %d, stored %d, stored"
              + " twice %d%n",
          acknowledged, chatFailed, chatLost, stored.size(), storedTwice);
      whyFailed.forEach(
          (why, count) -> System.out.printf("  chat sends failed: %d x %s%n", count, why));
      boolean exact = lost == 0 && duplicated == 0 && wrongEnd == 0 && chatLost == 0;
      return exact && storedTwice == 0 && unseen == 0 ? 0 : 1;
    } finally {
      ticks.shutdownNow();
      synchronized (clients) {
        clients.forEach(WatchPartyClient::close);
      }
      channels.values().forEach(ManagedChannel::shutdownNow);
      instances.forEach(InstanceProcess::close);
    }
  }

  /** The room's owner, as the live instances say (each may be asked; the first answer counts). */
  private static String ownerOf(
      List<InstanceProcess> instances,
      java.util.function.Function<String, io.grpc.Channel> dial,
      Tokens tokens,
      String roomId) {
    for (int attempt = 0; attempt < 60; attempt++) {
      for (InstanceProcess instance : List.copyOf(instances)) {
        Optional<String> owner =
            FleetCalls.ownerSeenBy(
                dial.apply(instance.address()), instance.address(), tokens, roomId, 2_000);
        if (owner.isPresent()) {
          return owner.get();
        }
      }
    }
    throw new IllegalStateException("no instance named the owner of room " + roomId);
  }

  private static int indexOf(List<InstanceProcess> instances, String address) {
    for (int i = 0; i < instances.size(); i++) {
      if (instances.get(i).address().equals(address)) {
        return i;
      }
    }
    throw new IllegalStateException("the owner " + address + " is none of the fleet's instances");
  }

  private static void awaitQuiet(HostSeeks seeks, List<ChatSends> chat)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline
        && (seeks.inFlight() > 0 || !chat.stream().allMatch(ChatSends::everyAnswered))) {
      Thread.sleep(100);
    }
  }

  private static long percentile(List<Long> sorted, double p) {
    return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
  }

  private static String ms(long nanos) {
    return nanos == Long.MAX_VALUE ? "none" : "%.0f ms".formatted(nanos / 1e6);
  }
}
