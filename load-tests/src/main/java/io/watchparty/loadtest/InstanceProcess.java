package io.watchparty.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One server instance of a local fleet, in a process of its own on a loopback address, as {@code
 * ./watchparty fleet} runs it: what failure tests and takeover runs start, kill ({@code kill -9}),
 * freeze ({@code SIGSTOP}) and wake ({@code SIGCONT}). Its output goes to a log file.
 */
public final class InstanceProcess implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
  private static final Pattern LISTENING = Pattern.compile("gRPC server listening on \\S+:(\\d+)");

  /**
   * What every instance of one fleet shares.
   *
   * @param classpath the server's runtime classpath
   * @param cassandraHosts the ring's contact points, {@code host:port,...}
   * @param keyspace the fleet's keyspace (replication 3)
   * @param secret the fleet's token secret
   * @param jvmOptions extra JVM options (heap, collector)
   * @param logs where each instance's log is written
   * @param environment further settings ({@code WATCHPARTY_...}) for every instance
   */
  public record Fleet(
      String classpath,
      String cassandraHosts,
      String keyspace,
      String secret,
      List<String> jvmOptions,
      Path logs,
      Map<String, String> environment) {
    public Fleet {
      jvmOptions = List.copyOf(jvmOptions);
      environment = Map.copyOf(environment);
    }
  }

  /**
   * Settings for hosts and chatters that act many times a second, as failure tests and load runs do
   * (the default rate limits are sized for people: one chat message a second, say).
   */
  public static final Map<String, String> BUSY_HOSTS =
      Map.of(
          "WATCHPARTY_ROOM_COMMANDRATE", "100",
          "WATCHPARTY_ROOM_COMMANDBURST", "100",
          "WATCHPARTY_CHAT_RATE", "100",
          "WATCHPARTY_CHAT_BURST", "100");

  private final Process process;
  private final String name;
  private final String host;
  private final Path log;
  private volatile String address = "";

  private InstanceProcess(Process process, String name, String host, Path log) {
    this.process = process;
    this.name = name;
    this.host = host;
    this.log = log;
  }

  /**
   * Starts an instance named {@code name} on {@code host} and waits until it listens (on a port the
   * system chose, read from its log: no port is chosen first and bound later, which another process
   * could take meanwhile); fails with its log when it exits first or takes over 3 minutes.
   */
  public static InstanceProcess start(Fleet fleet, String name, String host) {
    return start(fleet, name, host, 0);
  }

  /**
   * Starts an instance on {@code host} and {@code port} ({@code 0}: one the system chooses): a
   * restart on the address its clients and its load balancer know.
   */
  public static InstanceProcess start(Fleet fleet, String name, String host, int port) {
    try {
      InstanceProcess instance = launch(fleet, name, host, port);
      instance.awaitListening();
      return instance;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InstanceProcess launch(Fleet fleet, String name, String host, int port)
      throws IOException {
    Files.createDirectories(fleet.logs());
    Path log = Files.createTempFile(fleet.logs(), name + "-", ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--sun-misc-unsafe-memory-access=allow");
    command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(fleet.jvmOptions());
    command.addAll(List.of("-cp", fleet.classpath(), "io.watchparty.server.Main"));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.put("WATCHPARTY_GRPC_HOST", host);
    env.put("WATCHPARTY_GRPC_PORT", Integer.toString(port));
    env.put("WATCHPARTY_OBSERVE_PORT", "-1");
    env.put("WATCHPARTY_AUTH_DEMO", "true");
    env.put("WATCHPARTY_AUTH_SECRET", fleet.secret());
    env.put("WATCHPARTY_CATALOG_DEMO", "true");
    env.put("WATCHPARTY_CASSANDRA_HOSTS", fleet.cassandraHosts());
    env.put("WATCHPARTY_CASSANDRA_REPLICATION", "3");
    env.put("WATCHPARTY_CASSANDRA_KEYSPACE", fleet.keyspace());
    env.putAll(fleet.environment());
    return new InstanceProcess(builder.start(), name, host, log);
  }

  private void awaitListening() throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + " before listening:\n" + output());
      }
      Matcher listening = LISTENING.matcher(Files.readString(log));
      if (listening.find()) {
        address = host + ":" + listening.group(1);
        return;
      }
      sleep(Duration.ofMillis(200));
    }
    process.destroyForcibly();
    throw new IllegalStateException(
        name + " did not listen within " + START_TIMEOUT + ":\n" + output());
  }

  /** The instance's name (its log file's too). */
  public String name() {
    return name;
  }

  /** The port it listens on. */
  public int port() {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  /** {@code host:port}, as the instance advertises itself to clients and to other instances. */
  public String address() {
    return address;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** What it printed so far. */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(its log " + log + " could not be read: " + e + ")";
    }
  }

  /** {@code kill -9}: the process ends at once, with no handover and no goodbye. */
  public void kill() {
    process.destroyForcibly(); // SIGKILL on Linux
    waitFor(Duration.ofSeconds(30));
  }

  /** SIGTERM: the instance hands its rooms over and stops. */
  public void stop() {
    process.destroy();
    waitFor(Duration.ofMinutes(1));
  }

  /** {@code SIGSTOP}: every thread stops where it is; its sockets stay open. */
  public void freeze() {
    signal("STOP");
  }

  /** {@code SIGCONT} after {@link #freeze}. */
  public void wake() {
    signal("CONT");
  }

  private void signal(String name) {
    signal(pid(), name);
  }

  /** Sends the signal {@code name} ("STOP", "CONT") to the process {@code pid}. */
  public static void signal(long pid, String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " still runs after " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Kills the process if it still runs. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly(); // SIGKILL ends a frozen process too
      waitFor(Duration.ofSeconds(30));
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
