package io.watchparty.server.store;

import io.watchparty.proto.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a local Cassandra node runs with: a JDK 17 home (Cassandra 5.0 does not start on newer JDKs)
 * and the directory of the jars collected by the {@code server/local-cassandra} module.
 *
 * @param javaHome a JDK 17 home
 * @param jars the directory holding {@code cassandra-all-*.jar} and its dependencies
 */
record NodeInstallation(Path javaHome, Path jars) {

  static final Path DEFAULT_JAVA_HOME = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
  static final List<Path> DEFAULT_JARS =
      List.of(Path.of("server/local-cassandra/target/lib"), Path.of("local-cassandra/target/lib"));

  /**
   * The JDK and jars the settings name, or the usual places when they name none.
   *
   * @throws StorageException when no JDK 17 or no Cassandra jars are found; the message says where
   *     it looked and which setting to use
   */
  static NodeInstallation find(LocalNodeSettings settings) {
    return new NodeInstallation(findJavaHome(settings), findJars(settings));
  }

  /** The first jar of the directory whose name starts with {@code prefix}. */
  Optional<Path> jar(String prefix) {
    return findJar(jars, prefix);
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
                  .formatted(home, version.get(), Settings.describe(LocalNodeSettings.JAVA_KEY)));
        }
      }
    }
    throw new StorageException(
        ("No JDK 17 for the local Cassandra node in %s: install one (apt-get install"
                + " openjdk-17-jdk-headless) or set %s or JAVA17_HOME to its home.")
            .formatted(joined(candidates), Settings.describe(LocalNodeSettings.JAVA_KEY)));
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
            .formatted(joined(candidates), Settings.describe(LocalNodeSettings.JARS_KEY)));
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

  private static String joined(List<Path> paths) {
    return String.join(", ", paths.stream().map(Path::toString).toList());
  }
}
