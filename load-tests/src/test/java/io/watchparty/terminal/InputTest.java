package io.watchparty.terminal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class InputTest {
  @Test
  void parsesEveryCommand() {
    assertThat(Input.parse("play")).isEqualTo(new Input.Play());
    assertThat(Input.parse("  PAUSE ")).isEqualTo(new Input.Pause());
    assertThat(Input.parse("seek 61.5")).isEqualTo(new Input.Seek(61_500));
    assertThat(Input.parse("rate 1.5")).isEqualTo(new Input.Rate(1.5));
    assertThat(Input.parse("say hello  there")).isEqualTo(new Input.Say("hello  there"));
    assertThat(Input.parse("react 🍿")).isEqualTo(new Input.React("🍿"));
    assertThat(Input.parse("kick bob")).isEqualTo(new Input.Kick("bob"));
    assertThat(Input.parse("ban bob")).isEqualTo(new Input.Ban("bob"));
    assertThat(Input.parse("cohost bob")).isEqualTo(new Input.Cohost("bob"));
    assertThat(Input.parse("leave")).isEqualTo(new Input.Leave());
    assertThat(Input.parse("quit")).isEqualTo(new Input.Quit());
    assertThat(Input.parse("help")).isEqualTo(new Input.Help());
    assertThat(Input.parse("   ")).isEqualTo(new Input.Nothing());
  }

  @Test
  void seekTakesSecondsNotMilliseconds() {
    assertThat(Input.parse("seek 60")).isEqualTo(new Input.Seek(60_000));
  }

  @Test
  void missingArgumentsNameWhatIsNeeded() {
    assertThatThrownBy(() -> Input.parse("seek"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("seek needs a position in seconds");
    assertThatThrownBy(() -> Input.parse("say")).hasMessage("say needs a message");
    assertThatThrownBy(() -> Input.parse("kick")).hasMessage("kick needs a user id");
  }

  @Test
  void badValuesAreNamed() {
    assertThatThrownBy(() -> Input.parse("seek soon"))
        .hasMessage("seek needs a position in seconds, got 'soon'");
    assertThatThrownBy(() -> Input.parse("rate -1"))
        .hasMessage("rate needs a rate such as 1.5, got '-1'");
    assertThatThrownBy(() -> Input.parse("kick bob carol"))
        .hasMessage("kick needs one word, a user id, got 'bob carol'");
    assertThatThrownBy(() -> Input.parse("play now"))
        .hasMessage("play takes no argument, got 'now'");
  }

  @Test
  void unknownCommandListsTheCommands() {
    assertThatThrownBy(() -> Input.parse("dance"))
        .hasMessageStartingWith("unknown command 'dance'; commands: play | pause");
  }
}
