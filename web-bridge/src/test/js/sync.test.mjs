// The page's sync rules (assets/sync.js) against the golden vectors that the server's SyncPolicy
// and the Java client's SyncBands and Correction also run: proto/sync-vectors.json. Maven runs this
// in web-bridge's test phase (node --test); the pure functions it imports need no browser.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  SYNC_DEFAULTS,
  correctionFor,
  nudgingCorrectionFor,
  pausedCorrectionFor,
  syncBands,
  trimFor,
} from '../../main/resources/web/assets/sync.js';

const vectors = JSON.parse(readFileSync(new URL('../../../../proto/sync-vectors.json', import.meta.url), 'utf8'));
const policies = new Map(vectors.policies.map((c) => [c.name, c.policy]));

// The vectors write numbers as proto3 JSON does (int64 as strings, NaN as "NaN").
const number = (value) => Number(value);

test('the defaults are the vectors defaults and apply to a missing or empty policy', () => {
  const expected = Object.fromEntries(Object.entries(vectors.defaults).map(([k, v]) => [k, number(v)]));
  assert.deepEqual({ ...SYNC_DEFAULTS }, expected);
  assert.deepEqual({ ...syncBands(vectors.defaults) }, expected);
  assert.equal(syncBands(undefined), SYNC_DEFAULTS);
  assert.equal(syncBands({}), SYNC_DEFAULTS);
});

for (const c of vectors.policies) {
  test(`policy ${c.name}: ${c.valid ? 'accepted' : `refused, ${c.field}`}`, () => {
    if (c.valid) {
      const bands = syncBands(c.policy);
      for (const [key, value] of Object.entries(c.policy)) assert.equal(bands[key], number(value), key);
    } else {
      assert.throws(() => syncBands(c.policy), (error) => error.message.startsWith(`${c.field} `), c.reason);
    }
  });
}

const decide = {
  playing: (c, bands) => correctionFor(c.errorMs, c.roomRate, bands),
  paused: (c) => pausedCorrectionFor(c.errorMs),
  nudging: (c, bands) => nudgingCorrectionFor(c.errorMs, bands),
  trim: (c, bands) => trimFor(c.errorMs, c.roomRate, bands),
};

const close = (actual, expected) => Math.abs(actual - expected) <= vectors.tolerance * Math.abs(expected);

for (const c of vectors.corrections) {
  test(`correction ${c.state}, ${c.errorMs} ms at x${c.roomRate} (${c.policy}): ${c.name}`, () => {
    assert.ok(decide[c.state], `unknown state ${c.state}`);
    const correction = decide[c.state](c, syncBands(policies.get(c.policy)));
    assert.equal(correction.kind, c.expect.kind);
    if (c.expect.kind === 'nudge') {
      assert.ok(close(correction.rate, c.expect.rate), `rate ${correction.rate}, expected ${c.expect.rate}`);
      assert.ok(
        close(correction.durationMs, c.expect.durationMs),
        `durationMs ${correction.durationMs}, expected ${c.expect.durationMs}`,
      );
    }
  });
}
