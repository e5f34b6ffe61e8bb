package io.watchparty.loadtest;

import java.util.List;

/**
 * What one run does, the same against the baseline and the platform (SSE tabs only against the
 * platform's bridge and the bare SSE baseline, which serves them as a bridge would).
 *
 * @param rooms public rooms, each with its own host
 * @param viewers gRPC viewers that read, spread round robin over the rooms
 * @param stalled gRPC viewers that take their snapshot and never read again
 * @param channels HTTP/2 connections the gRPC viewers share
 * @param sseViewers SSE tabs through the bridge, spread over the rooms
 * @param warmUpCommands unmeasured commands each host sends first
 * @param commands playback commands each host sends (seek, play, rate, pause, in turn)
 * @param intervalMs between two commands of one host
 * @param chatRate chat messages per second over all rooms, for as long as the commands last
 * @param chatters gRPC viewers that chat, spread over the rooms (0: one per message per second)
 * @param players simulated players on the client library in the first room (platform only)
 * @param titleId the rooms' title: licensed for the synthetic users and the demo users
 * @param sseUsers demo users whose bridge sessions the tabs share
 * @param sseLoops selector threads of the tabs
 * @param connectConcurrency tabs at most between connect and an open stream
 * @param sourceAddresses tabs connect from 127.0.0.1 to 127.0.0.N
 * @param drainSeconds how long to wait, after the last command, for every viewer to have it
 * @param sideLoads churn, reaction bursts and slow viewers during the window
 */
record Scenario(
    int rooms,
    int viewers,
    int stalled,
    int channels,
    int sseViewers,
    int warmUpCommands,
    int commands,
    long intervalMs,
    double chatRate,
    int chatters,
    int players,
    String titleId,
    List<String> sseUsers,
    int sseLoops,
    int connectConcurrency,
    int sourceAddresses,
    int drainSeconds,
    SideLoads sideLoads) {

  /** Chatters actually used: enough that each sends at most one message per second. */
  int effectiveChatters() {
    if (chatRate <= 0) {
      return 0;
    }
    int wanted = chatters > 0 ? chatters : Math.max(rooms, (int) Math.ceil(chatRate));
    return Math.min(wanted, viewers);
  }

  long durationMillis() {
    return commands * intervalMs;
  }
}
