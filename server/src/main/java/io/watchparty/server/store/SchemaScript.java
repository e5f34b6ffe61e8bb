package io.watchparty.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One versioned CQL script of {@code db/schema}, split into statements.
 *
 * <p>Scripts are listed, in the order they apply, in {@code db/schema/index.txt} (a listing of the
 * classpath does not work inside a jar): one file name per line, blank lines and {@code #} comments
 * ignored. A name is {@code V<version>__<description>.cql}, with versions increasing down the list;
 * the first is {@code V001__schema_history.cql}, which creates the table the migrator records
 * applied scripts in.
 *
 * <p>A statement ends with a {@code ;} at the end of a line; lines starting with {@code --} are
 * comments. The checksum covers the statements only, so editing comments or blank lines of an
 * applied script is harmless, while editing a statement is refused by {@link SchemaMigrator}.
 *
 * @param version the number after the {@code V}
 * @param description the words after {@code __}
 * @param fileName the file name, for messages
 * @param statements the CQL statements, without their {@code ;}
 * @param checksum SHA-256 (hex) of the statements
 */
record SchemaScript(
    int version, String description, String fileName, List<String> statements, String checksum) {

  static final String DIRECTORY = "db/schema";
  static final String INDEX = DIRECTORY + "/index.txt";

  private static final Pattern NAME = Pattern.compile("V([0-9]{1,9})__([A-Za-z0-9_]+)\\.cql");

  SchemaScript {
    statements = List.copyOf(statements);
  }

  /** The scripts listed by {@code db/schema/index.txt} on the classpath, in order. */
  static List<SchemaScript> loadAll() {
    String index = read(INDEX).orElseThrow(() -> new IllegalStateException(INDEX + " is missing"));
    return load(index, name -> read(DIRECTORY + "/" + name));
  }

  /**
   * The scripts listed by {@code index}, read with {@code reader} (file name to text).
   *
   * @throws IllegalStateException when the index or a script is malformed: a build mistake
   */
  static List<SchemaScript> load(String index, Function<String, Optional<String>> reader) {
    List<SchemaScript> scripts = new ArrayList<>();
    for (String line : index.lines().map(String::strip).toList()) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String text =
          reader
              .apply(line)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "%s lists %s, which is not in %s".formatted(INDEX, line, DIRECTORY)));
      SchemaScript script = parse(line, text);
      if (!scripts.isEmpty() && script.version() <= scripts.getLast().version()) {
        throw new IllegalStateException(
            "%s lists %s after %s: versions must increase down the list"
                .formatted(INDEX, line, scripts.getLast().fileName()));
      }
      scripts.add(script);
    }
    if (scripts.isEmpty() || scripts.getFirst().version() != 1) {
      throw new IllegalStateException(
          INDEX + " must start with V001__schema_history.cql, which creates the history table");
    }
    return List.copyOf(scripts);
  }

  static SchemaScript parse(String fileName, String text) {
    Matcher name = NAME.matcher(fileName);
    if (!name.matches()) {
      throw new IllegalStateException(
          "Schema script %s is not named V<version>__<description>.cql".formatted(fileName));
    }
    List<String> statements = split(fileName, text);
    return new SchemaScript(
        Integer.parseInt(name.group(1)),
        name.group(2).replace('_', ' '),
        fileName,
        statements,
        checksum(statements));
  }

  /**
   * The statements of a script: each ends with a {@code ;} at the end of a line; blank lines and
   * lines starting with {@code --} are skipped.
   */
  static List<String> split(String fileName, String text) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.lines().toList()) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("--")) {
        continue;
      }
      if (!current.isEmpty()) {
        current.append('\n');
      }
      current.append(line.stripTrailing());
      if (trimmed.endsWith(";")) {
        String statement = current.substring(0, current.length() - 1).strip();
        if (!statement.isEmpty()) {
          statements.add(statement);
        }
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      throw new IllegalStateException(
          "Schema script %s ends with a statement that has no ';' at the end of its last line: %s"
              .formatted(fileName, firstLine(current.toString())));
    }
    return statements;
  }

  static String firstLine(String statement) {
    return statement.lines().findFirst().orElse("").strip();
  }

  private static String checksum(List<String> statements) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      return HexFormat.of()
          .formatHex(
              sha256.digest(String.join(";\n", statements).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static Optional<String> read(String resource) {
    try (InputStream in = SchemaScript.class.getClassLoader().getResourceAsStream(resource)) {
      return in == null
          ? Optional.empty()
          : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
