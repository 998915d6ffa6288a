import { randomBytes, randomUUID } from 'node:crypto';
import { bodyParams, json, type FakeRequest, type FakeResponse } from './http-util.js';
import type { AccessToken, FakeState, FakeUser } from './state.js';

/**
 * `POST /oauth/token` as Laravel Passport 10 (league/oauth2-server 8) answers it: password,
 * refresh_token and client_credentials grants; errors in league's format.
 */

export interface TokenSettings {
  accessLifetimeSeconds: number;
  refreshLifetimeSeconds: number;
}

function leagueError(status: number, error: string, description: string, hint?: string): FakeResponse {
  const body: Record<string, string> = { error, error_description: description };
  if (hint) body.hint = hint;
  body.message = description;
  return json(status, body, status === 401 ? { 'www-authenticate': 'Bearer realm="OAuth"' } : {});
}

const INVALID_REQUEST =
  'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.';

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** An RS256-looking JWT; only the fake reads it, so the signature is random bytes. */
function issueJwt(clientId: string, userId: number | null, scopes: string[], nowSeconds: number, lifetime: number): string {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256' }));
  const payload = base64url(
    JSON.stringify({
      aud: clientId,
      jti: randomBytes(40).toString('hex'),
      iat: nowSeconds,
      nbf: nowSeconds,
      exp: nowSeconds + lifetime,
      sub: userId === null ? '' : String(userId),
      scopes,
    }),
  );
  return `${header}.${payload}.${base64url(randomBytes(64))}`;
}

function issueTokens(
  state: FakeState,
  settings: TokenSettings,
  clientId: string,
  user: FakeUser | null,
  scopes: string[],
): FakeResponse {
  const now = state.nowSeconds();
  const access: AccessToken = {
    token: issueJwt(clientId, user?.id ?? null, scopes, now, settings.accessLifetimeSeconds),
    userId: user?.id ?? null,
    clientId,
    scopes,
    expiresAt: state.now() + settings.accessLifetimeSeconds * 1000,
    revoked: false,
  };
  state.accessTokens.set(access.token, access);
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    expires_in: settings.accessLifetimeSeconds,
    access_token: access.token,
  };
  if (user) {
    const refresh = `def50200${randomBytes(48).toString('hex')}${randomUUID().replace(/-/g, '')}`;
    state.refreshTokens.set(refresh, {
      token: refresh,
      userId: user.id,
      clientId,
      scopes,
      expiresAt: state.now() + settings.refreshLifetimeSeconds * 1000,
      revoked: false,
    });
    body.refresh_token = refresh;
  }
  return json(200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
}

function scopesFrom(value: unknown): string[] {
  const text = typeof value === 'string' ? value.trim() : '';
  return text === '' ? ['*'] : text.split(/\s+/);
}

export function handleTokenRequest(req: FakeRequest, state: FakeState, settings: TokenSettings): FakeResponse {
  if (req.method !== 'POST') {
    return json(405, { errors: [{ status: 405, message: 'Method Not Allowed' }] }, { allow: 'POST' });
  }
  const params = bodyParams(req);
  const text = (name: string): string | undefined => {
    const value = params[name];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };
  const grant = text('grant_type');
  if (!grant) return leagueError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.', 'Check that all required parameters have been provided');
  if (!['password', 'refresh_token', 'client_credentials'].includes(grant)) {
    return leagueError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.', 'Check that all required parameters have been provided');
  }
  const clientId = text('client_id');
  if (!clientId) return leagueError(400, 'invalid_request', INVALID_REQUEST, 'Check the `client_id` parameter');
  const client = state.clients.find((c) => c.id === clientId);
  if (!client || client.secret !== text('client_secret')) {
    return leagueError(401, 'invalid_client', 'Client authentication failed');
  }
  if (grant === 'client_credentials') {
    return issueTokens(state, settings, client.id, null, scopesFrom(params.scope));
  }
  if (grant === 'password') {
    const username = text('username');
    const password = text('password');
    if (!username) return leagueError(400, 'invalid_request', INVALID_REQUEST, 'Check the `username` parameter');
    if (!password) return leagueError(400, 'invalid_request', INVALID_REQUEST, 'Check the `password` parameter');
    // Passport's user provider looks the user up by email only.
    const user = state.users.find((u) => u.email.toLowerCase() === username.toLowerCase());
    if (!user || user.password !== password) {
      return leagueError(400, 'invalid_grant', 'The user credentials were incorrect.');
    }
    return issueTokens(state, settings, client.id, user, scopesFrom(params.scope));
  }
  const refreshToken = text('refresh_token');
  if (!refreshToken) return leagueError(400, 'invalid_request', INVALID_REQUEST, 'Check the `refresh_token` parameter');
  const stored = state.refreshTokens.get(refreshToken);
  if (!stored || stored.clientId !== client.id) {
    return leagueError(401, 'invalid_request', 'The refresh token is invalid.', 'Cannot decrypt the refresh token');
  }
  if (stored.revoked) return leagueError(401, 'invalid_request', 'The refresh token is invalid.', 'Token has been revoked');
  if (stored.expiresAt <= state.now()) return leagueError(401, 'invalid_request', 'The refresh token is invalid.', 'Token has expired');
  const user = state.user(stored.userId);
  if (!user) return leagueError(401, 'invalid_request', 'The refresh token is invalid.', 'Token is not linked to user');
  // League rotates refresh tokens: the old one stops working once used.
  stored.revoked = true;
  return issueTokens(state, settings, client.id, user, stored.scopes);
}

export type BearerResolution =
  | { kind: 'anonymous' }
  | { kind: 'token'; token: AccessToken; user: FakeUser | undefined }
  | { kind: 'invalid'; message: string };

/** Reads `Authorization: Bearer …`. A bad token is an error even on public routes (no fallback to guest). */
export function resolveBearer(req: FakeRequest, state: FakeState): BearerResolution {
  const header = req.headers.authorization;
  if (!header) return { kind: 'anonymous' };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return { kind: 'invalid', message: 'The resource owner or authorization server denied the request.' };
  const token = state.accessTokens.get(match[1]!);
  if (!token) return { kind: 'invalid', message: 'The resource owner or authorization server denied the request.' };
  if (token.revoked) return { kind: 'invalid', message: 'The resource owner or authorization server denied the request.' };
  if (token.expiresAt <= state.now()) return { kind: 'invalid', message: 'The resource owner or authorization server denied the request.' };
  return { kind: 'token', token, user: state.user(token.userId) };
}
