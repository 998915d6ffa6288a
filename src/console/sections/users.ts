/**
 * Users and roles (admin only): who may do what — admin (everything), integrator (repositories,
 * tasks, mappings, conflicts), analyst (transform preview, reading runs and conflicts), viewer
 * (dashboard and log). A user without roles cannot sign in, nor can a disabled one. Admins may
 * disable and delete users, but never themselves and never the last enabled admin. And every
 * user's own account page, to change their password.
 */
import type { Router } from 'express';
import { hashPassword, verifyPassword } from '../../auth/passwords.js';
import { ROLES, type Role } from '../../auth/users.js';
import { SluiceError } from '../../errors.js';
import { formatTimestamp } from '../../s3xml/timestamps.js';
import type { UserRecord } from '../../store/store.js';
import { badge, postButton, table, time } from '../components.js';
import { action, field, fieldList, page, render, requiredField, type ConsoleEnv } from '../context.js';
import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from '../layout.js';

const ROLE_NOTES: Record<Role, string> = {
  admin: 'everything, including users and settings',
  integrator: 'repositories, tasks, schedules, mappings, conflicts, Sync Now',
  analyst: 'transform preview; reads runs and conflicts',
  viewer: 'dashboard and sync log',
};

const USERNAME = /^[^\s:]{1,128}$/;
const MIN_PASSWORD = 10;

function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD) {
    throw new SluiceError('WEAK_PASSWORD', `A password needs at least ${MIN_PASSWORD} characters`, { status: 400, fix: 'Use a longer passphrase' });
  }
  return password;
}

function rolesFrom(values: string[]): Role[] {
  return ROLES.filter((role) => values.includes(role));
}

function roleChecks(selected: readonly string[], prefix: string): Html {
  return html`<fieldset class="checks"><legend>Roles</legend>${ROLES.map(
    (role) => html`<label title="${ROLE_NOTES[role]}"><input type="checkbox" name="roles" value="${role}" id="${prefix}-${role}"${selected.includes(role) ? html` checked` : ''}> ${role}</label>`,
  )}</fieldset>`;
}

function userPath(username: string, rest = ''): string {
  return `/console/users/${encodeURIComponent(username)}${rest}`;
}

/** Disable and delete, for anyone but the admin looking at the page. */
function userActions(ctx: PageContext, user: UserRecord): Html {
  if (user.username === ctx.user.username) return html`<p class="muted small">This is you: another administrator can disable or delete this account.</p>`;
  return html`<p class="buttons">${
    user.disabled
      ? postButton(ctx, userPath(user.username, '/enable'), 'Enable')
      : postButton(ctx, userPath(user.username, '/disable'), 'Disable', { confirm: `Disable ${user.username}? They are signed out everywhere and cannot sign in until enabled again.` })
  } ${postButton(ctx, userPath(user.username, '/delete'), 'Delete', { className: 'danger', confirm: `Delete ${user.username} for good?` })}</p>`;
}

function userRow(ctx: PageContext, user: UserRecord): Html {
  const id = `user-${user.username.replace(/[^A-Za-z0-9]/g, '_')}`;
  return html`<tr id="${id}">
  <td><strong>${user.username}</strong>${user.disabled ? html` ${badge('disabled')}` : ''}</td>
  <td>${user.roles.join(', ') || html`<span class="muted">none (cannot sign in)</span>`}</td>
  <td>${time(user.created_at)}</td>
  <td><details><summary>Change</summary>
    <form method="post" action="${userPath(user.username)}" class="card">${csrfField(ctx)}
      ${roleChecks(user.roles, id)}
      <label>New password <input name="password" type="password" autocomplete="new-password" placeholder="unchanged"></label>
      <button type="submit" class="primary">Save</button>
    </form>
    ${userActions(ctx, user)}
  </details></td>
</tr>`;
}

/**
 * Refuses to disable or delete oneself, or the last enabled admin: someone must always be able to
 * sign in and manage users.
 */
async function checkMayRemove(env: ConsoleEnv, target: UserRecord, actor: UserRecord, what: 'disable' | 'delete'): Promise<void> {
  if (target.username === actor.username) {
    throw new SluiceError('USER_IS_SELF', `You cannot ${what} your own account`, { status: 400, fix: 'Let another administrator do it' });
  }
  if (target.roles.includes('admin') && !target.disabled) {
    const admins = (await env.store.listUsers()).filter((user) => user.roles.includes('admin') && !user.disabled);
    if (admins.length <= 1) {
      throw new SluiceError('LAST_ADMIN', `${target.username} is the last enabled administrator`, { status: 400, fix: 'Give another user the admin role first' });
    }
  }
}

async function existingUser(env: ConsoleEnv, username: string): Promise<UserRecord> {
  const user = await env.store.getUser(username);
  if (!user) throw new SluiceError('USER_NOT_FOUND', `There is no user ${username}`, { status: 404, fix: 'Reload the list of users' });
  return user;
}

