// Signing in: a demo user (with their region and subscription) or a bearer token brought from an
// identity provider. The session itself is an HttpOnly cookie this page never sees.
import { api, explain, regionName } from './api.js';
import { el, clear } from './dom.js';

export async function currentAccount() {
  try {
    return await api.get('/api/session');
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

/** Renders the sign-in choices into `container`; resolves with the Account once signed in. */
export function signIn(container, heading = 'Sign in') {
  return new Promise((resolve) => {
    clear(container);
    const status = el('p', { className: 'error', role: 'alert' });
    const list = el('div', { className: 'users' });
    const done = async (body) => {
      status.textContent = '';
      try {
        resolve(await api.post('/api/session', body));
      } catch (error) {
        status.textContent = error.reason === 'TOKEN_INVALID' || error.reason === 'TOKEN_EXPIRED'
          ? 'That token was not accepted (invalid or expired).'
          : explain(error);
      }
    };
    const token = el('input', { type: 'password', id: 'token', placeholder: 'Bearer token (JWT)', autocomplete: 'off', spellcheck: false });
    const form = el('form', { className: 'token' },
      el('label', { htmlFor: 'token', className: 'sr-only' }, 'Bearer token'),
      token,
      el('button', { type: 'submit' }, 'Sign in with token'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (token.value.trim()) done({ token: token.value.trim() });
    });
    container.append(
      el('h2', {}, heading),
      el('p', { className: 'muted' }, 'Pick a demo account. Each has a home region, which decides the films it may watch.'),
      list,
      el('p', { className: 'muted divider' }, 'Or bring your own token'),
      form,
      status);

    api
      .get('/api/demo-users')
      .then(({ users }) => {
        for (const user of users) {
          const button = el('button', { type: 'button', className: 'user', dataset: { user: user.userId } },
            el('span', { className: 'avatar', ariaHidden: 'true' }, user.displayName.slice(0, 1).toUpperCase()),
            el('span', { className: 'user-text' },
              el('strong', {}, user.displayName),
              el('span', { className: 'region' }, regionName(user.region)),
              el('span', { className: user.subscribed ? 'badge ok' : 'badge no' },
                user.subscribed ? 'subscribed' : 'no subscription')));
          button.addEventListener('click', () => done({ demoUser: user.userId }));
          list.append(button);
        }
        list.querySelector('button')?.focus();
      })
      .catch((error) => {
        list.append(el('p', { className: 'muted' }, error.reason === 'DEMO_TOKENS_DISABLED'
          ? 'There are no demo accounts on this server: sign in with a token.'
          : explain(error)));
      });
  });
}

export async function signOut() {
  await api.del('/api/session');
}
