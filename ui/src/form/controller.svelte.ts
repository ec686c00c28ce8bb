import type { Backend } from '../backend/backend';
import { toBackendError } from '../backend/errors';
import { getPath, joinPath, setPath } from '../backend/paths';
import type {
  AnswerValue,
  Answers,
  BackendError,
  Evaluation,
  FieldView,
  FormView,
  RecordDetail,
  RuleResult,
  SectionView,
} from '../backend/types';
import { groupByField, toSet } from './lookup';

export type SaveState = { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved' } | { kind: 'failed'; error: BackendError };

/**
 * The state of one record being filled: the FormView and the latest Evaluation from
 * the backend, and the answers as typed. It only indexes what the engine returned
 * (which paths are relevant, missing, in error); it decides nothing about the form.
 * Every answer is sent to the backend at once, in order, and the evaluation that
 * comes back replaces the old one.
 */
export class FormController {
  view = $state<FormView | null>(null);
  evaluation = $state<Evaluation | null>(null);
  detail = $state<RecordDetail | null>(null);
  answers = $state<Answers>({});
  save = $state<SaveState>({ kind: 'idle' });
  loadError = $state<BackendError | null>(null);
  sectionIndex = $state(0);
  /** Set after a submit attempt: missing answers are marked everywhere. */
  showMissing = $state(false);
  /** The amendment reason, given once before changing a record the backend says needs one. */
  reason = $state<string | null>(null);

  relevant = $derived(toSet(this.evaluation?.relevant ?? []));
  missing = $derived(toSet(this.evaluation?.missing ?? []));
  errorsByField = $derived(groupByField(this.evaluation?.errors ?? []));
  warningsByField = $derived(groupByField(this.evaluation?.warnings ?? []));
  confirmed = $derived(toSet(this.detail?.confirmed_warnings ?? []));
  /** Sections the backend withholds from this user's role (restricted). */
  withheld = $derived(toSet(this.detail?.withheld_sections ?? []));
  /** Fields the backend says this user's role may not write: drawn read-only. */
  readOnlyFields = $derived(toSet(this.detail?.read_only_fields ?? []));
  /** Sections with at least one field the engine says is relevant, except withheld ones. */
  visibleSections = $derived(
    this.view ? this.view.sections.filter((s) => !this.withheld.has(s.id) && s.fields.some((f) => this.relevant.has(f.id))) : [],
  );
  /** Changes are amendments and no reason was given yet. */
  needsReason = $derived(!!this.detail?.summary.amendment && !this.reason);
  section = $derived(this.visibleSections[Math.min(this.sectionIndex, this.visibleSections.length - 1)] ?? null);

  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(
    private readonly backend: Backend,
    readonly recordId: string,
  ) {}

  async load(lang: string): Promise<void> {
    try {
      const detail = await this.backend.getRecord(this.recordId);
      const [view, evaluation] = await Promise.all([
        this.backend.formView(detail.summary.form_id, detail.summary.form_version, lang),
        this.backend.evaluate(this.recordId, lang),
      ]);
      this.detail = detail;
      this.answers = detail.answers;
      this.view = view;
      this.evaluation = evaluation;
    } catch (e) {
      this.loadError = toBackendError(e);
    }
  }

  /** Redraws the form in another language. Answers stay: they are codes and numbers. */
  async setLanguage(lang: string): Promise<void> {
    const sectionId = this.section?.id;
    await this.chain;
    const [view, evaluation] = await Promise.all([
      this.backend.formView(this.view?.form_id ?? '', this.view?.version ?? '', lang),
      this.backend.evaluate(this.recordId, lang),
    ]);
    this.view = view;
    this.evaluation = evaluation;
    if (sectionId) this.goToSection(sectionId);
  }

  get lang(): string {
    return this.view?.language ?? 'en';
  }

  value(path: string): AnswerValue | undefined {
    const calculated = this.evaluation?.calculated[path];
    if (calculated !== undefined) return calculated;
    return getPath(this.answers, path);
  }

  /** Whether the backend keeps this user's role from writing the field. */
  mayNotWrite(field: FieldView): boolean {
    return this.readOnlyFields.has(field.id);
  }

  isRelevant(path: string): boolean {
    return this.relevant.has(path);
  }

  isMissing(path: string): boolean {
    return this.missing.has(path);
  }

  errors(path: string): RuleResult[] {
    return this.errorsByField.get(path) ?? [];
  }

  warnings(path: string): RuleResult[] {
    return this.warningsByField.get(path) ?? [];
  }

  isConfirmed(w: RuleResult): boolean {
    return this.confirmed.has(`${w.rule}@${w.field}`);
  }

  /** Number of instances of a repeat group. */
  count(path: string): number {
    const v = getPath(this.answers, path);
    return Array.isArray(v) ? v.length : 0;
  }

  /** Answered / answerable fields of a section, over the paths the engine says are relevant. */
  progress(section: SectionView): { answered: number; total: number } {
    let answered = 0;
    let total = 0;
    const visit = (fields: FieldView[], prefix: string) => {
      for (const f of fields) {
        const path = joinPath(prefix, f.id);
        if (!this.relevant.has(path)) continue;
        if (f.kind === 'repeat') {
          const n = this.count(path);
          for (let i = 0; i < n; i++) visit(f.fields ?? [], joinPath(prefix, f.id, i));
          continue;
        }
        if (f.read_only || f.kind === 'calculate' || f.kind === 'note') continue;
        total += 1;
        if (hasValue(getPath(this.answers, path))) answered += 1;
      }
    };
    visit(section.fields, '');
    return { answered, total };
  }

  goToSection(id: string): void {
    const i = this.visibleSections.findIndex((s) => s.id === id);
    if (i >= 0) this.sectionIndex = i;
  }

  /** The section that shows `path` (its top-level field). */
  sectionOf(path: string): SectionView | undefined {
    const top = path.split(/[.[]/)[0];
    return this.view?.sections.find((s) => s.fields.some((f) => f.id === top));
  }

  /** The FieldView of a path (`group[i].field` finds the group's child). */
  fieldOf(path: string): FieldView | undefined {
    let fields = this.view?.sections.flatMap((s) => s.fields) ?? [];
    let found: FieldView | undefined;
    for (const part of path.split('.')) {
      const id = part.replace(/\[\d+\]$/, '');
      found = fields.find((x) => x.id === id);
      if (!found) return undefined;
      fields = found.fields ?? [];
    }
    return found;
  }

  /** Label of a field path for summaries: `Current medications › No. 2 › Dose`. */
  labelOf(path: string): string {
    const parts = path.split('.');
    let fields = this.view?.sections.flatMap((s) => s.fields) ?? [];
    const labels: string[] = [];
    for (const part of parts) {
      const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
      const f = fields.find((x) => x.id === m?.[1]);
      if (!f) return path;
      labels.push(m?.[2] !== undefined ? `${f.label} ${Number(m[2]) + 1}` : f.label);
      fields = f.fields ?? [];
    }
    return labels.join(' › ');
  }

  /** Records an answer locally and sends it; the evaluation of the last send wins. */
  setAnswer(path: string, value: AnswerValue): Promise<void> {
    this.answers = setPath(this.answers, path, value);
    return this.send((lang) => this.backend.setAnswer(this.recordId, path, value, lang, this.reason));
  }

  /** Records a keystroke locally without sending (the blur/change sends it). */
  typeAnswer(path: string, value: AnswerValue): void {
    this.answers = setPath(this.answers, path, value);
  }

  addRepeat(group: string): Promise<void> {
    const list = getPath(this.answers, group);
    this.answers = setPath(this.answers, group, [...(Array.isArray(list) ? (list as Answers[]) : []), {}]);
    return this.send((lang) => this.backend.addRepeat(this.recordId, group, lang, this.reason));
  }

  removeRepeat(group: string, index: number): Promise<void> {
    const list = getPath(this.answers, group);
    const next = Array.isArray(list) ? (list as Answers[]).filter((_, i) => i !== index) : [];
    this.answers = setPath(this.answers, group, next.length ? next : null);
    return this.send((lang) => this.backend.removeRepeat(this.recordId, group, index, lang, this.reason));
  }

  confirmWarning(w: RuleResult): Promise<void> {
    return this.send(async (lang) => {
      const ev = await this.backend.confirmWarning(this.recordId, w.rule, w.field, lang);
      this.detail = await this.backend.getRecord(this.recordId);
      return ev;
    });
  }

  private send(op: (lang: string) => Promise<Evaluation>): Promise<void> {
    const n = ++this.seq;
    this.save = { kind: 'saving' };
    const run = this.chain.then(async () => {
      try {
        const ev = await op(this.lang);
        if (n === this.seq) {
          this.evaluation = ev;
          this.save = { kind: 'saved' };
        }
      } catch (e) {
        this.save = { kind: 'failed', error: toBackendError(e) };
      }
    });
    this.chain = run;
    return run;
  }

  /** Waits until every answer sent so far is durable. */
  flush(): Promise<unknown> {
    return this.chain;
  }
}

export function hasValue(v: AnswerValue | undefined): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}
