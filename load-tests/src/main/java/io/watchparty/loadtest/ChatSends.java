package io.watchparty.loadtest;

import io.watchparty.client.RoomConnection;
import io.watchparty.proto.v1.ChatMessage;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A member sending numbered chat messages through the client library, keeping every answer: what is
 * acknowledged must be in the room's history, once.
 */
final class ChatSends {
  private final RoomConnection member;
  private final String label;
  private final AtomicInteger sent = new AtomicInteger();
  private final List<CompletableFuture<ChatMessage>> answers = new CopyOnWriteArrayList<>();

  ChatSends(RoomConnection member, String label) {
    this.member = member;
    this.label = label;
  }

  /** Sends the next message. */
  void send() {
    answers.add(member.sendChat(label + " " + sent.incrementAndGet()));
  }

  int acknowledged() {
    return (int) answers.stream().filter(a -> a.isDone() && !a.isCompletedExceptionally()).count();
  }

  int failed() {
    return (int) answers.stream().filter(CompletableFuture::isCompletedExceptionally).count();
  }

  /** Why sends failed: each failure's description, with how many failed so. */
  Map<String, Long> failures() {
    return answers.stream()
        .filter(CompletableFuture::isCompletedExceptionally)
        .map(a -> a.exceptionNow().toString())
        .collect(Collectors.groupingBy(reason -> reason, TreeMap::new, Collectors.counting()));
  }

  boolean everyAnswered() {
    return answers.stream().allMatch(CompletableFuture::isDone);
  }

  /** The messages acknowledged so far. */
  List<ChatMessage> acknowledgedMessages() {
    return answers.stream()
        .filter(a -> a.isDone() && !a.isCompletedExceptionally())
        .map(CompletableFuture::join)
        .toList();
  }
}
