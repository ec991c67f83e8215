// File-scoped `locals:` of a stack file, as Atmos resolves them: root `locals`, then `<type>.locals`,
// then a component's own `locals` (after those of the bases it inherits in the same file), each scope
// seeing the one above it. Locals may reference each other (`{{ .locals.x }}`) in any order; they are
// resolved before the file is merged, the file's templates are rendered with them, and the file's and
// type's `locals` sections are then dropped: they never reach the files that import this one. A
// component's own `locals` stay in it, resolved (inherited by the components based on it, shown by `describe`).
import { configError, type SourceLocation } from '../util/errors.js';
import { copyLocation, copySelfLocation, locationOf, TaggedValue } from '../util/yaml.js';
import { cloneTree, isMap } from './merge.js';
import { STACK_SECTIONS } from './keys.js';
import { renderString, type TemplateFunc } from './template.js';

type Section = Record<string, unknown>;
/** The template functions that need the process (Sprig's `env`). */
type Funcs = Record<string, TemplateFunc>;

const ROOT_KEYS = new Set<string>(STACK_SECTIONS);
const LOCAL_REF = /\.locals\.([A-Za-z0-9_-]+)/g;
/** A string that is one plain field reference (`{{ .locals.tags }}`): Atmos gives it the value itself, typed. */
const PLAIN_REF = /^\s*\{\{-?\s*\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*-?\}\}\s*$/;

function lookup(data: Section, path: string): { found: boolean; value?: unknown } {
  let node: unknown = data;
  for (const part of path.split('.')) {
    if (!isMap(node) || !(part in node)) return { found: false };
    node = node[part];
  }
  return { found: true, value: node };
}

/**
 * Renders the strings of a tree with `data`: in `locals` (`inLocals`) every template, an unknown name
 * being an error; elsewhere only strings that use `.locals`, leaving unknown names for after the merge.
 * Other YAML functions are left to the later passes (`!literal` stays literal), except in locals,
 * whose values must be known when the file is read.
 */
function renderTree(node: unknown, data: Section, location: SourceLocation | undefined, inLocals: boolean, funcs: Funcs): unknown {
  if (node instanceof TaggedValue) {
    if (!inLocals) return node;
    if (node.tag === '!literal') return node.value;
    throw configError('E_LOCALS', `${node.tag} is not supported in locals`, {
      location: node.location ?? location,
      hint: 'locals support !env, !exec and !include; read other values through vars, where every YAML function is evaluated',
    });
  }
  if (typeof node === 'string') {
    if (!node.includes('{{') || (!inLocals && !node.includes('.locals'))) return node;
    const ref = PLAIN_REF.exec(node);
    if (ref) {
      const hit = lookup(data, ref[1]!);
      if (hit.found) return cloneTree(hit.value);
    }
    return renderString(node, data, { location, missing: inLocals ? 'error' : 'keep', funcs });
  }
  if (Array.isArray(node)) {
    const list = node.map((item, index) => renderTree(item, data, locationOf(node, index) ?? location, inLocals, funcs));
    node.forEach((_, index) => copyLocation(node, index, list));
    copySelfLocation(node, list);
    return list;
  }
  if (isMap(node)) {
    const map: Section = {};
    for (const [key, item] of Object.entries(node)) {
      map[key] = renderTree(item, data, locationOf(node, key) ?? location, inLocals, funcs);
      copyLocation(node, key, map);
    }
    copySelfLocation(node, map);
    return map;
  }
  return node;
}

/** Whether the file declares `locals` anywhere (root, type level or component level). */
function hasLocals(doc: Section): boolean {
  if ('locals' in doc) return true;
  for (const [key, value] of Object.entries(doc)) if (!ROOT_KEYS.has(key) && isMap(value) && 'locals' in value) return true;
  if (isMap(doc.components)) {
    for (const defs of Object.values(doc.components)) {
      if (isMap(defs)) for (const section of Object.values(defs)) if (isMap(section) && 'locals' in section) return true;
    }
  }
  return false;
}

