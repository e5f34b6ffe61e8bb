// Signing in: the demo users (with their region and subscription) or a bearer token. The session
// itself is an HttpOnly cookie the page never sees.
import { api, explain } from './api.js';
import { el, clear } from './dom.js';

export async function currentAccount() {
  try {
    return await api.get('/api/session');
  } catch (error) {
    if (error.reason === 'NOT_SIGNED_IN' || error.status === 401) return null;
    throw error;
  }
}

/** Renders the sign-in choices into `container`; resolves with the account once signed in. */
export function signIn(container) {
  return new Promise((resolve) => {
    clear(container);
    const status = el('p', { className: 'error', role: 'alert' });
    const list = el('div', { className: 'users' });
    container.append(el('h2', {}, 'Sign in'), list, status);
    const done = async (body) => {
      try {
        resolve(await api.post('/api/session', body));
      } catch (error) {
        status.textContent = explain(error);
      }
    };
    api
      .get('/api/demo-users')
      .then(({ users }) => {
        for (const user of users) {
          const button = el(
            'button',
            { className: 'user', type: 'button', dataset: { user: user.userId } },
            el('strong', {}, user.displayName),
            el('span', { className: 'region' }, user.region),
            el('span', { className: user.subscribed ? 'badge ok' : 'badge no' },
              user.subscribed ? 'subscribed' : 'no subscription'),
          );
          button.addEventListener('click', () => done({ demoUser: user.userId }));
          list.append(button);
        }
      })
      .catch((error) => {
        list.append(el('p', { className: 'muted' }, error.reason === 'DEMO_TOKENS_DISABLED'
          ? 'Demo users are off on this server.' : explain(error)));
      });
    const token = el('input', { type: 'password', placeholder: 'or paste a bearer token', autocomplete: 'off' });
    const form = el('form', { className: 'token' }, token, el('button', { type: 'submit' }, 'Sign in'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (token.value.trim()) done({ token: token.value.trim() });
    });
    container.append(form);
  });
}

export async function signOut() {
  await api.del('/api/session');
}