export function registerUsers(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/users',
    page(env, ['admin'], async (req, res, ctx) => {
      const users = await env.store.listUsers();
      render(req, res, ctx, {
        title: 'Users and roles',
        body: html`${table(['User', 'Roles', 'Since', ''], users.map((user) => userRow(ctx, user)))}
<section>
  <h2>Add a user</h2>
  <form method="post" action="/console/users" class="card">${csrfField(ctx)}
    <label>User name <input name="username" required autocomplete="off" placeholder="name@example.org"></label>
    <label>Password <input name="password" type="password" required minlength="${MIN_PASSWORD}" autocomplete="new-password"></label>
    ${roleChecks(['viewer'], 'new')}
    <button type="submit" class="primary">Add user</button>
  </form>
</section>
<section><h2>Roles</h2>
${html`<dl class="facts">${ROLES.map((role) => html`<dt>${role}</dt><dd>${ROLE_NOTES[role]}</dd>`)}</dl>`}
<p class="muted small">Peers use the same accounts with HTTP Basic: an Eden peer that pushes needs integrator.</p></section>`,
      });
    }),
  );

  router.post(
    '/console/users',
    action(env, ['admin'], async (req) => {
      const username = requiredField(req, 'username', 'the user name');
      if (!USERNAME.test(username)) throw new SluiceError('BAD_USERNAME', 'A user name has no spaces or colons', { status: 400 });
      if (await env.store.getUser(username)) throw new SluiceError('USER_EXISTS', `There is already a user ${username}`, { status: 409, fix: 'Change that user instead' });
      const roles = rolesFrom(fieldList(req, 'roles'));
      await env.store.putUser({
        username,
        passwordHash: await hashPassword(checkPassword(field(req, 'password') ?? '')),
        roles,
        created_at: formatTimestamp(env.clock.now()),
      });
      return { to: '/console/users', flash: { kind: 'ok', message: `Added ${username} (${roles.join(', ') || 'no roles'}).` } };
    }),
  );

  router.post(
    '/console/users/:username',
    action(env, ['admin'], async (req, user) => {
      const username = String(req.params.username);
      const existing = await env.store.getUser(username);
      if (!existing) throw new SluiceError('USER_NOT_FOUND', `There is no user ${username}`, { status: 404 });
      const roles = rolesFrom(fieldList(req, 'roles'));
      if (username === user.username && !roles.includes('admin')) {
        throw new SluiceError('LAST_ADMIN', 'You cannot take the admin role from yourself', { status: 400, fix: 'Let another administrator do it' });
      }
      const password = field(req, 'password') ?? '';
      const passwordHash = password === '' ? existing.passwordHash : await hashPassword(checkPassword(password));
      await env.store.putUser({ ...existing, roles, passwordHash });
      // Remembered credentials and open sessions must not outlive a changed password or lost roles.
      env.authenticator.forget();
      if (password !== '' || roles.length < existing.roles.length) await env.sessions.destroyUser(username, req.consoleSession?.id);
      return { to: '/console/users', flash: { kind: 'ok', message: `Saved ${username}: ${roles.join(', ') || 'no roles'}${password ? ', new password' : ''}.` } };
    }),
  );

  router.post(
    '/console/users/:username/disable',
    action(env, ['admin'], async (req, actor) => {
      const target = await existingUser(env, String(req.params.username));
      await checkMayRemove(env, target, actor, 'disable');
      await env.store.putUser({ ...target, disabled: true });
      env.authenticator.forget();
      const ended = await env.sessions.destroyUser(target.username);
      return { to: '/console/users', flash: { kind: 'ok', message: `Disabled ${target.username}${ended ? ` and ended ${ended} session${ended === 1 ? '' : 's'}` : ''}.` } };
    }, '/console/users'),
  );

  router.post(
    '/console/users/:username/enable',
    action(env, ['admin'], async (req) => {
      const target = await existingUser(env, String(req.params.username));
      const { disabled: _disabled, ...enabled } = target;
      await env.store.putUser(enabled);
      return { to: '/console/users', flash: { kind: 'ok', message: `Enabled ${target.username}.` } };
    }, '/console/users'),
  );

  router.post(
    '/console/users/:username/delete',
    action(env, ['admin'], async (req, actor) => {
      const target = await existingUser(env, String(req.params.username));
      await checkMayRemove(env, target, actor, 'delete');
      await env.store.deleteUser(target.username);
      env.authenticator.forget();
      await env.sessions.destroyUser(target.username);
      return { to: '/console/users', flash: { kind: 'ok', message: `Deleted ${target.username}.` } };
    }, '/console/users'),
  );

  router.get(
    '/console/account',
    page(env, [], (req, res, ctx) => {
      render(req, res, ctx, {
        title: 'Your account',
        body: html`<p>Signed in as <strong>${ctx.user.username}</strong> with the roles ${ctx.user.roles.join(', ')}.</p>
<form method="post" action="/console/account/password" class="card">${csrfField(ctx)}
  <label>Current password <input name="current" type="password" required autocomplete="current-password"></label>
  <label>New password <input name="password" type="password" required minlength="${MIN_PASSWORD}" autocomplete="new-password"></label>
  <button type="submit" class="primary">Change password</button>
</form>`,
      });
    }),
  );

  router.post(
    '/console/account/password',
    action(env, [], async (req, user) => {
      if (!(await verifyPassword(field(req, 'current') ?? '', user.passwordHash))) {
        throw new SluiceError('WRONG_PASSWORD', 'The current password is wrong', { status: 400 });
      }
      await env.store.putUser({ ...user, passwordHash: await hashPassword(checkPassword(field(req, 'password') ?? '')) });
      env.authenticator.forget();
      await env.sessions.destroyUser(user.username, req.consoleSession?.id);
      return { to: '/console/account', flash: { kind: 'ok', message: 'Password changed; your other sessions were signed out.' } };
    }),
  );
}
