package io.watchparty.terminal;

import java.util.Locale;

/**
 * One line typed into {@code join}: a command for the room, parsed and validated before anything is
 * sent. Immutable values.
 */
sealed interface Input {
  /** What {@code help} and an unknown command print. */
  String USAGE =
      "commands: play | pause | seek <seconds> | rate <r> | say <text> | react <emoji>"
          + " | kick <user> | ban <user> | cohost <user> | leave | quit";

  record Play() implements Input {}

  record Pause() implements Input {}

  /** Seek to {@code positionMs} (typed in seconds, fractions allowed). */
  record Seek(long positionMs) implements Input {}

  record Rate(double rate) implements Input {}

  record Say(String text) implements Input {}

  record React(String emoji) implements Input {}

  record Kick(String userId) implements Input {}

  record Ban(String userId) implements Input {}

  record Cohost(String userId) implements Input {}

  /** Leave the room for good. */
  record Leave() implements Input {}

  /** Exit, keeping the member's place for the server's grace period. */
  record Quit() implements Input {}

  /** Print the command list. */
  record Help() implements Input {}

  /** A blank line: nothing to do. */
  record Nothing() implements Input {}

  /**
   * Parses one line; throws {@link IllegalArgumentException} with a sentence naming what is wrong.
   */
  static Input parse(String line) {
    String trimmed = line.strip();
    if (trimmed.isEmpty()) {
      return new Nothing();
    }
    String[] parts = trimmed.split("\\s+", 2);
    String word = parts[0].toLowerCase(Locale.ROOT);
    String rest = parts.length > 1 ? parts[1].strip() : "";
    return switch (word) {
      case "play" -> none(word, rest, new Play());
      case "pause" -> none(word, rest, new Pause());
      case "leave" -> none(word, rest, new Leave());
      case "quit", "exit" -> none(word, rest, new Quit());
      case "help", "?" -> new Help();
      case "seek" -> new Seek(Math.round(number(word, rest, "a position in seconds") * 1000));
      case "rate" -> new Rate(number(word, rest, "a rate such as 1.5"));
      case "say" -> new Say(text(word, rest, "a message"));
      case "react" -> new React(oneWord(word, rest, "an emoji"));
      case "kick" -> new Kick(oneWord(word, rest, "a user id"));
      case "ban" -> new Ban(oneWord(word, rest, "a user id"));
      case "cohost" -> new Cohost(oneWord(word, rest, "a user id"));
      default -> throw new IllegalArgumentException("unknown command '" + parts[0] + "'; " + USAGE);
    };
  }

  private static Input none(String word, String rest, Input input) {
    if (!rest.isEmpty()) {
      throw new IllegalArgumentException(word + " takes no argument, got '" + rest + "'");
    }
    return input;
  }

  private static String text(String word, String rest, String what) {
    if (rest.isEmpty()) {
      throw new IllegalArgumentException(word + " needs " + what);
    }
    return rest;
  }

  private static String oneWord(String word, String rest, String what) {
    if (text(word, rest, what).contains(" ")) {
      throw new IllegalArgumentException(
          word + " needs one word, " + what + ", got '" + rest + "'");
    }
    return rest;
  }

  private static double number(String word, String rest, String what) {
    try {
      double value = Double.parseDouble(oneWord(word, rest, what));
      if (!Double.isFinite(value) || value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(word + " needs " + what + ", got '" + rest + "'");
    }
  }
}
