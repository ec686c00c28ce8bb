// Hand-made report fixtures for the fake dashboard backend, in the server's shape
// (crates/server/src/reports.rs). Rows carrying a day, site or form column are
// filtered like the server filters them; charts are recomputed from what is left.
import type { Report, ReportFilter, ReportName } from './types';

type Cell = string | number | boolean | null;
const S1 = 'site-ke-nairobi';
const S2 = 'site-it-lampedusa';

const TABLES: Record<ReportName, { columns: string[]; rows: Cell[][]; notes?: string[]; chart: (r: Cell[][], c: string[]) => Report['chart'] }> = {
  daily: {
    columns: ['day', 'site', 'form', 'total', 'draft', 'submitted', 'reviewed', 'returned', 'locked', 'refused', 'outcome:deferred', 'outcome:fit_to_travel', 'outcome:not_fit'],
    rows: [
      ['2026-03-05', S1, 'pda', 6, 1, 2, 1, 0, 2, 1, 1, 3, 0],
      ['2026-03-06', S1, 'pda', 9, 2, 3, 2, 0, 2, 0, 2, 5, 1],
      ['2026-03-06', S2, 'arr_t1', 4, 1, 3, 0, 0, 0, 1, 0, 0, 0],
      ['2026-03-07', S1, 'pda', 7, 1, 2, 2, 1, 1, 1, 1, 4, 0],
      ['2026-03-08', S2, 'arr_t2', 5, 2, 2, 1, 0, 0, 0, 0, 0, 0],
      ['2026-03-09', S1, 'pda', 11, 3, 4, 2, 0, 2, 2, 2, 6, 1],
    ],
    chart: (rows, cols) => {
      const days = [...new Set(rows.map((r) => String(r[0])))].sort();
      const sum = (col: string) => days.map((d) => rows.filter((r) => r[0] === d).reduce((n, r) => n + Number(r[cols.indexOf(col)]), 0));
      return { kind: 'line', labels: days, series: [{ name: 'total', values: sum('total') }, { name: 'refused', values: sum('refused') }] };
    },
  },
  tb_suspects: {
    columns: ['record', 'subject', 'name', 'site', 'form', 'screening_date', 'age_band', 'reasons', 'cxr_result', 'culture_pending', 'classification', 'days_since', 'referral'],
    rows: [
      ['0193a6f2-7c1e-7d2a-9b1e-000000000201', 'K7M2Q9T4XA', 'Amina H.', S1, 'pda', '2026-03-06', '18-59', 'symptoms cxr', 'abnormal_suggestive_tb', true, 'B1_pulmonary', 3, 'made'],
      ['0193a6f2-7c1e-7d2a-9b1e-000000000202', 'P3R8W1N6ZB', 'Yusuf A.', S1, 'pda', '2026-03-08', '5-14', 'symptoms', 'normal', false, 'pending', 1, 'none'],
      ['0193a6f2-7c1e-7d2a-9b1e-000000000203', 'D9F4H2J7LC', 'Olena K.', S2, 'arr_t2', '2026-03-09', '18-59', 'symptoms contact', null, false, 'pending', 0, 'none'],
    ],
    chart: (rows, cols) => countBy(rows, cols.indexOf('classification'), 'suspects'),
  },
  alerts: {
    columns: ['record', 'subject', 'name', 'site', 'disease', 'rules', 'raised_at', 'deadline', 'hours_left', 'status', 'notified_at', 'isolation', 'contacts'],
    rows: [['0193a6f2-7c1e-7d2a-9b1e-000000000301', 'M4X8C2V6QD', 'Samir B.', S2, 'measles', 'r35', '2026-03-09T10:00:00Z', '2026-03-10T10:00:00Z', -2, 'open', null, true, 4]],
    notes: ['alerts_from_rules'],
    chart: (rows, cols) => countBy(rows, cols.indexOf('disease'), 'alerts'),
  },
  vulnerability: {
    columns: ['category', 'site', 'subjects', 'no_referral', 'referral_open', 'referral_completed'],
    rows: [
      ['minor', S2, 6, 2, 3, 1],
      ['uasc', S2, 2, 0, 2, 0],
      ['pregnant', S2, 3, 1, 1, 1],
      ['disability', S2, 1, 1, 0, 0],
    ],
    notes: ['sensitive_categories_not_projected'],
    chart: (rows) => ({ kind: 'bar', labels: rows.map((r) => String(r[0])), series: [{ name: 'subjects', values: rows.map((r) => Number(r[2])) }] }),
  },
  vaccination: {
    columns: ['antigen', 'age_band', 'records', 'documented', 'documented_pct', 'verbal_only', 'none', 'doses_given_here', 'catchup_due', 'catchup_overdue'],
    rows: [
      ['measles', '1-4', 8, 5, 62.5, 2, 1, 3, 2, 1],
      ['measles', '5-14', 12, 9, 75, 1, 2, 2, 1, 0],
      ['dtp', '1-4', 8, 6, 75, 1, 1, 2, 1, 1],
      ['dtp', '5-14', 12, 7, 58.3, 3, 2, 1, 3, 2],
      ['polio', '1-4', 8, 7, 87.5, 0, 1, 1, 0, 0],
      ['hepb', '18-59', 20, 6, 30, 4, 10, 0, 5, 3],
    ],
    chart: (rows) => {
      const antigens = [...new Set(rows.map((r) => String(r[0])))];
      const pct = antigens.map((a) => {
        const of = rows.filter((r) => r[0] === a);
        const total = of.reduce((n, r) => n + Number(r[2]), 0);
        return total ? Math.round((of.reduce((n, r) => n + Number(r[3]), 0) * 1000) / total) / 10 : 0;
      });
      return { kind: 'bar', labels: antigens, series: [{ name: 'documented_pct', values: pct }] };
    },
  },
  test_uptake: {
    columns: ['test', 'site', 'eligible', 'offered', 'accepted', 'positive', 'linked_to_care'],
    rows: [
      ['active_tb_cxr', S2, 14, 14, 12, 1, 1],
      ['hbv', S2, 10, 9, 7, 1, 0],
      ['hcv', S2, 6, 6, 5, 0, 0],
      ['ltbi_igra_tst', S2, 8, 7, 4, 2, 1],
      ['syphilis', S1, 12, 12, 11, 1, 1],
    ],
    notes: ['restricted_tests_not_projected'],
    chart: (rows) => ({
      kind: 'bar',
      labels: rows.map((r) => String(r[0])),
      series: (['offered', 'accepted', 'positive'] as const).map((name, i) => ({ name, values: rows.map((r) => Number(r[3 + i])) })),
    }),
  },
  incomplete: {
    columns: ['record', 'site', 'form', 'status', 'day', 'missing', 'missing_fields', 'errors', 'open_warnings', 'overridden_warnings', 'stale_draft'],
    rows: [
      ['0193a6f2-7c1e-7d2a-9b1e-000000000103', S1, 'arr_t1', 'draft', '2026-03-07', 3, 't1_isolation t1_vuln_flags t1_no_further_check', '', '', '', true],
      ['0193a6f2-7c1e-7d2a-9b1e-000000000104', S1, 'pda', 'submitted', '2026-03-08', 0, '', '', '', 'r4a@temp_c', false],
      ['0193a6f2-7c1e-7d2a-9b1e-000000000105', S2, 'arr_t2', 'draft', '2026-03-09', 5, 'tb_cough …', 'r10@sbp', 'r11@bmi', '', false],
    ],
    chart: (rows, cols) => ({
      kind: 'bar',
      labels: ['missing', 'errors', 'open_warnings', 'overridden_warnings', 'stale_draft'],
      series: [{ name: 'records', values: ['missing', 'errors', 'open_warnings', 'overridden_warnings', 'stale_draft'].map((c) => rows.filter((r) => { const v = r[cols.indexOf(c)]; return v === true || (typeof v === 'number' && v > 0) || (typeof v === 'string' && v !== ''); }).length) }],
    }),
  },
  conflicts: {
    columns: ['record', 'subject', 'name', 'site', 'form', 'status', 'day', 'days_since'],
    rows: [['0193a6f2-7c1e-7d2a-9b1e-000000000102', 'K7M2Q9T4XA', 'Amina H.', S1, 'pda', 'reviewed', '2026-03-09', 0]],
    chart: (rows, cols) => countBy(rows, cols.indexOf('site'), 'records'),
  },
};

