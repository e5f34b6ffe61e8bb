package io.watchparty.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.withinPercentage;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.watchparty.proto.SyncBands;
import io.watchparty.proto.v1.SyncPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The client refuses exactly the policies the server refuses and corrects every error as the web
 * page does: both run the golden vectors of {@code proto/sync-vectors.json}, as the server does.
 */
class SyncBandsTest {
  /** Relative to this module's directory (proto/client), where Surefire runs the tests. */
  private static final Path VECTORS_FILE = Path.of("../sync-vectors.json");

  private static final JsonObject VECTORS = load();

  static Stream<Arguments> policies() {
    return cases("policies");
  }

  static Stream<Arguments> corrections() {
    return cases("corrections");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("policies")
  void acceptsExactlyThePoliciesTheServerAccepts(String name, JsonObject vector) {
    SyncPolicy policy = parse(vector.getAsJsonObject("policy"));
    if (vector.get("valid").getAsBoolean()) {
      SyncBands bands = SyncBands.of(policy);
      assertThat(bands.seekAboveMs()).isEqualTo(policy.getSeekAboveMs());
      assertThat(bands.minNudge()).isEqualTo(policy.getMinNudge());
    } else {
      assertThatThrownBy(() -> SyncBands.of(policy))
          .as(vector.get("reason").getAsString())
          .isInstanceOf(IllegalArgumentException.class)
          .message()
          .startsWith(vector.get("field").getAsString() + " ");
    }
  }

  @Test
  void defaultsAreTheVectorsDefaultsAndApplyToAnEmptyPolicy() {
    assertThat(SyncBands.of(parse(VECTORS.getAsJsonObject("defaults"))))
        .isEqualTo(SyncBands.DEFAULTS);
    assertThat(SyncBands.of(SyncPolicy.getDefaultInstance())).isEqualTo(SyncBands.DEFAULTS);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corrections")
  void correctsEachErrorAsTheVectorsSay(String name, JsonObject vector) {
    SyncBands bands = SyncBands.of(parse(namedPolicy(vector.get("policy").getAsString())));
    double error = vector.get("errorMs").getAsDouble();
    double roomRate = vector.get("roomRate").getAsDouble();
    Correction correction =
        switch (vector.get("state").getAsString()) {
          case "playing" -> Correction.forError(error, roomRate, bands);
          case "paused" -> Correction.whilePaused(error);
          case "nudging" -> Correction.whileNudging(error, bands);
          case "trim" -> Correction.trim(error, roomRate, bands);
          default -> throw new IllegalArgumentException("unknown state in " + vector);
        };
    JsonObject expect = vector.getAsJsonObject("expect");
    assertThat(correction.kind().name().toLowerCase(Locale.ROOT))
        .isEqualTo(expect.get("kind").getAsString());
    if (correction.kind() == Correction.Kind.NUDGE) {
      double percent = VECTORS.get("tolerance").getAsDouble() * 100;
      assertThat(correction.rate())
          .isCloseTo(expect.get("rate").getAsDouble(), withinPercentage(percent));
      assertThat(correction.durationMs())
          .isCloseTo(expect.get("durationMs").getAsDouble(), withinPercentage(percent));
    }
  }

  private static JsonObject namedPolicy(String name) {
    return VECTORS.getAsJsonArray("policies").asList().stream()
        .map(JsonElement::getAsJsonObject)
        .filter(c -> c.get("name").getAsString().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no policy named " + name))
        .getAsJsonObject("policy");
  }

  private static Stream<Arguments> cases(String section) {
    return VECTORS.getAsJsonArray(section).asList().stream()
        .map(JsonElement::getAsJsonObject)
        .map(c -> Arguments.of(c.get("name").getAsString(), c));
  }

  /** A policy as the vectors write it: proto3 JSON, as the web page receives it. */
  private static SyncPolicy parse(JsonObject json) {
    var builder = SyncPolicy.newBuilder();
    try {
      JsonFormat.parser().merge(json.toString(), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("not a SyncPolicy in proto3 JSON: " + json, e);
    }
    return builder.build();
  }

  private static JsonObject load() {
    try {
      return JsonParser.parseString(Files.readString(VECTORS_FILE)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
