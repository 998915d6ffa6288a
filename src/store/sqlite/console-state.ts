/**
 * Console sessions in SQLite (migration 7), shared by every gateway process on the file, and the
 * column that disables a user. Rows hold the SHA-256 of a session id, never the id itself.
 */
import type Database from 'better-sqlite3';
import type { ConsoleSessionChange, ConsoleSessionRecord } from '../store.js';

export const CONSOLE_STATE_MIGRATION_SQL = `
  CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    flash TEXT
  );
  CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
  CREATE INDEX console_sessions_user ON console_sessions (username);
  ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
`;

interface SessionRow {
  id_hash: string;
  username: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  flash: string | null;
}

function sessionFromRow(row: SessionRow): ConsoleSessionRecord {
  return {
    id_hash: row.id_hash,
    username: row.username,
    created_at: row.created_at,
    last_seen_at: row.last_seen_at,
    expires_at: row.expires_at,
    ...(row.flash === null ? {} : { flash: row.flash }),
  };
}

export class ConsoleStateTables {
  private readonly statements;

  constructor(writer: Database.Database, reader: Database.Database) {
    this.statements = {
      deleteUser: writer.prepare<[string]>('DELETE FROM users WHERE username = ?'),
      sessionByHash: reader.prepare<[string], SessionRow>('SELECT * FROM console_sessions WHERE id_hash = ?'),
      upsertSession: writer.prepare<[string, string, number, number, number, string | null]>(
        'INSERT INTO console_sessions (id_hash, username, created_at, last_seen_at, expires_at, flash) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (id_hash) DO UPDATE SET username = excluded.username, created_at = excluded.created_at, ' +
          'last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at, flash = excluded.flash',
      ),
      // COALESCE keeps a column the change does not name; the flash needs its own flag because
      // null is a value there (remove the message).
      updateSession: writer.prepare<[number | null, number | null, number, string | null, string]>(
        'UPDATE console_sessions SET last_seen_at = COALESCE(?, last_seen_at), expires_at = COALESCE(?, expires_at), ' +
          'flash = CASE WHEN ? THEN ? ELSE flash END WHERE id_hash = ?',
      ),
      deleteSession: writer.prepare<[string]>('DELETE FROM console_sessions WHERE id_hash = ?'),
      deleteUserSessions: writer.prepare<[string, string]>('DELETE FROM console_sessions WHERE username = ? AND id_hash <> ?'),
      deleteExpired: writer.prepare<[number, number]>(
        'DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions WHERE expires_at <= ? LIMIT ?)',
      ),
    };
  }

  deleteUser(username: string): boolean {
    return this.statements.deleteUser.run(username).changes > 0;
  }

  getConsoleSession(idHash: string): ConsoleSessionRecord | undefined {
    const row = this.statements.sessionByHash.get(idHash);
    return row ? sessionFromRow(row) : undefined;
  }
  putConsoleSession(session: ConsoleSessionRecord): void {
    this.statements.upsertSession.run(session.id_hash, session.username, session.created_at, session.last_seen_at, session.expires_at, session.flash ?? null);
  }
  updateConsoleSession(idHash: string, change: ConsoleSessionChange): boolean {
    const touchesFlash = change.flash !== undefined ? 1 : 0;
    return this.statements.updateSession.run(change.last_seen_at ?? null, change.expires_at ?? null, touchesFlash, change.flash ?? null, idHash).changes > 0;
  }
  deleteConsoleSession(idHash: string): boolean {
    return this.statements.deleteSession.run(idHash).changes > 0;
  }
  deleteUserConsoleSessions(username: string, exceptIdHash = ''): number {
    return this.statements.deleteUserSessions.run(username, exceptIdHash).changes;
  }
  deleteExpiredConsoleSessions(now: number, limit: number): number {
    return this.statements.deleteExpired.run(now, Math.max(0, Math.floor(limit))).changes;
  }
}
