import type { DashboardBackend } from './backend';
import { backendError } from './errors';
import type { ExportApproval, ExportApprovalRequest, ExportFile, ExportRequest, Report, ReportFilter, ReportName } from './types';
import type { ActivityReport, BackendError, ErrorCode, FormView, LocalUser, QuarantineDecision, QuarantineEntry, RecordStatus, ServerRecord, ServerRecordView } from './types';

/** What `POST /v1/login` answers (crates/server/src/service.rs, `LoginResponse`). */
interface LoginResponse {
  token: string;
  role: LocalUser['role'];
  sites: string[];
}

/**
 * The server's error codes (tern-sync `ErrorCode`) as the UI's closed set. A refused
 * sign-in is a wrong password; an expired session elsewhere means signing in again.
 */
function uiCode(server: string, signingIn: boolean): ErrorCode {
  switch (server) {
    case 'unauthorized':
      return signingIn ? 'wrong_password' : 'locked';
    case 'forbidden':
      return 'forbidden';
    case 'not_found':
      return 'not_found';
    case 'bad_request':
    case 'too_large':
    case 'rate_limited':
      return 'invalid_input';
    case 'conflict':
      return 'conflict';
    default:
      return 'internal';
  }
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * The supervisor dashboard over the server's HTTP API, same origin (the server serves
 * the dashboard): sign in with an account's password, then list the records of the
 * account's sites. The token lives in memory only; reloading the page signs out.
 */
export class HttpDashboardBackend implements DashboardBackend {
  private token: string | null = null;

  constructor(
    private readonly base = '',
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
  ) {}

  private async call<T>(path: string, init: RequestInit, signingIn = false): Promise<T> {
    let res: Response;
    try {
      res = await this.fetcher(`${this.base}${path}`, init);
    } catch {
      throw backendError('offline', 'The server cannot be reached.');
    }
    return this.read<T>(res, signingIn);
  }

  /** A response's JSON body, or its refusal as a `BackendError`. */
  private async read<T>(res: Response, signingIn = false): Promise<T> {
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: reported below by status
    }
    if (!res.ok) {
      const e = body as { code?: unknown; message?: unknown } | null;
      const err: BackendError = backendError(
        uiCode(typeof e?.code === 'string' ? e.code : '', signingIn),
        typeof e?.message === 'string' ? e.message : `The server answered ${res.status}.`,
      );
      if (err.code === 'locked') this.token = null;
      throw err;
    }
    return body as T;
  }

  async signIn(username: string, password: string): Promise<LocalUser> {
    const name = username.trim();
    const r = await this.call<LoginResponse>(
      '/v1/login',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: name, password }) },
      true,
    );
    this.token = r.token;
    return { user_id: name, username: name, display_name: name, role: r.role };
  }

  /** Ends the session on the server too; signed out here whatever the server says. */
  async signOut(): Promise<void> {
    const token = this.token;
    this.token = null;
    if (!token) return;
    try {
      await this.call<null>('/v1/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    } catch {
      // offline or already expired: the token is forgotten here either way
    }
  }

  private get<T>(path: string): Promise<T> {
    if (!this.token) return Promise.reject(backendError('locked', 'Sign in first.'));
    return this.call<T>(path, { headers: { authorization: `Bearer ${this.token}` } });
  }

  reviewList(): Promise<ServerRecord[]> {
    return this.get('/v1/records');
  }

  activity(days: number): Promise<ActivityReport> {
    return this.get(`/v1/reports/activity?days=${days}`);
  }

  report(name: ReportName, filter: ReportFilter): Promise<Report> {
    return this.get(`/v1/reports/${encodeURIComponent(name)}?${reportQuery(filter)}`);
  }

  async reportCsv(name: ReportName, filter: ReportFilter): Promise<string> {
    if (!this.token) throw backendError('locked', 'Sign in first.');
    const path = `/v1/reports/${encodeURIComponent(name)}?${reportQuery(filter)}&format=csv`;
    let res: Response;
    try {
      res = await this.fetcher(`${this.base}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    } catch {
      throw backendError('offline', 'The server cannot be reached.');
    }
    // An error answer is JSON: read it as every other call does.
    if (!res.ok) return this.read<string>(res);
    return res.text();
  }

  record(recordId: string): Promise<ServerRecordView> {
    return this.get(`/v1/records/${encodeURIComponent(recordId)}`);
  }

  async moveRecord(recordId: string, to: RecordStatus, comment: string | null): Promise<void> {
    if (!this.token) throw backendError('locked', 'Sign in first.');
    await this.call<unknown>(`/v1/records/${encodeURIComponent(recordId)}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to, comment }),
    });
  }

  quarantine(): Promise<QuarantineEntry[]> {
    return this.get('/v1/quarantine');
  }

  async decideQuarantine(doc: string, decision: QuarantineDecision, reason: string): Promise<void> {
    if (!this.token) throw backendError('locked', 'Sign in first.');
    await this.call<unknown>(`/v1/quarantine/${encodeURIComponent(doc)}/${decision}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason }),
    });
  }

  exportApprovals(): Promise<ExportApproval[]> {
    return this.get('/v1/exports/approvals');
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    if (!this.token) return Promise.reject(backendError('locked', 'Sign in first.'));
    return this.call<T>(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  requestExportApproval(req: ExportApprovalRequest): Promise<ExportApproval> {
    return this.post('/v1/exports/approvals', req);
  }

  approveExport(id: string): Promise<ExportApproval> {
    return this.post(`/v1/exports/approvals/${encodeURIComponent(id)}/approve`, {});
  }

  exportRecipients(): Promise<string[]> {
    return this.get('/v1/exports/recipients');
  }

  /**
   * The export as the server streams it (crates/server/src/export/api.rs): a refusal
   * is JSON before the first byte; the body is read chunk by chunk for the progress.
   */
  async exportFile(req: ExportRequest, progress: (bytes: number, records: number | null) => void): Promise<ExportFile> {
    if (!this.token) throw backendError('locked', 'Sign in first.');
    const init: RequestInit = {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(req),
    };
    let res: Response;
    try {
      res = await this.fetcher(`${this.base}/v1/exports`, init);
    } catch {
      throw backendError('offline', 'The server cannot be reached.');
    }
    if (!res.ok) await this.read<unknown>(res);
    const header = res.headers.get('x-tern-export-records');
    const records = header !== null && /^\d+$/.test(header) ? Number(header) : null;
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `tern-${req.form}-${req.purpose}`;
    const parts: Uint8Array[] = [];
    let bytes = 0;
    progress(0, records);
    const reader = res.body?.getReader();
    try {
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        bytes += value.byteLength;
        progress(bytes, records);
      }
    } catch {
      // The server ends the stream with an error when an export fails midway.
      throw backendError('internal', 'The export stopped before its end; nothing was saved. Try again.');
    }
    return { name, blob: new Blob(parts as BlobPart[], { type: res.headers.get('content-type') ?? 'application/octet-stream' }), records };
  }

  formView(formId: string, version: string, lang: string): Promise<FormView> {
    return this.get(`/v1/forms/${encodeURIComponent(formId)}/${encodeURIComponent(version)}?lang=${encodeURIComponent(lang)}`);
  }
}

/** The query of a report filter (empty parts left out). */
export function reportQuery(filter: ReportFilter): string {
  const q = new URLSearchParams();
  for (const key of ['from', 'until', 'site', 'form'] as const) {
    const v = filter[key]?.trim();
    if (v) q.set(key, v);
  }
  return q.toString();
}