function refsOf(value: unknown, out: Set<string>): Set<string> {
  if (typeof value === 'string') for (const match of value.matchAll(LOCAL_REF)) out.add(match[1]!);
  else if (Array.isArray(value)) for (const item of value) refsOf(item, out);
  else if (isMap(value)) for (const item of Object.values(value)) refsOf(item, out);
  return out;
}

/**
 * Resolves one scope's locals over the scope above (`inherited`), in dependency order; a cycle is an
 * error printing it. `data` is the file's own settings/vars/env, which locals may read.
 */
function resolveScope(raw: unknown, inherited: Section, data: Section, file: string, funcs: Funcs): Section {
  if (raw === undefined || raw === null) return inherited;
  if (!isMap(raw)) {
    throw configError('E_STACK', `"locals" in ${file} must be a map`, { location: locationOf(raw) ?? { file, line: 1, col: 1 } });
  }
  const resolved: Section = { ...inherited };
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    if (path.includes(name)) {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' → ');
      throw configError('E_LOCALS_CYCLE', `circular reference in locals: ${cycle}`, {
        location: locationOf(raw, name),
        hint: 'locals may reference each other, but not in a cycle',
      });
    }
    for (const ref of refsOf(raw[name], new Set())) if (ref in raw && ref !== name) visit(ref, [...path, name]);
    // A local referring to its own name reads the scope above (a component refining a file local).
    const scope = refsOf(raw[name], new Set()).has(name) ? { ...resolved, [name]: inherited[name] } : resolved;
    resolved[name] = renderTree(raw[name], { ...data, locals: scope }, locationOf(raw, name), true, funcs);
    copyLocation(raw, name, resolved);
    done.add(name);
  };
  for (const name of Object.keys(raw)) visit(name, []);
  return resolved;
}

/** Renders a section's templates with the locals in scope; names not known yet are left for after the merge. */
function render(value: unknown, locals: Section, data: Section, funcs: Funcs): unknown {
  return renderTree(value, { ...data, locals }, locationOf(value), false, funcs);
}

/**
 * Evaluates the YAML functions written in `locals` sections (root, type, component) with `evaluate`,
 * in place: Atmos resolves `!env` and `!exec` in locals before their templates.
 */
export async function evaluateLocalsTags(doc: Section, evaluate: (value: unknown) => Promise<unknown>): Promise<void> {
  const holders: Section[] = [doc];
  for (const [key, value] of Object.entries(doc)) if (!ROOT_KEYS.has(key) && isMap(value)) holders.push(value);
  const components = new Set<Section>();
  if (isMap(doc.components)) {
    for (const defs of Object.values(doc.components)) {
      if (!isMap(defs)) continue;
      for (const section of Object.values(defs)) {
        if (!isMap(section)) continue;
        holders.push(section);
        components.add(section);
      }
    }
  }
  for (const holder of holders) {
    if (!isMap(holder.locals)) continue;
    const raw = holder.locals;
    const evaluated = (holder.locals = await evaluate(raw));
    // A component's own local read with `!env` is kept as written (see applyLocals).
    if (components.has(holder) && isMap(evaluated)) {
      const tags: Section = {};
      for (const [key, value] of Object.entries(raw)) if (value instanceof TaggedValue && value.tag === '!env') tags[key] = value;
      if (Object.keys(tags).length) READ_FROM_ENV.set(evaluated, tags);
    }
  }
}

/**
 * A component's own locals read with `!env`, as written: they stay tagged in the component, so that
 * describe treats them as sensitive like any value read with `!env` (and reads them again with the
 * component's environment, as its vars are).
 */
const READ_FROM_ENV = new WeakMap<object, Section>();

/** The root locals of a file not parsed yet (one rendered as a template), for its template context. */
export function rootLocals(doc: unknown, file: string, funcs: Funcs): Section | undefined {
  if (!isMap(doc) || !('locals' in doc)) return undefined;
  const data: Section = {};
  for (const key of ['settings', 'vars', 'env']) if (isMap(doc[key])) data[key] = doc[key];
  return resolveScope(doc.locals, {}, data, file, funcs);
}

