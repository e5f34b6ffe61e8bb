package io.watchparty.loadtest;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Leave;
import io.watchparty.proto.v1.ServerMessage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC viewer: a room stream on a shared channel, read as raw frames on the transport thread
 * (the channel has a direct executor), so that each message costs the generator a header decode and
 * a few stores. It checks the room's order as it goes: after its snapshot every frame must carry
 * the next room sequence, except that a later snapshot (a resync) may replace what came before; a
 * skipped sequence is a gap, a repeated or smaller one out of order. It records when each playback
 * event arrived, for latency; a sample of the viewers ({@code timesChat}) also parses chat frames
 * for their send time, since parsing every one would make chat cost the generator more than the
 * server. A reader asks for the next message as soon as it has one, a slow one ({@link
 * #readSlowly}) only a fixed pause after it; a stalled viewer takes its snapshot and then never
 * reads again. Every viewer also adds up the counts of the room's Reactions events (few: one per
 * reaction window), and a churning one ({@link #leave}) leaves the room on purpose.
 *
 * <p>Written only by its call's callbacks, which gRPC runs one at a time. The run's thread reads
 * the volatile {@link #lastSequence()} while it runs, and the rest once it has seen the last
 * sequence it waits for (the volatile read orders the earlier writes) or has cancelled the call.
 */
final class GrpcViewer extends ClientCall.Listener<byte[]> {
  private final ClientCall<ClientMessage, byte[]> call;
  private final PartyRoom room;
  private final boolean reads;
  private final boolean timesChat;
  private final LoadCounters counters;
  private final CountDownLatch joined;
  private final Arrivals playback;

  /** (reactions counted so far, arrival) per Reactions event, in order. */
  private final Arrivals reactions = new Arrivals(8);

  private ScheduledExecutorService slowReads;
  private long readPauseMillis;
  private long startedNanos;
  private long joinedNanos;
  private volatile long reactionTotal;
  private volatile long leftNanos;
  private volatile boolean leaving;
  private volatile long lastSequence = -1;
  private volatile String closedWith = "";
  private volatile boolean cancelled;
  private long snapshotSequence = -1;
  private long gaps;
  private long outOfOrder;
  private int resyncs;

  GrpcViewer(
      Channel channel,
      PartyRoom room,
      boolean reads,
      boolean timesChat,
      LoadCounters counters,
      CountDownLatch joined,
      int expectedEvents) {
    this.call = channel.newCall(Wire.CONNECT, CallOptions.DEFAULT);
    this.room = room;
    this.reads = reads;
    this.timesChat = timesChat;
    this.counters = counters;
    this.joined = joined;
    this.playback = new Arrivals(Math.max(4, expectedEvents));
  }

  /**
   * Makes this reader slow: it asks for the next message {@code pauseMillis} after each one (gRPC's
   * manual inbound flow control), so it reads at a bounded rate. Before {@link #start}.
   */
  void readSlowly(ScheduledExecutorService timer, long pauseMillis) {
    this.slowReads = timer;
    this.readPauseMillis = pauseMillis;
  }

  /** Opens the stream and joins the room; returns at once. */
  void start(Metadata headers) {
    startedNanos = System.nanoTime();
    call.start(this, headers);
    call.request(1);
    call.sendMessage(
        ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(room.roomId())).build());
  }

  /**
   * Leaves the room for good (a Leave, then the end of this side's stream): the server ends the
   * stream with OK once the events queued before the leave are written.
   */
  void leave() {
    leaving = true;
    call.sendMessage(ClientMessage.newBuilder().setLeave(Leave.getDefaultInstance()).build());
    call.halfClose();
  }

  /** Ends the stream from this side; its close is then not counted as an error. */
  void cancel() {
    cancelled = true;
    call.cancel("load test over", null);
  }

  @Override
  public void onMessage(byte[] frame) {
    long now = System.nanoTime();
    counters.deliveries.increment();
    long header = Wire.header(frame);
    long sequence = Wire.sequence(header);
    int kind = Wire.kind(header);
    long last = lastSequence;
    if (kind == Wire.SNAPSHOT) {
      if (snapshotSequence < 0) {
        snapshotSequence = sequence;
        joinedNanos = now;
        joined.countDown();
      } else {
        resyncs++;
        if (sequence < last) {
          outOfOrder++;
        }
      }
      lastSequence = Math.max(last, sequence);
    } else if (sequence > 0) {
      if (last < 0 || sequence <= last) {
        outOfOrder++; // an event before the snapshot, a repeat, or one older than the last
      } else {
        gaps += sequence - last - 1;
        if (kind == Wire.PLAYBACK_CHANGED) {
          playback.add(sequence, now);
          room.checkFrame(sequence, frame);
        } else if (kind == Wire.CHAT && timesChat) {
          chatDelivered(frame, now);
        } else if (kind == Wire.REACTIONS) {
          room.checkFrame(sequence, frame);
          reactionsDelivered(frame, now);
        }
        lastSequence = sequence;
      }
    }
    if (reads) {
      if (slowReads == null) {
        call.request(1);
      } else {
        slowReads.schedule(() -> call.request(1), readPauseMillis, TimeUnit.MILLISECONDS);
      }
    }
  }

  @Override
  public void onClose(Status status, Metadata trailers) {
    if (leaving && status.isOk()) {
      leftNanos = System.nanoTime();
    } else if (!cancelled) {
      closedWith = status.getCode().name();
      counters.error("viewer stream closed by the server: " + status.getCode());
    }
    if (snapshotSequence < 0) {
      joined.countDown(); // never joined: the waiter counts it as a failure, not a hang
    }
  }

  private void chatDelivered(byte[] frame, long now) {
    try {
      ServerMessage message = ServerMessage.parseFrom(frame);
      ChatStamp.sentNanos(message.getChat().getClientMessageId())
          .ifPresent(sent -> counters.recordChatDelivery(now - sent));
    } catch (InvalidProtocolBufferException e) {
      counters.error("unreadable chat frame");
    }
  }

  private void reactionsDelivered(byte[] frame, long now) {
    try {
      for (long n : ServerMessage.parseFrom(frame).getReactions().getCountsMap().values()) {
        reactionTotal += n;
      }
      reactions.add(reactionTotal, now);
    } catch (InvalidProtocolBufferException e) {
      counters.error("unreadable reactions frame");
    }
  }

  PartyRoom room() {
    return room;
  }

  boolean reads() {
    return reads;
  }

  long lastSequence() {
    return lastSequence;
  }

  /** The server ended the stream (its status code), or "" if it did not. */
  String closedWith() {
    return closedWith;
  }

  boolean joinedRoom() {
    return snapshotSequence >= 0;
  }

  long gaps() {
    return gaps;
  }

  long outOfOrder() {
    return outOfOrder;
  }

  int resyncs() {
    return resyncs;
  }

  Arrivals playback() {
    return playback;
  }

  /** Per Reactions event: the reactions counted up to it (as its "sequence") and its arrival. */
  Arrivals reactions() {
    return reactions;
  }

  long reactionTotal() {
    return reactionTotal;
  }

  /** From opening the stream to its snapshot, in nanoseconds; -1 if it never joined. */
  long joinNanos() {
    return snapshotSequence >= 0 ? joinedNanos - startedNanos : -1;
  }

  long startedNanos() {
    return startedNanos;
  }

  /** When the server ended the stream with OK after {@link #leave}, or 0. */
  long leftNanos() {
    return leftNanos;
  }
}
