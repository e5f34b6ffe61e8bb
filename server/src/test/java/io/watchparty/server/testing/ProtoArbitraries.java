package io.watchparty.server.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * jqwik arbitraries for any protobuf message type, read from its descriptor: each field set or left
 * unset, with jqwik's generators for the field's kind (their edge cases included: 0, -1, the
 * extremes, NaN and the infinities, empty and non-ASCII strings), enums with numbers no version
 * knows, repeated fields from empty to long, nested messages to a bounded depth; and, on the wire,
 * the message's bytes mutated as a fuzzer would: bits flipped, cut short, bytes that are not UTF-8
 * where a string was, unknown fields appended, or no message at all.
 */
public final class ProtoArbitraries {
  private static final int MAX_DEPTH = 3;

  private ProtoArbitraries() {}

  /** Messages of {@code prototype}'s type. */
  @SuppressWarnings("unchecked")
  public static <M extends Message> Arbitrary<M> messages(M prototype) {
    return (Arbitrary<M>) messages(prototype, MAX_DEPTH);
  }

  /** The serialized bytes of such messages, often mutated into what no client should send. */
  public static Arbitrary<byte[]> requestBytes(Message prototype) {
    Arbitrary<byte[]> valid = messages(prototype).map(Message::toByteArray);
    return Arbitraries.frequencyOf(
        Tuple.of(4, valid),
        Tuple.of(2, valid.flatMap(ProtoArbitraries::bitFlipped)),
        Tuple.of(1, valid.flatMap(ProtoArbitraries::cutShort)),
        Tuple.of(1, valid.map(ProtoArbitraries::withUnknownField)),
        Tuple.of(1, valid.map(ProtoArbitraries::withStringNotUtf8)),
        Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(256)));
  }

  private static Arbitrary<Message> messages(Message prototype, int depth) {
    List<FieldDescriptor> fields = prototype.getDescriptorForType().getFields();
    List<Arbitrary<Optional<Object>>> values = new ArrayList<>();
    for (FieldDescriptor field : fields) {
      values.add(
          Arbitraries.frequencyOf(
              Tuple.of(1, unset()), Tuple.of(1, value(prototype, field, depth))));
    }
    if (values.isEmpty()) {
      return Arbitraries.just(prototype);
    }
    return Combinators.combine(values)
        .as(
            chosen -> {
              Message.Builder builder = prototype.newBuilderForType();
              for (int i = 0; i < fields.size(); i++) {
                FieldDescriptor field = fields.get(i);
                chosen
                    .get(i)
                    .ifPresent(
                        value -> {
                          if (field.isRepeated()) {
                            ((List<?>) value).forEach(v -> builder.addRepeatedField(field, v));
                          } else {
                            builder.setField(field, value);
                          }
                        });
              }
              return builder.build();
            });
  }

  private static Arbitrary<Optional<Object>> unset() {
    return Arbitraries.just(Optional.empty());
  }

  private static Arbitrary<Optional<Object>> value(
      Message prototype, FieldDescriptor field, int depth) {
    Arbitrary<Object> value;
    if (!field.isRepeated()) {
      value = single(prototype, field, depth, false);
    } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      value = single(prototype, field, depth, true).list().ofMaxSize(4).map(Function.identity());
    } else {
      // Now and then a list far longer than any client sends (of short values: bounded bytes).
      Arbitrary<Object> one = single(prototype, field, depth, true);
      value =
          Arbitraries.frequencyOf(
                  Tuple.of(8, one.list().ofMaxSize(4)), Tuple.of(1, one.list().ofSize(1_500)))
              .map(Function.identity());
    }
    return value.map(Optional::of);
  }

  /** One value of the field's kind; {@code small}: no string longer than a few dozen chars. */
  private static Arbitrary<Object> single(
      Message prototype, FieldDescriptor field, int depth, boolean small) {
    Arbitrary<?> value =
        switch (field.getJavaType()) {
          case INT -> Arbitraries.integers();
          case LONG -> Arbitraries.longs();
          case FLOAT ->
              Arbitraries.oneOf(
                  Arbitraries.floats(),
                  Arbitraries.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY));
          case DOUBLE ->
              Arbitraries.oneOf(
                  Arbitraries.doubles(),
                  Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
          case BOOLEAN -> Arbitraries.of(true, false);
          case STRING -> strings(small);
          case BYTE_STRING ->
              Arbitraries.bytes().array(byte[].class).ofMaxSize(64).map(ByteString::copyFrom);
          case ENUM ->
              Arbitraries.integers()
                  .between(-2, field.getEnumType().getValues().size() + 2)
                  .map(n -> field.getEnumType().findValueByNumberCreatingIfUnknown(n));
          case MESSAGE -> {
            Message nested = prototype.newBuilderForType().newBuilderForField(field).build();
            yield depth == 0 ? Arbitraries.just(nested) : messages(nested, depth - 1);
          }
        };
    return value.map(Function.identity());
  }

  /** Any characters, or id-like ones (more likely to pass the first checks), or very many. */
  private static Arbitrary<String> strings(boolean small) {
    Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(40);
    Arbitrary<String> idLike =
        Arbitraries.strings().alpha().numeric().withChars("-_").ofMaxLength(40);
    if (small) {
      return Arbitraries.oneOf(any, idLike);
    }
    return Arbitraries.frequencyOf(
        Tuple.of(6, any),
        Tuple.of(3, idLike),
        Tuple.of(1, Arbitraries.strings().all().ofMinLength(4_000).ofMaxLength(70_000)));
  }

  private static Arbitrary<byte[]> bitFlipped(byte[] bytes) {
    if (bytes.length == 0) {
      return Arbitraries.just(bytes);
    }
    return Arbitraries.integers()
        .between(0, bytes.length * 8 - 1)
        .map(
            bit -> {
              byte[] flipped = bytes.clone();
              flipped[bit / 8] ^= (byte) (1 << (bit % 8));
              return flipped;
            });
  }

  private static Arbitrary<byte[]> cutShort(byte[] bytes) {
    if (bytes.length == 0) {
      return Arbitraries.just(bytes);
    }
    return Arbitraries.integers()
        .between(0, bytes.length - 1)
        .map(length -> java.util.Arrays.copyOf(bytes, length));
  }

  /** Field 1,000 (no message here has one) as a length-delimited value. */
  private static byte[] withUnknownField(byte[] bytes) {
    byte[] unknown = {(byte) 0xC2, 0x3E, 0x03, 'x', 'y', 'z'};
    byte[] out = java.util.Arrays.copyOf(bytes, bytes.length + unknown.length);
    System.arraycopy(unknown, 0, out, bytes.length, unknown.length);
    return out;
  }

  /** Field 1 as a string of bytes that are not UTF-8 (field 1 is a string in most requests). */
  private static byte[] withStringNotUtf8(byte[] bytes) {
    byte[] notUtf8 = {0x0A, 0x04, 'c', 'a', 'f', (byte) 0xC3};
    byte[] out = java.util.Arrays.copyOf(notUtf8, notUtf8.length + bytes.length);
    System.arraycopy(bytes, 0, out, notUtf8.length, bytes.length);
    return out;
  }
}