function countBy(rows: Cell[][], col: number, name: string): Report['chart'] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(String(r[col]), (counts.get(String(r[col])) ?? 0) + 1);
  const labels = [...counts.keys()].sort();
  return { kind: 'bar', labels, series: [{ name, values: labels.map((l) => counts.get(l) ?? 0) }] };
}

/** A canned report, filtered; names only when `names` (roles with identity rights). */
export function fakeReport(name: ReportName, filter: ReportFilter, names: boolean): Report {
  const t = TABLES[name];
  const at = (c: string) => t.columns.indexOf(c);
  const day = ['day', 'screening_date'].map(at).find((i) => i >= 0) ?? -1;
  const rows = t.rows.filter((r) => {
    if (filter.site && at('site') >= 0 && r[at('site')] !== filter.site) return false;
    if (filter.form && at('form') >= 0 && r[at('form')] !== filter.form) return false;
    if (day >= 0 && filter.from && String(r[day]) < filter.from) return false;
    if (day >= 0 && filter.until && String(r[day]) > filter.until) return false;
    return true;
  });
  const keep = t.columns.map((c) => names || c !== 'name');
  const columns = t.columns.filter((_, i) => keep[i]);
  const shown = rows.map((r) => r.filter((_, i) => keep[i]));
  return { name, columns, rows: shown, total_rows: shown.length, chart: t.chart(rows, t.columns), notes: [...(t.notes ?? [])] };
}

/** The report's table as the server's CSV (formula-guarded cells). */
export function fakeCsv(r: Report): string {
  const cell = (v: Cell) => {
    let s = v === null ? '' : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [r.columns, ...r.rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
