package io.watchparty.server.store;

import io.watchparty.proto.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory of one local Cassandra node, kept between runs: its data ({@code data/}, {@code
 * commitlog/}, ...), logs ({@code logs/system.log}, {@code logs/console.log}), generated
 * configuration ({@code conf/}), pid file ({@code cassandra.pid}) and the lock file that lets one
 * JVM at a time launch the node. Several nodes need several directories.
 *
 * @param root the directory, absolute
 */
record NodeDirectory(Path root) {
  private static final Logger LOG = LoggerFactory.getLogger(NodeDirectory.class);
  private static final int LOG_TAIL_LINES = 20;

  /** The directory of the node these settings describe. */
  static NodeDirectory of(LocalNodeSettings settings) {
    return new NodeDirectory(settings.directory());
  }

  /**
   * Creates the directory and its {@code conf}, {@code logs} and {@code data} folders if needed.
   *
   * @throws StorageException when it cannot be created or written
   */
  NodeDirectory prepare() {
    try {
      for (Path sub : List.of(conf(), logs(), root.resolve("data"))) {
        Files.createDirectories(sub);
      }
      if (!Files.isWritable(root)) {
        throw new IOException("permission denied");
      }
    } catch (IOException e) {
      throw new StorageException(
          "The Cassandra data directory %s is not writable (%s): choose another with %s."
              .formatted(root, reason(e), Settings.describe(LocalNodeSettings.DIRECTORY_KEY)),
          e);
    }
    return this;
  }

  Path conf() {
    return root.resolve("conf");
  }

  Path logs() {
    return root.resolve("logs");
  }

  /** What the node's JVM prints: errors from before its logging was set up are only here. */
  Path consoleLog() {
    return logs().resolve("console.log");
  }

  Path systemLog() {
    return logs().resolve("system.log");
  }

  Path launchLock() {
    return root.resolve("launch.lock");
  }

  Path pidFile() {
    return root.resolve("cassandra.pid");
  }

  void recordPid(long pid) throws IOException {
    Files.writeString(pidFile(), Long.toString(pid));
  }

  OptionalLong recordedPid() {
    try {
      return OptionalLong.of(Long.parseLong(Files.readString(pidFile()).strip()));
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** Forgets the recorded pid if it is {@code pid}'s: another process may have replaced it. */
  void forgetPid(long pid) {
    if (recordedPid().equals(OptionalLong.of(pid))) {
      forgetPid();
    }
  }

  void forgetPid() {
    try {
      Files.deleteIfExists(pidFile());
    } catch (IOException e) {
      LOG.debug("Cannot delete {}", pidFile(), e);
    }
  }

  /** The node recorded in the pid file, if that process still runs a node of this directory. */
  Optional<ProcessHandle> recordedNode() {
    OptionalLong pid = recordedPid();
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    // The pid may have been reused by an unrelated process since: check its command line.
    String storageDir = NodeConfiguration.storageDirFlag(root);
    return ProcessHandle.of(pid.getAsLong())
        .filter(ProcessHandle::isAlive)
        .filter(
            h ->
                h.info()
                    .commandLine()
                    .map(
                        line ->
                            line.contains(NodeConfiguration.MAIN_CLASS)
                                && line.contains(storageDir))
                    .orElse(false));
  }

  /** The last lines the node printed, or failing that logged, to explain why it failed. */
  String tail() {
    String tail = lastLines(consoleLog());
    return tail.isBlank() ? lastLines(systemLog()) : tail;
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

  static String reason(IOException e) {
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
