import type { NextFunction, Request, Response } from 'express';
import type { Authenticator, Role } from '../auth/users.js';
import { hasRole } from '../auth/users.js';
import type { UserRecord } from '../store/store.js';
import { edenMessage } from './eden-reply.js';

declare module 'express-serve-static-core' {
  interface Request {
    user?: UserRecord;
  }
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=._-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function forbidden(res: Response, roles: Role[]): void {
  res.status(403).json(
    edenMessage('failed', 403, 'Insufficient privileges', {
      code: 'FORBIDDEN',
      fix: `This needs one of the roles: ${roles.join(', ')}`,
    }),
  );
}

/**
 * HTTP Basic as Eden clients use it (credentials sent pre-emptively). Without credentials the
 * answer is 401 AUTH_REQUIRED with a challenge, with refused ones 401 AUTH_FAILED (challenge too); with valid ones lacking the role, 403 (as Eden does). The user
 * and roles judged are the store's at this request (Authenticator reads the record every time), so
 * a user disabled, deleted or demoted on another gateway node is refused here at once.
 */
export function requireUser(authenticator: Authenticator, ...roles: Role[]) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.user && (roles.length === 0 || hasRole(req.user, ...roles))) return next();
    // Signed in already (a console session) without the role: a new Basic challenge would only
    // make the browser pop up a password dialog; the answer is about the role.
    if (req.user && !req.headers.authorization) return forbidden(res, roles);
    const credentials = parseBasic(req.headers.authorization);
    const user = credentials ? await authenticator.authenticate(credentials.username, credentials.password) : undefined;
    if (!user) {
      // Missing and refused credentials get different answers: "send some" does not help someone
      // who sent the wrong ones.
      res
        .status(401)
        .set('WWW-Authenticate', 'Basic realm="sluice"')
        .json(
          credentials
            ? edenMessage('failed', 401, 'The user name or password was refused', {
                code: 'AUTH_FAILED',
                fix: 'Check the user name and password of the Sluice user (a disabled user is refused too)',
              })
            : edenMessage('failed', 401, 'Authentication required', {
                code: 'AUTH_REQUIRED',
                fix: 'Send HTTP Basic credentials of a Sluice user',
              }),
        );
      return;
    }
    if (roles.length > 0 && !hasRole(user, ...roles)) return forbidden(res, roles);
    req.user = user;
    next();
  };
}

/**
 * Reads open to anyone (demo mode): without credentials the request goes on anonymously, but
 * credentials that are sent are checked like everywhere else. Quietly ignoring wrong ones would
 * let a client believe its password works until the demo ends.
 */
export function allowAnonymousRead(authenticator: Authenticator) {
  const checked = requireUser(authenticator);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.headers.authorization === undefined) return next();
    return checked(req, res, next);
  };
}
