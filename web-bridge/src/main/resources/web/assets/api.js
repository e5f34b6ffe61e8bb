// The bridge's JSON API (web-bridge/README.md). Every request that changes state carries the
// page's own header, which another site's page cannot send; errors arrive as ApiError with the
// server's machine-readable reason.

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.reason = body.error || 'HTTP_' + status;
    this.metadata = body.metadata || {};
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
  const json = text ? JSON.parse(text) : {};
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body),
  del: (path) => call('DELETE', path),
};

/** proto3 JSON prints 64-bit integers as strings. */
export const num = (value) => (value === undefined || value === null ? 0 : Number(value));

/** A sentence for a person, for the reasons a page meets most. */
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
    case 'INVITE_TOKEN_INVALID':
      return 'This private party needs a current invite link. Ask the host for a new one.';
    case 'ROOM_NOT_FOUND':
      return 'There is no such party (or it is private and this link has no invite).';
    case 'ROOM_CLOSED':
      return 'This party has ended.';
    case 'NOT_SIGNED_IN':
      return 'Sign in first.';
    default:
      return error.message;
  }
}
