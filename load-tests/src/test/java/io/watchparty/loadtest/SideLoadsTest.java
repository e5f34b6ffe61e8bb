package io.watchparty.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SideLoadsTest {
  private static SideLoads plan(String... args) {
    var load = new PartyLoad();
    var line = new CommandLine(load);
    line.parseArgs(args);
    return load.sideLoads.plan(line, 1_000, 10_000);
  }

  @Test
  void offByDefault() {
    SideLoads plan = plan("--secret", "s");
    assertThat(plan.churnRate()).isZero();
    assertThat(plan.reactionBursts()).isZero();
    assertThat(plan.reactors()).isZero();
    assertThat(plan.slow()).isZero();
    assertThat(plan.reactionLimitRate()).isEqualTo(5);
    assertThat(plan.reactionLimitBurst()).isEqualTo(10);
  }

  @Test
  void churnOverTheWindowAndTheServersReactionLimit() {
    SideLoads plan =
        plan(
            "--secret",
            "s",
            "--churn-rate",
            "150",
            "--reaction-bursts",
            "3",
            "--reactors",
            "40",
            "--reaction-limit",
            "2.5/4");
    assertThat(plan.churners(10_000)).isEqualTo(1_500);
    assertThat(plan.reactors()).isEqualTo(40);
    assertThat(plan.reactionLimitRate()).isEqualTo(2.5);
    assertThat(plan.reactionLimitBurst()).isEqualTo(4);
    assertThat(plan.forBaseline().reactionBursts()).isZero();
    assertThat(plan.forBaseline().churnRate()).isEqualTo(150);
  }

  @Test
  void refusesAMalformedLimitAndOutOfRangeCounts() {
    assertThatThrownBy(() -> plan("--secret", "s", "--reaction-limit", "5"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("RATE/BURST");
    assertThatThrownBy(() -> plan("--secret", "s", "--reaction-bursts", "1", "--reactors", "1001"))
        .isInstanceOf(CommandLine.ParameterException.class);
    assertThatThrownBy(() -> plan("--secret", "s", "--slow", "201"))
        .isInstanceOf(CommandLine.ParameterException.class);
    // 1 000 joins a second for 60 s: more churners than a run may make.
    var load = new PartyLoad();
    var line = new CommandLine(load);
    line.parseArgs("--secret", "s", "--churn-rate", "1000");
    assertThatThrownBy(() -> load.sideLoads.plan(line, 1_000, 60_000))
        .isInstanceOf(CommandLine.ParameterException.class);
  }
}
