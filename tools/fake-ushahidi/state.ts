/**
 * The fake deployment's data, as one explicit object. One post table serves both APIs, the way a
 * platform deployment imported from v2 would hold it: v2 "approved" is v5 `published`, and v2
 * "verified" is its own flag (Ushahidi's importer turns it into a survey checkbox).
 *
 * Times are epoch seconds, as in the platform's database.
 */

export type Role = 'admin' | 'user';

export interface FakeUser {
  id: number;
  email: string;
  username: string;
  password: string;
  realname: string;
  role: Role;
}

export interface FakeClient {
  id: string;
  secret: string;
}

export interface FakeCategory {
  id: number;
  parentId: number | null;
  tag: string;
  slug: string;
  color: string;
  icon: string;
  description: string;
  priority: number;
}

export interface FakeField {
  id: number;
  key: string;
  label: string;
  input: string;
  type: string;
  priority: number;
  options: string[];
}

export interface FakeForm {
  id: number;
  name: string;
  stageId: number;
  /** Moderated surveys create posts as drafts. */
  requireApproval: boolean;
  /** Non-admins see times truncated to midnight. */
  hideTime: boolean;
  fields: FakeField[];
}

export interface FakeComment {
  id: number;
  author: string;
  email: string;
  description: string;
  ip: string;
  spam: boolean;
  active: boolean;
  date: number;
}

export interface FakeMedia {
  id: number;
  /** 1 image, 2 video, 3 audio, 4 news link, 5 podcast (v2 numbering). */
  type: number;
  link: string;
  thumb: string | null;
}

export interface FakeLocation {
  id: number;
  name: string;
  lat: number;
  lon: number;
}

export interface FakePost {
  id: number;
  formId: number | null;
  userId: number | null;
  /** Free text on purpose: v5 PATCH stores whatever it is sent. */
  status: string;
  title: string;
  content: string;
  slug: string;
  postDate: number;
  created: number;
  updated: number | null;
  source: 'web' | 'sms' | 'email' | 'twitter';
  locale: string;
  baseLanguage: string;
  authorEmail: string | null;
  authorRealname: string | null;
  categoryIds: number[];
  location: FakeLocation | null;
  /** Custom field values by field id. */
  values: Record<number, string | number>;
  translations: Record<string, { title: string; content: string }>;
  verified: boolean;
  media: FakeMedia[];
  comments: FakeComment[];
}

export interface AccessToken {
  token: string;
  userId: number | null;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  revoked: boolean;
}

export interface RefreshToken {
  token: string;
  userId: number;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  revoked: boolean;
}

export interface StatusChange {
  postId: number;
  via: 'v5-patch' | 'v5-put' | 'v5-bulk' | 'v2-approve' | 'v2-verify';
  field: 'status' | 'verified';
  from: string;
  to: string;
  /** Milliseconds, from the fake's clock. */
  at: number;
}

export class FakeState {
  readonly users: FakeUser[] = [];
  readonly clients: FakeClient[] = [];
  readonly categories = new Map<number, FakeCategory>();
  readonly forms = new Map<number, FakeForm>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  /** Every status write (including no-op PATCHes: the real server fires an event for those too). */
  readonly statusChanges: StatusChange[] = [];
  private readonly postsById = new Map<number, FakePost>();
  /** Kept sorted: keyset queries binary-search it. */
  private readonly sortedIds: number[] = [];
  private lastId = 0;

  constructor(readonly now: () => number) {}

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  nextPostId(): number {
    return this.lastId + 1;
  }

  insertPost(post: FakePost): FakePost {
    if (this.postsById.has(post.id)) throw new Error(`post ${post.id} exists`);
    this.postsById.set(post.id, post);
    if (post.id > this.lastId) {
      this.sortedIds.push(post.id);
    } else {
      const at = this.lowerBound(post.id);
      this.sortedIds.splice(at, 0, post.id);
    }
    this.lastId = Math.max(this.lastId, post.id);
    return post;
  }

  deletePost(id: number): boolean {
    if (!this.postsById.delete(id)) return false;
    this.sortedIds.splice(this.lowerBound(id), 1);
    return true;
  }

  post(id: number): FakePost | undefined {
    return this.postsById.get(id);
  }

  get postCount(): number {
    return this.sortedIds.length;
  }

  /** Posts in ascending id order with `after < id < before`. */
  *postsBetween(after = -Infinity, before = Infinity): Generator<FakePost> {
    const start = Number.isFinite(after) ? this.lowerBound(after + 1) : 0;
    for (let i = start; i < this.sortedIds.length; i++) {
      const id = this.sortedIds[i]!;
      if (id >= before) return;
      yield this.postsById.get(id)!;
    }
  }

  userByLogin(login: string): FakeUser | undefined {
    const wanted = login.toLowerCase();
    return this.users.find((u) => u.email.toLowerCase() === wanted || u.username.toLowerCase() === wanted);
  }

  user(id: number | null): FakeUser | undefined {
    return id === null ? undefined : this.users.find((u) => u.id === id);
  }

  recordStatusChange(change: Omit<StatusChange, 'at'>): void {
    this.statusChanges.push({ ...change, at: this.now() });
  }

  private lowerBound(id: number): number {
    let lo = 0;
    let hi = this.sortedIds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortedIds[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
