// Keeps sensitive values out of everything people see: a redactor that blanks the values of
// sensitive variables (the model's `sensitive` paths) and of sensitive outputs in any text, and
// the components `describe` and `diff` show, with those values hidden.
import type { ResolvedComponent } from '../model/types.js';

export const REDACTED = '(sensitive value)';

/** Lines of a multi-line secret shorter than this are not blanked on their own: they would blank ordinary words. */
const MIN_LINE = 8;

/**
 * Collects secret values and blanks them out of text (terraform echoes them in some error messages).
 * A secret is found however terraform lays it out: re-wrapped (any run of whitespace, a line break
 * and indentation included, stands for any other) and, for a multi-line value such as a PEM key,
 * line by line (terraform prefixes each line of a provisioner's output).
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern?: RegExp;

  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (typeof value === 'string') {
      this.addText(value);
      return;
    }
    // Short numbers and booleans would blank half of any text; they carry little secret anyway.
    if (typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (String(value).length >= 4) this.addText(String(value));
      return;
    }
    if (Array.isArray(value)) for (const v of value) this.add(v);
    else if (typeof value === 'object') for (const v of Object.values(value as Record<string, unknown>)) this.add(v);
    this.addText(JSON.stringify(value));
  }

  private addText(text: string): void {
    if (!text.trim()) return;
    this.secrets.add(text);
    // As terraform may show it inside JSON or HCL strings.
    const quoted = JSON.stringify(text).slice(1, -1);
    if (quoted !== text) this.secrets.add(quoted);
    if (text.includes('\n')) {
      for (const line of text.split('\n')) if (line.trim().length >= MIN_LINE) this.addText(line.trim());
    }
    this.pattern = undefined;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string, placeholder = REDACTED): string {
    if (this.secrets.size === 0 || !text) return text;
    // Longest first, so a secret that contains another is blanked whole.
    this.pattern ??= new RegExp(
      [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map((secret) => secret.trim().split(/\s+/).map(escapeRegExp).join('\\s+'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, () => placeholder);
  }

  /** Whether a value (a string, or any JSON value) holds one of the secrets. */
  holds(value: unknown): boolean {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text !== undefined && this.redact(text) !== text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Adds the values a component holds at its sensitive paths (the model's `sensitive`). */
export function addSensitiveValues(redactor: Redactor, component: ResolvedComponent): void {
  for (const path of component.sensitive) redactor.add(valueAt(component, path));
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Shown in place of a sensitive value by `describe` and `diff` (unless --show-sensitive). */
export const HIDDEN = '(sensitive)';

/**
 * A component as people may see it: each value at a sensitive path replaced by `(sensitive)`, and
 * a sensitive value inside another string (a URL a template built from it) blanked there too.
 */
export function hideSensitive(component: ResolvedComponent): ResolvedComponent {
  if (component.sensitive.length === 0) return component;
  const redactor = new Redactor();
  addSensitiveValues(redactor, component);
  const hidden = new Set(component.sensitive);
  const hide = (value: unknown, path: string): unknown => {
    if (hidden.has(path)) return HIDDEN;
    if (typeof value === 'string') return redactor.redact(value, HIDDEN);
    if (Array.isArray(value)) return value.map((v, i) => hide(v, `${path}.${i}`));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hide(v, `${path}.${k}`)]));
    return value;
  };
  const copy = { ...component };
  for (const section of ['vars', 'settings', 'env', 'locals', 'backend', 'providers', 'metadata'] as const) {
    if (component[section] !== undefined) (copy as Record<string, unknown>)[section] = hide(component[section], section);
  }
  // Variables left out of terraform's are still vars (`vars.<name>`) for what is secret.
  if (component.remoteStateBackend) copy.remoteStateBackend = hide(component.remoteStateBackend, 'remote_state_backend') as Record<string, unknown>;
  if (component.droppedVarValues) copy.droppedVarValues = hide(component.droppedVarValues, 'vars') as Record<string, unknown>;
  return copy;
}