/** A copy of a section without its `locals`, keeping the source locations of the rest. */
function withoutLocals(section: Section): Section {
  const out: Section = {};
  copySelfLocation(section, out);
  for (const [key, value] of Object.entries(section)) {
    if (key === 'locals') continue;
    out[key] = value;
    copyLocation(section, key, out);
  }
  return out;
}

/** The file with its locals resolved into its templates, its root and type `locals` removed and each component's own resolved. */
export function applyLocals(doc: Section, file: string, funcs: Funcs): Section {
  if (!hasLocals(doc)) return doc;
  const data: Section = {};
  for (const key of ['settings', 'vars', 'env']) if (isMap(doc[key])) data[key] = doc[key];
  const rootLocals = resolveScope(doc.locals, {}, data, file, funcs);
  const out: Section = {};
  copySelfLocation(doc, out);
  const typeLocals: Record<string, Section> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'locals') continue;
    copyLocation(doc, key, out);
    if (key === 'components' || key === 'import') {
      out[key] = value;
      continue;
    }
    if (!ROOT_KEYS.has(key) && isMap(value)) {
      const locals = (typeLocals[key] = resolveScope(value.locals, rootLocals, data, file, funcs));
      out[key] = render(withoutLocals(value), locals, data, funcs);
      continue;
    }
    out[key] = render(value, rootLocals, data, funcs);
  }
  if (isMap(doc.components)) {
    const components: Section = {};
    copySelfLocation(doc.components, components);
    for (const [type, defs] of Object.entries(doc.components)) {
      copyLocation(doc.components, type, components);
      if (!isMap(defs)) {
        components[type] = defs;
        continue;
      }
      const above = typeLocals[type] ?? resolveScope(isMap(doc[type]) ? doc[type].locals : undefined, rootLocals, data, file, funcs);
      // A component's locals build on those of the bases it inherits, when they are in this file.
      const memo = new Map<string, Section>();
      const localsOf = (name: string, seen: string[]): Section => {
        const cached = memo.get(name);
        if (cached) return cached;
        const section = defs[name];
        let base = above;
        if (isMap(section) && !seen.includes(name)) {
          const inherits = isMap(section.metadata) && Array.isArray(section.metadata.inherits) ? section.metadata.inherits : [];
          // Atmos's older `component: <base>` inherits too (first, as the stack resolution merges it).
          const legacy = typeof section.component === 'string' && section.component !== name ? [section.component] : [];
          for (const parent of [...legacy, ...inherits]) {
            if (typeof parent === 'string' && isMap(defs[parent])) base = { ...base, ...localsOf(parent, [...seen, name]) };
          }
        }
        const locals = resolveScope(isMap(section) ? section.locals : undefined, base, data, file, funcs);
        memo.set(name, locals);
        return locals;
      };
      const scoped: Section = {};
      copySelfLocation(defs, scoped);
      for (const [name, section] of Object.entries(defs)) {
        copyLocation(defs, name, scoped);
        if (!isMap(section)) {
          scoped[name] = section;
          continue;
        }
        const locals = localsOf(name, []);
        const rendered = render(withoutLocals(section), locals, data, funcs) as Section;
        // The component's own locals stay in it, resolved, as Atmos keeps them: they are inherited
        // like any section and `describe` shows them (the file's and the type's locals are dropped).
        if (isMap(section.locals) && Object.keys(section.locals).length > 0) {
          const own: Section = {};
          const tagged = READ_FROM_ENV.get(section.locals);
          for (const key of Object.keys(section.locals)) {
            own[key] = tagged?.[key] ?? locals[key];
            copyLocation(section.locals, key, own);
          }
          copySelfLocation(section.locals, own);
          rendered.locals = own;
          copyLocation(section, 'locals', rendered);
        }
        scoped[name] = rendered;
      }
      components[type] = scoped;
    }
    out.components = components;
  }
  return out;
}
