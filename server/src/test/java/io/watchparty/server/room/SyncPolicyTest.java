package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.watchparty.proto.SyncBands;
import io.watchparty.proto.SyncRules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The server refuses exactly the policies the golden vectors refuse ({@code
 * proto/sync-vectors.json}, which the Java client's and the web page's tests run too), and its
 * defaults are the vectors' defaults. The corrections in the vectors are the players' business: the
 * server only sends the policy.
 */
class SyncPolicyTest {
  /** Relative to this module's directory, where Surefire runs the tests. */
  private static final Path VECTORS = Path.of("../proto/sync-vectors.json");

  /** room.proto's field name -> the server setting it comes from (README, watchparty.sync.*). */
  private static final Map<String, String> SETTINGS =
      Map.of(
          "ignore_below_ms", "ignore",
          "seek_above_ms", "seek",
          "nudge_horizon_ms", "horizon",
          "min_nudge", "minnudge",
          "max_nudge", "maxnudge",
          "seek_settle_ms", "settle",
          "check_interval_ms", "check",
          "clock_samples", "samples",
          "clock_refresh_ms", "refresh");

  static Stream<Arguments> policies() {
    return vectors().getAsJsonArray("policies").asList().stream()
        .map(JsonElement::getAsJsonObject)
        .map(c -> Arguments.of(c.get("name").getAsString(), c));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("policies")
  void acceptsExactlyThePoliciesTheVectorsAccept(String name, JsonObject vector) {
    io.watchparty.proto.v1.SyncPolicy policy = parse(vector.getAsJsonObject("policy"));
    if (vector.get("valid").getAsBoolean()) {
      assertThat(of(policy).toProto()).isEqualTo(policy);
    } else {
      String setting = "watchparty.sync." + SETTINGS.get(vector.get("field").getAsString()) + " ";
      assertThatThrownBy(() -> of(policy))
          .as(vector.get("reason").getAsString())
          .isInstanceOf(IllegalArgumentException.class)
          .message()
          .startsWith(setting);
    }
  }

  @Test
  void defaultsAreTheVectorsDefaults() {
    assertThat(SyncBands.DEFAULTS.toProto())
        .isEqualTo(parse(vectors().getAsJsonObject("defaults")));
  }

  /** The policy as the server's settings would set it: a refusal names the setting. */
  private static SyncBands of(io.watchparty.proto.v1.SyncPolicy p) {
    return SyncBands.named(
        SyncRules.Field::settingName,
        p.getIgnoreBelowMs(),
        p.getSeekAboveMs(),
        p.getNudgeHorizonMs(),
        p.getMinNudge(),
        p.getMaxNudge(),
        p.getSeekSettleMs(),
        p.getCheckIntervalMs(),
        p.getClockSamples(),
        p.getClockRefreshMs());
  }

  /** A policy as the vectors write it: proto3 JSON, as the web page receives it. */
  private static io.watchparty.proto.v1.SyncPolicy parse(JsonObject json) {
    var builder = io.watchparty.proto.v1.SyncPolicy.newBuilder();
    try {
      JsonFormat.parser().merge(json.toString(), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("not a SyncPolicy in proto3 JSON: " + json, e);
    }
    return builder.build();
  }

  private static JsonObject vectors() {
    try {
      return JsonParser.parseString(Files.readString(VECTORS)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
