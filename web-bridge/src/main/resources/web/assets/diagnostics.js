// The sync diagnostics panel: what this player believes and does, in numbers.
import { $ } from './dom.js';
import { clockText } from './controls.js';

const ms = (value, digits = 1) => (value === null || value === undefined ? '–' : `${value.toFixed(digits)} ms`);

export function renderDiagnostics(sync, clock, stream) {
  const video = sync.video;
  $('#diag-clock').textContent = clock.ready
    ? `offset ${ms(clock.offsetMs)} ± ${ms(clock.uncertaintyMs)}`
    : 'estimating…';
  const expected = sync.expectedFilmMs();
  $('#diag-expected').textContent = expected === null
    ? '–'
    : `${clockText(expected)} (${(expected / 1000).toFixed(3)} s; clip ${(video.currentTime).toFixed(3)} s)`;
  $('#diag-error').textContent = sync.errorMs === null ? '–' : `${sync.errorMs > 0 ? '+' : ''}${ms(sync.errorMs)}`;
  $('#diag-correction').textContent = sync.correction;
  $('#diag-rate').textContent = `×${video.playbackRate.toFixed(4)}`;
  $('#diag-seek').textContent = sync.seekLatencyMs === null
    ? 'not measured yet'
    : `${ms(sync.seekLatencyMs, 0)} (${sync.seeksMeasured} ${sync.seeksMeasured === 1 ? 'seek' : 'seeks'}), starts ${ms(sync.startLeadMs)} early`;
  const quality = video.getVideoPlaybackQuality?.();
  $('#diag-frames').textContent = [
    sync.frame ? `${sync.frame.presentedFrames} presented, last at ${sync.frame.mediaTime.toFixed(3)} s` : null,
    quality ? `${quality.droppedVideoFrames} dropped` : null,
  ].filter(Boolean).join(', ') || '–';
  $('#diag-stream').textContent = stream;
}
