package io.watchparty.server.rpc;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.room.FanOut;
import io.watchparty.server.room.StreamSink;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The bounded outbound queue of one stream. Producers (the room, the stream's own replies) only
 * enqueue; one drainer at a time writes to the gRPC stream, and only while the transport says it
 * {@linkplain ServerCallStreamObserver#isReady() is ready}, so a slow receiver never makes anyone
 * else wait and never makes the server buffer without limit: past {@code capacity} frames, the room
 * replaces the backlog with a fresh snapshot ({@link #offer} returns false).
 *
 * <p>Room events are queued as their shared {@link FanOut}, which is told once per stream when the
 * server has done its part: the frame is written to the transport, dropped, or waits behind a
 * receiver that flow control says is behind (a stalled or slow viewer's frames wait on the viewer,
 * not on the server, so they end the server-side fan-out time).
 */
final class Outbox implements StreamSink {
  private final ServerCallStreamObserver<byte[]> stream;
  private final Executor drainExecutor;
  private final int capacity;
  private final Consumer<Outbox> ended;
  private final AtomicInteger drainRequests = new AtomicInteger();

  /**
   * Frames: a {@code byte[]}, a room event's {@link FanOut}, or a {@link Reply}. Guarded by itself.
   */
  @GuardedBy("queue")
  private final ArrayDeque<Object> queue = new ArrayDeque<>();

  /** How many frames at the head of the queue have told their {@link FanOut} already. */
  @GuardedBy("queue")
  private int told;

  @GuardedBy("queue")
  private StatusRuntimeException closeWith;

  @GuardedBy("queue")
  private boolean closed;

  @GuardedBy("queue")
  private long resyncs;

  /** How many of the queued frames are replies; they do not count towards the capacity. */
  @GuardedBy("queue")
  private int replies;

  /** An answer to the receiver's own request: a resync keeps it (see {@link #reply}). */
  private record Reply(byte[] frame) {}

  Outbox(ServerCallStreamObserver<byte[]> stream, Executor drainExecutor, int capacity) {
    this(stream, drainExecutor, capacity, outbox -> {});
  }

  /** An outbox that tells {@code ended} once, when its stream has ended from either side. */
  Outbox(
      ServerCallStreamObserver<byte[]> stream,
      Executor drainExecutor,
      int capacity,
      Consumer<Outbox> ended) {
    if (capacity < 2) {
      throw new IllegalArgumentException("outbox capacity must be at least 2, got " + capacity);
    }
    this.stream = stream;
    this.drainExecutor = drainExecutor;
    this.capacity = capacity;
    this.ended = ended;
    stream.setOnReadyHandler(this::scheduleDrain);
  }

  @Override
  public boolean offer(byte[] frame) {
    return enqueue(frame);
  }

  /**
   * A room event is written at once by the publishing thread when nobody is draining this stream,
   * nothing waits before it and the transport is ready: the usual case, and no task per stream per
   * event (handing each frame to a writer thread cost about a fifth of the server's CPU per
   * delivery at 10,000 streams). Otherwise it is queued as any frame is.
   */
  @Override
  public boolean offer(FanOut event) {
    if (!drainRequests.compareAndSet(0, 1)) {
      return enqueue(event); // a drainer is at work or due: it writes this frame after the others
    }
    // This thread holds the drainer's role now: nobody else writes to the stream meanwhile.
    synchronized (queue) {
      if (closeWith != null || closed) {
        handedOver(event);
        releaseDrainer();
        return true; // as enqueue: closing, nothing more will be written
      }
      if (!queue.isEmpty() || !stream.isReady()) {
        if (queue.size() - replies >= capacity) {
          handedOver(event);
          releaseDrainer();
          return false;
        }
        queue.add(event);
        drainExecutor.execute(this::drain); // the drainer's role goes with the task
        return true;
      }
    }
    try {
      stream.onNext(event.frame());
    } catch (RuntimeException cancelled) {
      abandon(); // the call was cancelled meanwhile; the cancel handler removes this subscriber
    } finally {
      event.handedOver();
    }
    releaseDrainer();
    return true;
  }

  /** Gives up the drainer's role taken by {@link #offer(FanOut)}; a drain asked meanwhile runs. */
  private void releaseDrainer() {
    if (drainRequests.decrementAndGet() != 0) {
      drainExecutor.execute(this::drain);
    }
  }

  private boolean enqueue(Object frame) {
    synchronized (queue) {
      if (closeWith != null || closed) {
        handedOver(frame);
        return true; // closing: nothing more will be written, and there is no backlog to repair
      }
      if (queue.size() - replies >= capacity) {
        handedOver(frame);
        return false;
      }
      queue.add(frame);
    }
    scheduleDrain();
    return true;
  }

  /**
   * Queues an answer to the receiver's request. Replies have a capacity of their own, beside the
   * frames': a receiver that sends that many requests without reading one answer is ended (a client
   * that reads keeps it nearly empty).
   */
  @Override
  public void reply(byte[] frame) {
    synchronized (queue) {
      if (closeWith != null || closed) {
        return;
      }
      if (replies >= capacity) {
        closeWith =
            ErrorMapper.toStatusException(
                new RefusedException(
                    ErrorReason.RATE_LIMITED,
                    capacity + " answers to this stream's requests wait unread: read them first"));
        dropQueued();
      } else {
        queue.add(new Reply(frame));
        replies++;
      }
    }
    scheduleDrain();
  }

  /** A frame leaves the queue (written or dropped): a room event's fan-out counts this stream. */
  private static void handedOver(Object frame) {
    if (frame instanceof FanOut event) {
      event.handedOver();
    }
  }

  @GuardedBy("queue")
  private void dropQueued() {
    tellWaiting();
    queue.clear();
    told = 0;
    replies = 0;
  }

  /** Tells every queued event that has not been told yet: it is up to the receiver now. */
  @GuardedBy("queue")
  private void tellWaiting() {
    if (told < queue.size()) {
      var frames = queue.iterator();
      for (int i = 0; i < told; i++) {
        frames.next();
      }
      frames.forEachRemaining(Outbox::handedOver);
      told = queue.size();
    }
  }

  @Override
  public void resetTo(byte[] snapshotFrame) {
    synchronized (queue) {
      // The snapshot stands for the events and notices dropped, not for the answers kept.
      tellWaiting();
      queue.removeIf(frame -> !(frame instanceof Reply));
      told = queue.size(); // replies have no fan-out to tell
      queue.add(snapshotFrame);
      resyncs++;
    }
    scheduleDrain();
  }

  /** Ends the stream with OK once the frames already queued are written. */
  @Override
  public void finish() {
    close(Status.OK.asRuntimeException());
  }

  /**
   * Ends the stream at once with the refusal's status and ErrorInfo: the backlog is dropped, and
   * the status goes out even to a receiver that has stopped reading, since trailers are not held
   * back by flow control.
   */
  @Override
  public void refuse(RefusedException refusal) {
    close(ErrorMapper.toStatusException(refusal));
  }

  /**
   * Ends the stream. With OK, once the frames already queued are written (a leaving member still
   * gets the events before its leave). Otherwise at once, dropping the backlog.
   */
  void close(StatusRuntimeException status) {
    synchronized (queue) {
      if (closeWith == null && !closed) {
        closeWith = status;
        if (!status.getStatus().isOk()) {
          dropQueued();
        }
      }
    }
    scheduleDrain();
  }

  /** The stream ended from the other side: drop everything. */
  void abandon() {
    boolean wasOpen;
    synchronized (queue) {
      wasOpen = !closed;
      closed = true;
      dropQueued();
    }
    if (wasOpen) {
      ended.accept(this);
    }
  }

  @Override
  public int backlog() {
    synchronized (queue) {
      return queue.size();
    }
  }

  @Override
  public long resyncs() {
    synchronized (queue) {
      return resyncs;
    }
  }

  private void scheduleDrain() {
    if (drainRequests.getAndIncrement() == 0) {
      drainExecutor.execute(this::drain);
    }
  }

  /** Writes while the transport accepts; the only code that touches {@code stream}. */
  private void drain() {
    int requests = drainRequests.get();
    while (true) {
      writeWhileReady();
      requests = drainRequests.addAndGet(-requests);
      if (requests == 0) {
        return;
      }
    }
  }

  private void writeWhileReady() {
    while (true) {
      Object frame;
      boolean toldBefore = false;
      StatusRuntimeException finish = null;
      synchronized (queue) {
        if (closed) {
          return;
        }
        frame = queue.peek();
        if (frame == null) {
          if (closeWith == null) {
            return;
          }
          finish = closeWith;
          closed = true;
        } else if (!stream.isReady()) {
          tellWaiting();
          return; // the onReady handler will schedule the next drain
        } else {
          if (queue.poll() instanceof Reply) {
            replies--;
          }
          if (told > 0) {
            told--;
            toldBefore = true;
          }
        }
      }
      try {
        if (finish != null) {
          try {
            if (finish.getStatus().isOk()) {
              stream.onCompleted();
            } else {
              stream.onError(finish);
            }
          } finally {
            ended.accept(this);
          }
          return;
        }
        try {
          stream.onNext(
              switch (frame) {
                case FanOut event -> event.frame();
                case Reply reply -> reply.frame();
                default -> (byte[]) frame;
              });
        } finally {
          if (!toldBefore) {
            handedOver(frame);
          }
        }
      } catch (RuntimeException cancelled) {
        // The call was cancelled meanwhile; the cancel handler removes this subscriber.
        abandon();
        return;
      }
    }
  }
}
