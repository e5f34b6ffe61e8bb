// The bridge's JSON API (web-bridge/README.md). Every request that changes state carries the
// page's own header, which another site's page cannot send without a preflight the bridge never
// grants; errors arrive as ApiError with the server's machine-readable reason.

export class ApiError extends Error {
  constructor(status, body, retryAfterHeader) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.reason = body.error || `HTTP_${status}`;
    this.metadata = body.metadata || {};
    // The server's own figure is in milliseconds; Retry-After only in whole seconds.
    const ms = Number(this.metadata.retry_after_ms);
    this.retryAfterMs = Number.isFinite(ms) && ms > 0 ? ms : Number(retryAfterHeader) * 1000 || 0;
  }
}

async function call(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET') {
    init.headers['X-WatchParty-Request'] = '1';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // A proxy's HTML error page, say: the status still says what happened.
  }
  if (!response.ok) throw new ApiError(response.status, json, response.headers.get('Retry-After'));
  return json;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body),
  del: (path) => call('DELETE', path),
};

/** proto3 JSON prints 64-bit integers as strings. */
export const num = (value) => (value === undefined || value === null ? 0 : Number(value));

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** "Japan (JP)" for "JP". */
export function regionName(code) {
  if (!code) return '';
  try {
    return `${regionNames.of(code)} (${code})`;
  } catch {
    return code;
  }
}

const seconds = (ms) => `${Math.ceil(ms / 1000)} s`;

/** A sentence for a person, for the reasons a page meets. */
export function explain(error, context = {}) {
  if (!(error instanceof ApiError)) return 'The connection to WatchParty failed. Try again in a moment.';
  const region = error.metadata.region || context.region;
  switch (error.reason) {
    case 'TITLE_NOT_AVAILABLE_IN_REGION':
      return `This film is not available in your region${region ? ` (${region})` : ''}.`;
    case 'SUBSCRIPTION_INACTIVE':
      return 'Your subscription is not active: renew it to host or join watch parties.';
    case 'BANNED_FROM_ROOM':
      return 'You are banned from this party.';
    case 'KICKED_FROM_ROOM':
      return 'You were removed from this party.';
    case 'INVITE_TOKEN_INVALID':
      return 'This invite link is no longer valid. Ask the host for a new one.';
    case 'ROOM_NOT_FOUND':
      return 'There is no such party, or it is private and this link has no invite.';
    case 'ROOM_CLOSED':
      return 'This party has ended.';
    case 'ROOM_FULL':
      return 'This party is full.';
    case 'NOT_SIGNED_IN':
      return 'Sign in first.';
    case 'NOT_HOST_OR_COHOST':
      return 'Only the host and co-hosts can do that.';
    case 'NOT_HOST':
      return 'Only the host can do that.';
    case 'MUTED':
      return `You are muted for another ${seconds(error.retryAfterMs)}.`;
    case 'SLOW_MODE':
      return `Slow mode is on: you can send again in ${seconds(error.retryAfterMs)}.`;
    case 'RATE_LIMITED':
      return `Too fast: try again in ${seconds(error.retryAfterMs)}.`;
    case 'TOO_MANY_STREAMS':
      return 'WatchParty is busy right now. Try again in a moment.';
    case 'STORAGE_UNAVAILABLE':
      return 'Chat is unavailable right now; playback goes on.';
    default:
      return error.message;
  }
}
