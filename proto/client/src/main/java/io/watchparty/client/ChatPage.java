package io.watchparty.client;

import io.watchparty.proto.v1.ChatMessage;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One page of a room's chat history, newest first. Immutable: safe from any thread.
 *
 * @param messages the messages, newest first
 * @param nextPageToken the token for the next (older) page; empty on the last page
 */
public record ChatPage(List<ChatMessage> messages, Optional<String> nextPageToken) {
  /** Copies the messages; neither part may be null. */
  public ChatPage {
    messages = List.copyOf(messages);
    Objects.requireNonNull(nextPageToken, "nextPageToken");
  }
}
