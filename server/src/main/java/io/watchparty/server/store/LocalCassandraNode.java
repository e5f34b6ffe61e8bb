package io.watchparty.server.store;

import io.helidon.config.Config;
import io.watchparty.proto.Backoff;
import io.watchparty.server.store.CqlPortProbe.PortState;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Cassandra 5.0 for development and tests, running in its own JVM on JDK
 * 17 (Cassandra 5.0 does not start on newer JDKs, and its jars would clash with the server's).
 *
 * <p>{@link #start} reuses whatever Cassandra already answers CQL on 127.0.0.1 at the configured
 * port (a node left running by {@code LocalCassandraNode start}, or by another test JVM), and
 * otherwise starts one from the jars collected by the {@code server/local-cassandra} module, with
 * its data, logs ({@code logs/system.log}, {@code logs/console.log}), generated configuration
 * ({@code conf/}) and pid file ({@code cassandra.pid}) in the configured directory, so data
 * survives restarts. Starts from several JVMs at once are serialized by a lock file in that
 * directory, so only one of them launches a node.
 *
 * <p>A node started by {@link #start} belongs to this instance: {@link #close} stops it, and so
 * does a JVM shutdown hook that {@link #start} registers itself, so a server or test JVM that ends
 * without closing never leaves a node behind. Either kills it (SIGKILL): every write the node
 * acknowledged is already in its commit log on disk, which it replays at its next start, so its own
 * drain on SIGTERM (a flush of every memtable) would only slow the stop. A reused node is never
 * stopped. The instance also supervises the node it started: if its process dies, it is started
 * again, up to 5 times after 1, 2, 4, 8 and 16 s, each attempt logged (the count starts again once
 * the node answers), and the driver's sessions reconnect by themselves.
 *
 * <p>JMX is not enabled (no port 7199 is opened), so several nodes and tools never fight over it.
 *
 * <p>From a shell, with the server's classpath: {@code java ... LocalCassandraNode start} starts
 * (or reuses) a node, waits until it answers CQL, leaves it running in the background and exits;
 * {@code stop} stops the node recorded in the pid file of the data directory (SIGTERM: it drains,
 * as other JVMs may use it); {@code run} starts a node and keeps it until the command is
 * interrupted (Ctrl-C or SIGTERM). Settings come from {@link StorageSettings#from} ({@code
 * watchparty.cassandra.local.*}, environment variables included).
 */
public final class LocalCassandraNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalCassandraNode.class);

  static final String HOST = "127.0.0.1";
  static final String MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon";
  static final Path DEFAULT_JAVA_HOME = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
  static final List<Path> DEFAULT_JARS =
      List.of(Path.of("server/local-cassandra/target/lib"), Path.of("local-cassandra/target/lib"));

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);
  private static final int LOG_TAIL_LINES = 20;
  private static final Path SETSID = Path.of("/usr/bin/setsid");
  private static final int MAX_RESTARTS = 5;
  private static final Backoff RESTARTS =
      Backoff.doubling(Duration.ofSeconds(1), Duration.ofSeconds(30));

  // The --add-exports/--add-opens of conf/jvm17-server.options (Cassandra 5.0): without them the
  // node fails at start on JDK 17's strong encapsulation.
  private static final List<String> JDK17_MODULE_FLAGS =
      List.of(
          "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports=java.sql/java.sql=ALL-UNNAMED",
          "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
          "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
          "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED");

  // One launch at a time per JVM; the lock file does the same across JVMs (a FileLock cannot be
  // taken twice by one JVM).
  private static final ReentrantLock LAUNCH = new ReentrantLock();

  private final InetSocketAddress address;
  private final LocalNodeSettings settings;
  private final boolean startedHere;
  private final boolean stopOnClose;
  private final Path pidFile;
  private final Optional<Thread> shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);

  /** How long the shutdown hook leaves the node to an owner that stops it in its own order. */
  private volatile Duration ownerGrace = Duration.ZERO;

  /** Restarts a node it started that died; empty for reused and detached nodes. */
  private final Optional<ScheduledExecutorService> supervisor;

  /** The node's current process: replaced by each restart, empty for a reused node. */
  private volatile Optional<Process> process;

  /**
   * Restart attempts since the node last answered CQL. Touched by one thread at a time: an exit
   * callback schedules the next attempt, which the supervisor runs, and which registers the next
   * exit callback.
   */
  private int failedRestarts;

  private LocalCassandraNode(
      InetSocketAddress address,
      LocalNodeSettings settings,
      Optional<Process> process,
      boolean stopOnClose) {
    this.address = address;
    this.settings = settings;
    this.process = process;
    this.startedHere = process.isPresent();
    this.stopOnClose = stopOnClose;
    this.pidFile = pidFile(settings.directory());
    this.shutdownHook =
        stopOnClose
            ? Optional.of(new Thread(this::stopAtExit, "local-cassandra-shutdown"))
            : Optional.empty();
    shutdownHook.ifPresent(Runtime.getRuntime()::addShutdownHook);
    this.supervisor =
        stopOnClose
            ? Optional.of(
                Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("local-cassandra-supervisor").daemon().factory()))
            : Optional.empty();
    // A detached node is not this instance's to restart: its stop by `stop` is no crash.
    supervisor.ifPresent(s -> process.ifPresent(this::watch));
  }

  /**
   * Reuses the Cassandra that answers CQL on 127.0.0.1 at {@code settings.port()}, or starts a node
   * and waits until it answers.
   *
   * @throws StorageException when the port is taken by something else, JDK 17 or the jars are
   *     missing, the directory is not writable, or the node dies or does not answer in time
   */
  public static LocalCassandraNode start(LocalNodeSettings settings) {
    return start(settings, false);
  }

  /**
   * Stops the node recorded in the pid file of {@code settings.directory()}, waiting until it has
   * exited.
   *
   * @return false when no node of that directory was running
   */
  public static boolean stopRecorded(LocalNodeSettings settings) {
    Path pidFile = pidFile(settings.directory());
    Optional<ProcessHandle> node = recordedNode(settings.directory());
    node.ifPresent(LocalCassandraNode::stop);
    deleteQuietly(pidFile);
    return node.isPresent();
  }

  /** Where the node answers CQL. */
  public InetSocketAddress address() {
    return address;
  }

  /** True when this instance started the node, false when it reused one that was running. */
  public boolean startedHere() {
    return startedHere;
  }

  /** The node's process id when this instance started it. */
  public OptionalLong pid() {
    return process.map(p -> OptionalLong.of(p.pid())).orElseGet(OptionalLong::empty);
  }

  /**
   * Stops the node if this instance started it, at once and without losing a write it acknowledged
   * (see {@link #kill}), and with it the supervision.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || !stopOnClose) {
      return;
    }
    // Interrupts a restart in progress, which then stops the process it launched.
    supervisor.ifPresent(ExecutorService::shutdownNow);
    shutdownHook.ifPresent(
        hook -> {
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or about to: it stops the node as well.
          }
        });
    stopProcess();
  }

  /**
   * The JVM ends. All shutdown hooks run at once, so an owner that stops the node itself, after its
   * own work that still needs Cassandra ({@link #leaveStopToOwner}), gets that long to do so; a JVM
   * that ends without closing the node still never leaves it behind.
   */
  private void stopAtExit() {
    try {
      if (stopped.await(ownerGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    supervisor.ifPresent(ExecutorService::shutdownNow);
    stopProcess();
  }

  /**
   * At JVM exit, waits up to {@code grace} for {@link #close} before the shutdown hook stops the
   * node itself: for a server whose own shutdown hook drains its clients and flushes its writes
   * first, then closes this node.
   */
  void leaveStopToOwner(Duration grace) {
    ownerGrace = grace;
  }

  private void stopProcess() {
    process.ifPresent(
        p -> {
          kill(p.toHandle());
          if (readPid(pidFile).equals(OptionalLong.of(p.pid()))) {
            deleteQuietly(pidFile);
          }
        });
    stopped.countDown();
  }

  /** Restarts the node when its process exits unless this instance closed it, or the JVM ends. */
  private void watch(Process started) {
    started
        .onExit()
        .thenAccept(
            exited -> {
              if (closed.get() || shuttingDown()) {
                return;
              }
              LOG.warn(
                  "The local Cassandra node (pid {}) exited with code {}",
                  exited.pid(),
                  exited.exitValue());
              scheduleRestart();
            });
  }

  /** Hands the next restart attempt to the supervisor, after a backoff; gives up after a few. */
  private void scheduleRestart() {
    if (failedRestarts >= MAX_RESTARTS) {
      LOG.error(
          "The local Cassandra node did not come back after {} restarts: storage stays unavailable"
              + " until the server is restarted (see {})",
          MAX_RESTARTS,
          settings.directory().resolve("logs").resolve("system.log"));
      return;
    }
    failedRestarts++;
    Duration delay = restartDelay(failedRestarts);
    LOG.warn(
        "Restarting the local Cassandra node in {} ms (attempt {} of {})",
        delay.toMillis(),
        failedRestarts,
        MAX_RESTARTS);
    try {
      supervisor.orElseThrow().schedule(this::restart, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closedMeanwhile) {
      // close() ended the supervision: nothing to restart.
    }
  }

  /**
   * 1 s, 2 s, 4 s, ... at most 30 s: a node that dies at once is not restarted in a loop. The
   * ceiling of the project's backoff, without jitter: one node has nobody to spread out from.
   */
  static Duration restartDelay(int attempt) {
    return Duration.ofMillis(RESTARTS.ceilingMs(attempt - 1));
  }

  private void restart() {
    try {
      Optional<Process> launched = launchUnlessRunning(address, settings);
      if (launched.isEmpty()) {
        // Another JVM started a node on the port meanwhile: use it, and leave it to its owner.
        LOG.info(
            "A Cassandra node answers CQL on {}:{} again: reusing it", HOST, address.getPort());
        process = Optional.empty();
        return;
      }
      process = launched;
      if (closed.get()) {
        kill(launched.get().toHandle()); // close() ran while this attempt was starting the node
        return;
      }
      LOG.info("The local Cassandra node is back (pid {})", launched.get().pid());
      failedRestarts = 0;
      watch(launched.get());
    } catch (StorageException e) {
      if (closed.get()) {
        return;
      }
      LOG.warn("Restart attempt {} failed: {}", failedRestarts, e.getMessage());
      scheduleRestart();
    }
  }

  /**
   * {@code start}: start or reuse a node in the background and exit; {@code stop}: stop the node of
   * the data directory; {@code run}: start a node and keep it (restarted if it dies) until
   * interrupted.
   */
  public static void main(String[] args) {
    if (args.length != 1 || !List.of("start", "stop", "run").contains(args[0])) {
      System.err.println("usage: LocalCassandraNode start|stop|run");
      System.exit(2);
    }
    try {
      LocalNodeSettings settings = StorageSettings.from(Config.create()).local();
      switch (args[0]) {
        case "start" -> {
          LocalCassandraNode node = start(settings, true);
          System.out.println(describe(node, settings) + ", running in the background.");
        }
        case "stop" ->
            System.out.println(
                stopRecorded(settings)
                    ? "Stopped the local Cassandra node of " + settings.directory() + "."
                    : "No local Cassandra node of " + settings.directory() + " was running.");
        default -> run(settings);
      }
    } catch (StorageException | IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }

  private static void run(LocalNodeSettings settings) {
    LocalCassandraNode node = start(settings, false);
    // A node that dies is restarted by the supervision, as under a server.
    System.out.println(describe(node, settings) + "; Ctrl-C stops it.");
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }

  private static String describe(LocalCassandraNode node, LocalNodeSettings settings) {
    return node.startedHere()
        ? "Started Cassandra on %s:%d (pid %d, data in %s)"
            .formatted(HOST, settings.port(), node.pid().orElseThrow(), settings.directory())
        : "Cassandra already answers on %s:%d (reused)".formatted(HOST, settings.port());
  }

  static LocalCassandraNode start(LocalNodeSettings settings, boolean detached) {
    InetSocketAddress address = new InetSocketAddress(HOST, settings.port());
    Optional<Process> launched = launchUnlessRunning(address, settings);
    if (launched.isEmpty()) {
      LOG.info("Reusing the Cassandra node that answers CQL on {}:{}", HOST, settings.port());
    }
    return new LocalCassandraNode(address, settings, launched, launched.isPresent() && !detached);
  }

  /** Launches a node and waits until it answers, unless a Cassandra answers already (empty). */
  private static Optional<Process> launchUnlessRunning(
      InetSocketAddress address, LocalNodeSettings settings) {
    if (answers(address, settings)) {
      return Optional.empty();
    }
    Path directory = prepareDirectory(settings.directory());
    LAUNCH.lock();
    try (FileChannel channel =
        FileChannel.open(
            directory.resolve("launch.lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
      // Held until the channel closes; waits while another JVM is launching.
      channel.lock();
      // Another JVM may have started the node while this one waited for the lock.
      if (answers(address, settings)) {
        return Optional.empty();
      }
      return Optional.of(launch(address, settings));
    } catch (IOException e) {
      throw new StorageException(
          "Cannot lock %s to start the local Cassandra node (%s)."
              .formatted(directory.resolve("launch.lock"), reason(e)),
          e);
    } finally {
      LAUNCH.unlock();
    }
  }

  /** Whether Cassandra answers on the port; throws if something else holds it. */
  private static boolean answers(InetSocketAddress address, LocalNodeSettings settings) {
    return switch (CqlPortProbe.probe(address, PROBE_TIMEOUT)) {
      case CASSANDRA -> true;
      case OTHER ->
          throw new StorageException(
              ("Port %d on %s is in use by a program that is not Cassandra: stop it or set %s to"
                      + " a free port.")
                  .formatted(settings.port(), HOST, settingName(LocalNodeSettings.PORT_KEY)));
      case FREE -> false;
    };
  }

  private static Process launch(InetSocketAddress address, LocalNodeSettings settings) {
    Path directory = settings.directory();
    Optional<ProcessHandle> stray = recordedNode(directory);
    if (stray.isPresent()) {
      throw new StorageException(
          ("A Cassandra node (pid %d) already runs on %s but does not answer CQL on %s:%d: it may"
                  + " use another port; stop it with `LocalCassandraNode stop` or kill it.")
              .formatted(stray.get().pid(), directory, HOST, settings.port()));
    }
    Path javaHome = findJavaHome(settings);
    Path jars = findJars(settings);
    checkStoragePortFree(settings);
    writeConfiguration(settings);

    List<String> command = new ArrayList<>();
    if (Files.isExecutable(SETSID)) {
      // Its own session: a Ctrl-C or hang-up in the terminal does not reach it. A detached node
      // outlives `start`; an attached one is stopped by its owner, after the owner's own drain.
      command.add(SETSID.toString());
    }
    command.addAll(command(javaHome, jars, settings));
    Path consoleLog = directory.resolve("logs").resolve("console.log");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectErrorStream(true)
            .redirectOutput(consoleLog.toFile());
    // Options meant for the server's JDK must not reach JDK 17.
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("JAVA_TOOL_OPTIONS");

    LOG.info(
        "Starting a local Cassandra node on {}:{} with {} (data and logs in {})",
        HOST,
        settings.port(),
        javaHome,
        directory);
    long startedAt = System.nanoTime();
    Process process;
    try {
      process = builder.start();
      process.getOutputStream().close();
      Files.writeString(pidFile(directory), Long.toString(process.pid()));
    } catch (IOException e) {
      throw new StorageException(
          "Cannot start the local Cassandra node with %s (%s)."
              .formatted(javaHome.resolve("bin/java"), reason(e)),
          e);
    }
    try {
      awaitCql(address, process, settings, consoleLog);
    } catch (RuntimeException e) {
      stop(process.toHandle());
      deleteQuietly(pidFile(directory));
      throw e;
    }
    LOG.info(
        "The local Cassandra node (pid {}) answered CQL after {} s",
        process.pid(),
        String.format("%.1f", (System.nanoTime() - startedAt) / 1e9));
    return process;
  }

  /** The JVM command line of the node, without any {@code setsid} prefix. */
  static List<String> command(Path javaHome, Path jars, LocalNodeSettings settings) {
    Path directory = settings.directory();
    Path conf = directory.resolve("conf");
    List<String> command = new ArrayList<>();
    command.add(javaHome.resolve("bin").resolve("java").toString());
    command.addAll(
        List.of(
            "-Xms" + settings.heap(),
            "-Xmx" + settings.heap(),
            // From Cassandra's jvm-server.options / jvm17-server.options.
            "-Xss256k",
            "-XX:+UseG1GC",
            "-XX:+ParallelRefProcEnabled",
            "-XX:MaxTenuringThreshold=1",
            "-XX:MaxGCPauseMillis=300",
            "-XX:+PerfDisableSharedMem",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.net.preferIPv4Stack=true",
            "-Djdk.attach.allowAttachSelf=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Dio.netty.allocator.useCacheForAllThreads=true",
            "-Dio.netty.allocator.maxOrder=11"));
    command.addAll(JDK17_MODULE_FLAGS);
    // Lets Cassandra measure object sizes with instrumentation, as its own start script does.
    findJar(jars, "jamm-").ifPresent(jamm -> command.add("-javaagent:" + jamm));
    command.addAll(
        List.of(
            "-Dcassandra-foreground=yes",
            "-Dcassandra.config=" + conf.resolve("cassandra.yaml").toUri(),
            "-Dcassandra.storagedir=" + directory,
            "-Dcassandra.logdir=" + directory.resolve("logs"),
            "-Dlogback.configurationFile=" + conf.resolve("logback.xml"),
            // A lone node has no peers to wait for: this saves most of its start time.
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            // Nor peers to tell that it stops, or to hand messages to: without these, its stop
            // waits 2 s for the shutdown announcement and 2 s for messaging to quiesce.
            "-Dcassandra.shutdown_announce_in_ms=0",
            "-Dcassandra.test.messagingService.nonGracefulShutdown=true",
            "-cp",
            conf + java.io.File.pathSeparator + jars.resolve("*"),
            MAIN_CLASS));
    return command;
  }

  private static void awaitCql(
      InetSocketAddress address, Process process, LocalNodeSettings settings, Path consoleLog) {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    try {
      while (System.nanoTime() < deadline) {
        // Waits for the poll interval, or less when the node exits.
        if (process.waitFor(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new StorageException(
              "The local Cassandra node exited with code %d while starting; the end of %s:%n%s"
                  .formatted(process.exitValue(), consoleLog, tail(consoleLog, settings)));
        }
        if (CqlPortProbe.probe(address, PROBE_TIMEOUT) == PortState.CASSANDRA) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StorageException("Interrupted while waiting for the local Cassandra node.", e);
    }
    throw new StorageException(
        ("The local Cassandra node did not answer CQL on %s:%d within %d s and was stopped: see %s,"
                + " or raise %s.")
            .formatted(
                HOST,
                settings.port(),
                settings.timeout().toSeconds(),
                settings.directory().resolve("logs").resolve("system.log"),
                settingName(LocalNodeSettings.TIMEOUT_KEY)));
  }

  private static Path prepareDirectory(Path directory) {
    try {
      for (String sub : List.of("conf", "logs", "data")) {
        Files.createDirectories(directory.resolve(sub));
      }
      if (!Files.isWritable(directory)) {
        throw new IOException("permission denied");
      }
    } catch (IOException e) {
      throw new StorageException(
          "The Cassandra data directory %s is not writable (%s): choose another with %s."
              .formatted(directory, reason(e), settingName(LocalNodeSettings.DIRECTORY_KEY)),
          e);
    }
    return directory;
  }

  static Path findJavaHome(LocalNodeSettings settings) {
    List<Path> candidates = new ArrayList<>();
    settings.javaHome().ifPresent(candidates::add);
    if (candidates.isEmpty()) {
      candidates.add(DEFAULT_JAVA_HOME);
      candidates.addAll(otherJdk17Homes());
    }
    for (Path home : candidates) {
      if (Files.isExecutable(home.resolve("bin").resolve("java"))) {
        Optional<String> version = javaVersion(home);
        if (version.isEmpty() || version.get().equals("17") || version.get().startsWith("17.")) {
          return home;
        }
        if (settings.javaHome().isPresent()) {
          throw new StorageException(
              ("%s is Java %s, but the local Cassandra node (5.0) needs Java 17: set %s or"
                      + " JAVA17_HOME to a JDK 17 home.")
                  .formatted(home, version.get(), settingName(LocalNodeSettings.JAVA_KEY)));
        }
      }
    }
    throw new StorageException(
        ("No JDK 17 for the local Cassandra node in %s: install one (apt-get install"
                + " openjdk-17-jdk-headless) or set %s or JAVA17_HOME to its home.")
            .formatted(joined(candidates), settingName(LocalNodeSettings.JAVA_KEY)));
  }

  static Path findJars(LocalNodeSettings settings) {
    List<Path> candidates =
        settings.jars().map(List::of).orElse(DEFAULT_JARS).stream()
            .map(p -> p.toAbsolutePath().normalize())
            .toList();
    for (Path dir : candidates) {
      if (findJar(dir, "cassandra-all-").isPresent()) {
        return dir;
      }
    }
    throw new StorageException(
        ("The Cassandra jars are not in %s: run `mvn -B package -pl server/local-cassandra` in the"
                + " project root, or set %s to the directory that holds cassandra-all-*.jar.")
            .formatted(joined(candidates), settingName(LocalNodeSettings.JARS_KEY)));
  }

  private static void checkStoragePortFree(LocalNodeSettings settings) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(HOST, settings.storagePort()));
    } catch (IOException e) {
      throw new StorageException(
          ("Port %d on %s, the local Cassandra node's storage port, is in use: stop the program"
                  + " using it or set %s to a free port.")
              .formatted(
                  settings.storagePort(), HOST, settingName(LocalNodeSettings.STORAGE_PORT_KEY)),
          e);
    }
  }

  private static void writeConfiguration(LocalNodeSettings settings) {
    Path directory = settings.directory();
    Path conf = directory.resolve("conf");
    // Single-quoted YAML scalars escape a quote by doubling it.
    String yamlDirectory = directory.toString().replace("'", "''");
    String yaml =
        resource("cassandra/cassandra.yaml")
            .replace("@DIRECTORY@", yamlDirectory)
            .replace("@NATIVE_PORT@", Integer.toString(settings.port()))
            .replace("@STORAGE_PORT@", Integer.toString(settings.storagePort()));
    String logback =
        resource("cassandra/logback.xml")
            .replace("@LOG_DIR@", xmlEscape(directory.resolve("logs").toString()));
    try {
      Files.writeString(conf.resolve("cassandra.yaml"), yaml);
      Files.writeString(conf.resolve("logback.xml"), logback);
    } catch (IOException e) {
      throw new StorageException(
          "Cannot write the local Cassandra node's configuration to %s (%s)."
              .formatted(conf, reason(e)),
          e);
    }
  }

  private static String resource(String name) {
    try (InputStream in = LocalCassandraNode.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the server's classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The node recorded in the pid file of {@code directory}, if that process still runs it. */
  private static Optional<ProcessHandle> recordedNode(Path directory) {
    OptionalLong pid = readPid(pidFile(directory));
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    // The pid may have been reused by an unrelated process since: check its command line.
    String storageDir = "-Dcassandra.storagedir=" + directory;
    return ProcessHandle.of(pid.getAsLong())
        .filter(ProcessHandle::isAlive)
        .filter(
            h ->
                h.info()
                    .commandLine()
                    .map(line -> line.contains(MAIN_CLASS) && line.contains(storageDir))
                    .orElse(false));
  }

  /**
   * Ends a node this instance started at once (SIGKILL), without losing anything it acknowledged:
   * it acknowledges a write only once its commit log segment is on disk ({@code commitlog_sync:
   * group}) and replays that log at its next start. Its own stop on SIGTERM (a drain) flushes every
   * memtable first, which is no more than a head start for the next start: it made a stop with
   * clients connected take 1.5-3 s here, and once hung until the 60 s kill.
   */
  private static void kill(ProcessHandle node) {
    if (!node.isAlive()) {
      return;
    }
    LOG.info(
        "Stopping the local Cassandra node (pid {}): its commit log on disk holds every write it"
            + " acknowledged, replayed at its next start",
        node.pid());
    node.destroyForcibly();
    try {
      node.onExit().get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("The local Cassandra node (pid {}) is still running 10 s after SIGKILL", node.pid());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Stops a node that may not be this instance's alone (a detached one, or one that did not start
   * in time) the way Cassandra's own tools do: SIGTERM, so it drains, then a kill after 60 s.
   */
  private static void stop(ProcessHandle node) {
    if (!node.isAlive()) {
      return;
    }
    LOG.info("Stopping the local Cassandra node (pid {})", node.pid());
    node.destroy();
    try {
      node.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn(
          "The local Cassandra node (pid {}) ignored SIGTERM for 60 s: killing it", node.pid());
      node.destroyForcibly();
      try {
        node.onExit().get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException | ExecutionException | TimeoutException ignored) {
        // Nothing more can be done to a process that survives SIGKILL.
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      node.destroyForcibly();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path pidFile(Path directory) {
    return directory.resolve("cassandra.pid");
  }

  private static OptionalLong readPid(Path pidFile) {
    try {
      return OptionalLong.of(Long.parseLong(Files.readString(pidFile).strip()));
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static String tail(Path consoleLog, LocalNodeSettings settings) {
    String tail = lastLines(consoleLog);
    // Errors raised before logging was set up only reach the console; others may only be here.
    return tail.isBlank()
        ? lastLines(settings.directory().resolve("logs").resolve("system.log"))
        : tail;
  }

  private static String lastLines(Path file) {
    try {
      List<String> lines =
          new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
      return String.join(
          System.lineSeparator(),
          lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  private static Optional<Path> findJar(Path dir, String prefix) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(dir, prefix + "*.jar")) {
      var found = jars.iterator();
      return found.hasNext() ? Optional.of(found.next()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static List<Path> otherJdk17Homes() {
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return List.of();
    }
    try (Stream<Path> homes = Files.list(jvms)) {
      return homes
          .filter(p -> p.getFileName().toString().contains("17"))
          .filter(p -> !p.equals(DEFAULT_JAVA_HOME))
          .sorted()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The JAVA_VERSION of the JDK's {@code release} file, such as {@code 17.0.12}. */
  private static Optional<String> javaVersion(Path home) {
    try (Stream<String> lines = Files.lines(home.resolve("release"))) {
      return lines
          .filter(line -> line.startsWith("JAVA_VERSION="))
          .map(line -> line.substring("JAVA_VERSION=".length()).replace("\"", "").strip())
          .findFirst();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  private static String settingName(String key) {
    return StorageSettings.describe(key);
  }

  private static String joined(List<Path> paths) {
    return String.join(", ", paths.stream().map(Path::toString).toList());
  }

  private static String reason(IOException e) {
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private static String xmlEscape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&apos;");
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.debug("Cannot delete {}", file, e);
    }
  }
}
