package io.watchparty.server.room;

/** What a moderator may do to another user: the rules are the same, the words differ. */
public enum Sanction {
  REMOVE("remove", "removed"),
  MUTE("mute", "muted");

  final String verb;
  final String participle;

  Sanction(String verb, String participle) {
    this.verb = verb;
    this.participle = participle;
  }
}
