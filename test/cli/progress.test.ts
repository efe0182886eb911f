/** How long work took and has left, as the progress bars and model cards print it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSeconds } from '../../src/cli/progress.js';

test('durations are rounded before they are split into units (no "1m60s")', () => {
  assert.equal(formatSeconds(0.4), '0s');
  assert.equal(formatSeconds(59.4), '59s');
  assert.equal(formatSeconds(59.6), '1m00s');
  assert.equal(formatSeconds(119.6), '2m00s');
  assert.equal(formatSeconds(125), '2m05s');
  assert.equal(formatSeconds(3599.7), '1h00m');
  assert.equal(formatSeconds(7170), '2h00m');
  assert.equal(formatSeconds(5400), '1h30m');
  assert.equal(formatSeconds(Number.POSITIVE_INFINITY), '--');
});
