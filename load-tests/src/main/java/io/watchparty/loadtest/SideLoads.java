package io.watchparty.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * What a run does besides the steady fan-out of the hosts' commands and the chat: churn (viewers
 * joining and leaving during the measured window), reaction bursts, and slow viewers. Zero counts
 * turn each off.
 *
 * @param churnRate viewers joining per second during the window, each a new user who leaves {@code
 *     churnStayMs} after joining (with a Leave, as a viewer who quits the party)
 * @param churnStayMs how long each churning viewer stays
 * @param reactionBursts bursts of reactions, spread evenly over the window (platform only: the bare
 *     baseline has no reactions)
 * @param reactors viewers who react in each burst (the first ones, spread over the rooms)
 * @param reactionsEach reactions each reactor sends at once in a burst
 * @param reactionLimitRate the server's per-user reaction rate ({@code
 *     watchparty.chat.reactionrate}, default 5), for the refusals the limiter is expected to make
 * @param reactionLimitBurst the server's per-user reaction burst ({@code
 *     watchparty.chat.reactionburst}, default 10)
 * @param slow viewers that read at a bounded rate, each on a connection of its own
 * @param slowReadMs the pause of a slow viewer after each message before it asks for the next
 * @param slowWindowKb the HTTP/2 flow-control window of a slow viewer's connection
 */
record SideLoads(
    double churnRate,
    long churnStayMs,
    int reactionBursts,
    int reactors,
    int reactionsEach,
    double reactionLimitRate,
    int reactionLimitBurst,
    int slow,
    long slowReadMs,
    int slowWindowKb) {

  static final SideLoads NONE = new SideLoads(0, 1_000, 0, 0, 1, 5, 10, 0, 10, 64);

  /** The same without reactions, which the bare baseline does not have. */
  SideLoads forBaseline() {
    return new SideLoads(
        churnRate,
        churnStayMs,
        0,
        0,
        reactionsEach,
        reactionLimitRate,
        reactionLimitBurst,
        slow,
        slowReadMs,
        slowWindowKb);
  }

  /** The churning viewers of a window of {@code windowMillis}. */
  int churners(long windowMillis) {
    return (int) Math.floor(churnRate * windowMillis / 1000.0);
  }

  /** The generator's options for them (a picocli mixin of {@link PartyLoad}). */
  static final class Options {
    @Option(
        names = "--churn-rate",
        defaultValue = "0",
        description =
            "viewers joining per second during the measured window, each a new user who leaves"
                + " after --churn-stay-ms (0 to 1000; at most 50000 in all)")
    double churnRate;

    @Option(
        names = "--churn-stay-ms",
        defaultValue = "1000",
        description = "how long each churning viewer stays (100 to 60000)")
    long churnStayMs;

    @Option(
        names = "--reaction-bursts",
        defaultValue = "0",
        description =
            "bursts of reactions spread over the measured window (platform only; max 100)")
    int reactionBursts;

    @Option(
        names = "--reactors",
        defaultValue = "100",
        description = "viewers who react in each burst (at most --viewers)")
    int reactors;

    @Option(
        names = "--reactions-each",
        defaultValue = "1",
        description =
            "reactions each reactor sends at once per burst (1 to 100; max 20000 a burst)")
    int reactionsEach;

    @Option(
        names = "--reaction-limit",
        defaultValue = "5/10",
        description =
            "the server's per-user reaction rate/burst (watchparty.chat.reactionrate and"
                + " reactionburst), for the refusals expected")
    String reactionLimit;

    @Option(
        names = "--slow",
        defaultValue = "0",
        description = "viewers that read at a bounded rate, each on its own connection (max 200)")
    int slow;

    @Option(
        names = "--slow-read-ms",
        defaultValue = "10",
        description =
            "a slow viewer's pause after each message before it asks for the next (1 to 10000)")
    long slowReadMs;

    @Option(
        names = "--slow-window-kb",
        defaultValue = "64",
        description = "HTTP/2 flow-control window of a slow viewer's connection (1 to 1024)")
    int slowWindowKb;

    SideLoads plan(CommandLine line, int viewers, long windowMillis) {
      String[] limit = reactionLimit.split("/", -1);
      double rate;
      int burst;
      try {
        rate = Double.parseDouble(limit[0]);
        burst = limit.length == 2 ? Integer.parseInt(limit[1]) : -1;
      } catch (NumberFormatException e) {
        rate = -1;
        burst = -1;
      }
      if (!(rate > 0) || burst < 1) {
        throw new CommandLine.ParameterException(
            line, "--reaction-limit must be RATE/BURST, e.g. 5/10, got " + reactionLimit);
      }
      var plan =
          new SideLoads(
              churnRate,
              churnStayMs,
              reactionBursts,
              reactionBursts > 0 ? reactors : 0,
              reactionsEach,
              rate,
              burst,
              slow,
              slowReadMs,
              slowWindowKb);
      if (churnRate < 0
          || churnRate > 1_000
          || plan.churners(windowMillis) > 50_000
          || churnStayMs < 100
          || churnStayMs > 60_000
          || reactionBursts < 0
          || reactionBursts > 100
          || (reactionBursts > 0 && (reactors < 1 || reactors > viewers))
          || reactionsEach < 1
          || reactionsEach > 100
          || (long) plan.reactors() * reactionsEach > 20_000
          || slow < 0
          || slow > 200
          || slowReadMs < 1
          || slowReadMs > 10_000
          || slowWindowKb < 1
          || slowWindowKb > 1_024) {
        throw new CommandLine.ParameterException(
            line, "a churn, reaction or slow-viewer option is out of range (see --help)");
      }
      return plan;
    }
  }
}
