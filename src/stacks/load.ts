// Loads a deployment's stacks as the imports of a virtual parent stack: resolves every `import:`
// (relative, base-relative, extension inference, globs, object form with template context), reads
// only those files, applies Atmos's `overrides` scoping, and deep-merges everything in import order.
import { basename, dirname, relative, resolve, sep } from 'node:path';
import type { AtmosConfig, ListMergeStrategy } from '../config/types.js';
import { COMPONENT_TYPES } from '../config/types.js';
import { configError, didYouMean, formatLocation, ProblemList, type SourceLocation } from '../util/errors.js';
import type { FileCache } from '../util/files.js';
import { isInside, isReallyInside } from '../util/paths.js';
import { globHasExtension, isStackGlob, matchStackFiles, nearStackName, STACK_FILE } from '../config/stack-files.js';
import { copyLocation, copySelfLocation, keyLocationOf, loadYaml, locationOf, setLocation } from '../util/yaml.js';
import { evaluateTags, LOAD_TIME_TAGS, STACK_YAML_OPTIONS } from './functions.js';
import { checkStackKeys, STACK_SECTIONS } from './keys.js';
import { cloneTree, deepMerge, isMap, mergeAll } from './merge.js';
import { applyLocals, evaluateLocalsTags, rootLocals } from './locals.js';
import { envFunc, renderString } from './template.js';

export interface LoadStacksInput {
  config: AtmosConfig;
  files: FileCache;
  env: NodeJS.ProcessEnv;
  /** The deployment's `stacks:` list, read like the `import:` list of a parent stack. */
  imports: string[];
  /** Where the list was written (the deployment file's `stacks:`), for "not found" errors. */
  importedFrom?: SourceLocation;
  /** Per-entry locations of `imports`, when known (better than `importedFrom`). */
  importLocations?: (SourceLocation | undefined)[];
}

export type Section = Record<string, unknown>;

export interface StackSet {
  strategy: ListMergeStrategy;
  /** Root sections merged over every file, in import order. */
  vars: Section;
  settings: Section;
  env: Section;
  /** `stacks.inherit.metadata: false` of atmos.yaml: bases' metadata is not merged into a component's. */
  inheritMetadata?: false;
  /** Stack-wide `metadata` (labels, tags, custom, enabled, locked, terraform_workspace_pattern): the lowest layer of every component's. */
  metadata: Section;
  /** Type-level sections (`terraform:`, `helmfile:`, `nixpack:`...) merged: vars, settings, env, providers, backend_type, backend, overrides... */
  types: Record<string, Section>;
  /**
   * Component sections per type, merged over every file. Each carries the `overrides` that apply to
   * it (the overrides of the file that defines it and of the files importing that one), as in Atmos.
   */
  components: Record<string, Record<string, Section>>;
  /** Files (absolute) that define each component, in merge order: `definedIn[type][name]`. */
  definedIn: Record<string, Record<string, string[]>>;
  /**
   * The top-level stack files (the deployment's `stacks:` entries, globs expanded) in order: each
   * one's key, its manifest `name:` when set, and the components its import closure defines
   * (`type/name`). Atmos names a stack after these (see `atmosStackName` in workspace.ts).
   */
  topLevel: { key: string; name?: string; defines: Set<string> }[];
  /** Every file read (absolute paths), in first-read order. */
  files: string[];
  /** The stacks base path the files are relative to. */
  basePath: string;
}

/** Root keys of a stack file that are not type-level sections. */
const ROOT_KEYS = new Set<string>(STACK_SECTIONS);

interface ImportRequest {
  path: string;
  context: Section;
  /** Data for templates in this file's import paths: settings/vars/env of the imports before it, as in Atmos. */
  pathContext: Section;
  skipTemplates: boolean;
  ignoreMissing: boolean;
  skipIfMissing: boolean;
  location?: SourceLocation;
}

interface ChainEntry {
  file: string;
  location?: SourceLocation;
}

/** Overrides declared by one file: root `overrides` (every type) and `<type>.overrides`. */
interface OverrideScope {
  global?: Section;
  byType: Record<string, Section>;
}

/** Overrides per component type, merged. */
type TypedOverrides = Record<string, Section | undefined>;

/**
 * What a visited file passes on, as in Atmos: `inline` is its own overrides under its importers'
 * (theirs win); `imports` is what it received plus the overrides of everything it imported.
 */
interface OverridesState {
  inline: TypedOverrides;
  imports: TypedOverrides;
  /** The file as read (its settings, vars and env feed the templates of later import paths). */
  doc: Section;
}

/** A stack's name: its path under the stacks directory, `/`-separated, without extension. */
export function stackKey(basePath: string, file: string): string {
  return relative(basePath, file).split(sep).join('/').replace(STACK_FILE, '');
}

export async function loadStacks(input: LoadStacksInput): Promise<StackSet> {
  const { config, files } = input;
  const basePath = config.stacksBasePath;
  const strategy = config.listMergeStrategy;
  const read: string[] = [];
  const seen = new Set<string>();
  const parsed = new Map<string, Promise<Section>>();
  const layers: Section[] = [];
  const definedIn: Record<string, Record<string, string[]>> = {};
  const topLevel: StackSet['topLevel'] = [];
  /** Every file as parsed (one per template context), checked for keys Atmos does not accept. */
  const docs = new Set<Section>();

  const localsFuncs = { env: envFunc(input.env) };
  const parse = (request: ImportRequest): Promise<Section> => {
    const render =
      !request.skipTemplates && (Object.keys(request.context).length > 0 || request.path.endsWith('.tmpl'));
    const key = render ? `${request.path}\0${JSON.stringify(request.context)}\0${request.ignoreMissing}` : request.path;
    let pending = parsed.get(key);
    if (!pending) {
      if (!seen.has(request.path)) {
        seen.add(request.path);
        read.push(request.path);
      }
      pending = (async () => {
        let doc: unknown;
        if (render) {
          const text = await files.readText(request.path);
          // The file's own locals are in its template context, as in Atmos (when it parses before rendering).
          let context = request.context;
          try {
            const locals = rootLocals(loadYaml(text, request.path, STACK_YAML_OPTIONS).value, request.path, localsFuncs);
            if (locals) context = { ...context, locals };
          } catch {
            // Not YAML until rendered (a .tmpl file): no locals to add.
          }
          const rendered = renderString(text, context, {
            location: { file: request.path, line: 1, col: 1 },
            missing: request.ignoreMissing ? 'keep' : 'error',
            fileText: true,
            delimiters: config.templateDelimiters,
          });
          doc = loadYaml(String(rendered), request.path, STACK_YAML_OPTIONS).value;
        } else {
          doc = await files.readYaml(request.path, STACK_YAML_OPTIONS);
        }
        if (doc === null || doc === undefined) return {};
        if (!isMap(doc)) {
          throw configError('E_STACK', `stack file ${request.path} must be a map of sections`, {
            location: locationOf(doc) ?? { file: request.path, line: 1, col: 1 },
          });
        }
        const evaluated = await evaluateTags(doc, {
          env: input.env,
          files,
          baseDir: dirname(request.path),
          basePath,
          atmosBasePath: config.basePath,
          root: config.root,
          only: LOAD_TIME_TAGS,
        });
        await evaluateLocalsTags(evaluated as Section, (locals) =>
          evaluateTags(locals, { env: input.env, files, baseDir: dirname(request.path), basePath, root: config.root, only: ['!env', '!exec'] }),
        );
        return normalize(applyLocals(evaluated as Section, request.path, localsFuncs));
      })();
      parsed.set(key, pending);
    }
    return pending;
  };

  /** Merges typed overrides, lowest precedence first. */
  const mergeTyped = (list: TypedOverrides[]): TypedOverrides => {
    const out: TypedOverrides = {};
    for (const type of COMPONENT_TYPES) out[type] = mergeAll(list.map((item) => item[type]), strategy) as Section | undefined;
    return out;
  };

  const visit = async (
    request: ImportRequest,
    chain: ChainEntry[],
    parentInline: TypedOverrides,
    received: TypedOverrides,
  ): Promise<OverridesState> => {
    if (chain.some((entry) => entry.file === request.path)) {
      const cycle = [...chain.slice(chain.findIndex((entry) => entry.file === request.path)), { file: request.path, location: request.location }];
      const text = cycle
        .map((entry, index) => {
          const name = stackKey(basePath, entry.file);
          return index === 0 || !entry.location ? name : `${name} (imported at ${formatLocation(entry.location)})`;
        })
        .join(' → ');
      throw configError('E_IMPORT_CYCLE', `import cycle: ${text}`, {
        location: request.location,
        hint: 'remove one of these imports; a stack file cannot import itself, directly or through others',
      });
    }
    const doc = await parse(request);
    docs.add(doc);
    // A top-level file (a `stacks:` entry) has an empty chain; every file below it adds to its closure.
    if (chain.length === 0) {
      const name = typeof doc.name === 'string' && doc.name ? doc.name : undefined;
      topLevel.push({ key: stackKey(basePath, request.path), ...(name ? { name } : {}), defines: new Set() });
    }
    const top = topLevel[topLevel.length - 1];
    const scope = overrideScope(doc);
    // Per file, root `overrides` < `<type>.overrides`; the importing files' overrides win over the file's.
    const everyType: TypedOverrides = Object.fromEntries(COMPONENT_TYPES.map((type) => [type, scope.global]));
    const inline = mergeTyped([everyType, scope.byType, parentInline]);
    const nextChain = [...chain, { file: request.path, location: request.location }];
    const imports = await visitImports(doc, request, nextChain, inline, received);
    // The file's own components: what it imported (and received) < its own and its importers' overrides.
    layers.push(withScopedOverrides(doc, mergeTyped([imports, inline])));
    const components = doc.components;
    if (isMap(components)) {
      for (const [type, defs] of Object.entries(components)) {
        if (!isMap(defs)) continue;
        for (const name of Object.keys(defs)) {
          const list = ((definedIn[type] ??= {})[name] ??= []);
          if (!list.includes(request.path)) list.push(request.path);
          top?.defines.add(`${type}/${name}`);
        }
      }
    }
    return { inline, imports, doc };
  };

  /**
   * Visits the imports of `doc` entry by entry (a glob may match several files). Each import path may
   * be a template over the settings, vars and env of the files imported before it (and its own
   * `context`), so each entry is resolved after the previous ones are read. As in Atmos, each file
   * receives the overrides of the entries before it (`received`), so an earlier sibling's overrides
   * reach the components of a later one; returns `received` with the imported files' overrides added.
   */
  const visitImports = async (
    doc: Section,
    parent: ImportRequest,
    chain: ChainEntry[],
    parentInline: TypedOverrides,
    received: TypedOverrides,
    locate = (index: number) => (Array.isArray(doc.import) ? locationOf(doc.import, index) : locationOf(doc, 'import')),
  ): Promise<TypedOverrides> => {
    const list = doc.import;
    if (list === undefined || list === null) return received;
    const entries = Array.isArray(list) ? list : [list];
    let pathContext = parent.pathContext;
    let imports = received;
    for (let index = 0; index < entries.length; index++) {
      const results: OverridesState[] = [];
      for (const child of await resolveImport(entries[index], locate(index), dirname(parent.path), parent.context, pathContext)) {
        const result = await visit(child, chain, parentInline, imports);
        results.push(result);
        const sections: Section = {};
        for (const key of ['settings', 'vars', 'env']) if (isMap(result.doc[key])) sections[key] = result.doc[key];
        if (Object.keys(sections).length) pathContext = deepMerge(pathContext, sections, strategy) as Section;
      }
      for (const result of results) imports = mergeTyped([imports, result.imports, result.inline]);
    }
    return imports;
  };

  const resolveImport = async (
    entry: unknown,
    location: SourceLocation | undefined,
    fromDir: string,
    parentContext: Section,
    pathContext: Section,
  ): Promise<ImportRequest[]> => {
    let path: string;
    let context: Section = {};
    let skipTemplates = false;
    let ignoreMissing = false;
    let skipIfMissing = false;
    if (typeof entry === 'string') {
      path = entry;
    } else if (isMap(entry)) {
      const known = ['path', 'context', 'skip_templates_processing', 'ignore_missing_template_values', 'skip_if_missing'];
      for (const key of Object.keys(entry)) {
        if (!known.includes(key)) {
          const suggestion = didYouMean(key, known);
          throw configError('E_IMPORT', `unknown key "${key}" in import`, {
            location: keyLocationOf(entry, key) ?? location,
            hint: suggestion ? `did you mean "${suggestion}"?` : `import keys: ${known.join(', ')}`,
          });
        }
      }
      if (typeof entry.path !== 'string' || !entry.path) {
        throw configError('E_IMPORT', 'an import written as a map needs a "path"', { location, hint: 'write { path: catalog/vpc, context: {...} }' });
      }
      path = entry.path;
      if (entry.context !== undefined && entry.context !== null && !isMap(entry.context)) {
        throw configError('E_IMPORT', 'import "context" must be a map', { location: locationOf(entry, 'context') ?? location });
      }
      context = (entry.context as Section | undefined) ?? {};
      skipTemplates = entry.skip_templates_processing === true;
      ignoreMissing = entry.ignore_missing_template_values === true;
      skipIfMissing = entry.skip_if_missing === true;
    } else {
      throw configError('E_IMPORT', 'an import must be a path or a map with "path"', { location });
    }
    // A template in the path is rendered over the earlier imports' sections and this import's context.
    if (!skipTemplates && path.includes(config.templateDelimiters?.[0] ?? '{{')) {
      const data = Object.keys(context).length ? (deepMerge(pathContext, context, strategy) as Section) : pathContext;
      path = String(renderString(path, data, { location, missing: ignoreMissing ? 'keep' : 'error', delimiters: config.templateDelimiters }));
    }
    // A parent's context is passed down to nested imports and wins over theirs.
    const effective = Object.keys(parentContext).length ? (deepMerge(context, parentContext, strategy) as Section) : context;
    const base = path.startsWith('./') || path.startsWith('../') ? fromDir : basePath;
    const make = (file: string): ImportRequest => ({ path: file, context: effective, pathContext, skipTemplates, ignoreMissing, skipIfMissing, location });
    // Stack files are inputs of the recorded commit: each must really be in the repository.
    const inside = async (files: string[]): Promise<ImportRequest[]> => {
      for (const file of files) {
        if (isReallyInside(config.root, file)) continue;
        const how = isInside(config.root, file) ? ' through a symbolic link' : '';
        throw configError('E_IMPORT_OUTSIDE', `the import "${path}" reads ${file}, outside the repository${how}`, {
          location,
          hint: 'stack files must be inside the repository (symbolic links must not lead out of it); copy the file into it',
        });
      }
      return files.map(make);
    };
    const found = await matchStackFiles(base, path);
    // A path left a template (skip_templates_processing, or a name kept missing) that names no file
    // is skipped, as Atmos skips it.
    if (found.files.length || skipIfMissing || path.includes('{{')) return inside(found.files);
    if (isStackGlob(path)) {
      throw configError('E_IMPORT_NOT_FOUND', `no stack files match the import "${path}"`, {
        location,
        hint: `${globHasExtension(path) ? '' : 'a pattern without extension matches .yaml files only (add .yml to match .yml files); '}no stack file under ${base} matches it`,
      });
    }
    throw configError('E_IMPORT_NOT_FOUND', `stack file not found: "${path}"`, {
      location,
      hint: notFoundHint(resolve(base, path), found.tried),
    });
  };

  const roots = input.imports;
  const virtual: ImportRequest = {
    path: resolve(basePath, '.deployment'),
    context: {},
    pathContext: {},
    skipTemplates: true,
    ignoreMissing: false,
    skipIfMissing: false,
  };
  // The deployment's `stacks:` list is the import list of a parent without overrides of its own.
  await visitImports({ import: roots }, virtual, [], {}, {}, (index) => input.importLocations?.[index] ?? input.importedFrom);

  const merged = (mergeAll(layers, strategy) as Section | undefined) ?? {};
  const typeKeys = new Set<string>([...COMPONENT_TYPES, 'packer']);
  if (isMap(merged.components)) for (const type of Object.keys(merged.components)) typeKeys.add(type);
  // All at once, every file: a typo in one must not hide the next.
  const problems = new ProblemList();
  for (const doc of docs) checkStackKeys(doc, typeKeys, problems);
  problems.throwIfAny('E_STACK_KEYS', problems.problems.length > 1 ? `${problems.problems.length} problems in the stacks of this deployment` : undefined);
  for (const key of Object.keys(merged)) if (!ROOT_KEYS.has(key) && isMap(merged[key])) typeKeys.add(key);
  const types: Record<string, Section> = {};
  const components: Record<string, Record<string, Section>> = {};
  for (const type of typeKeys) {
    types[type] = asSection(merged[type]);
    components[type] = isMap(merged.components) ? (asSection(merged.components[type]) as Record<string, Section>) : {};
  }
  return {
    strategy,
    ...(config.inheritMetadata === false ? { inheritMetadata: false as const } : {}),
    vars: asSection(merged.vars),
    settings: asSection(merged.settings),
    env: asSection(merged.env),
    metadata: asSection(merged.metadata),
    types,
    components,
    definedIn,
    topLevel,
    files: read,
    basePath,
  };
}

function asSection(value: unknown): Section {
  return isMap(value) ? value : {};
}

function notFoundHint(full: string, candidates: string[]): string {
  const tried = `tried ${candidates.map((c) => basename(c)).join(', ')} in ${dirname(full)}`;
  const suggestion = nearStackName(full);
  return suggestion ? `did you mean "${suggestion}"? (${tried})` : tried;
}

/** Drops sections written empty (`vars:` with nothing under it) so they do not wipe earlier ones. */
function normalize(doc: Section): Section {
  const out = cloneTree(doc) as Section;
  const dropNull = (map: Section, keys: Iterable<string>) => {
    for (const key of keys) if (map[key] === null) delete map[key];
  };
  dropNull(out, ['import', 'vars', 'settings', 'env', 'metadata', 'overrides', 'components']);
  for (const [key, value] of Object.entries(out)) {
    if (value === null && !ROOT_KEYS.has(key)) delete out[key];
    if (isMap(value) && !ROOT_KEYS.has(key)) dropNull(value, ['vars', 'settings', 'env', 'overrides', 'providers', 'backend']);
  }
  if (isMap(out.components)) {
    for (const [type, defs] of Object.entries(out.components)) {
      if (defs === null) {
        delete out.components[type];
        continue;
      }
      if (!isMap(defs)) continue;
      for (const [name, section] of Object.entries(defs)) {
        if (section === null) defs[name] = {};
        else if (isMap(section)) dropNull(section, ['vars', 'settings', 'env', 'metadata', 'providers', 'backend', 'overrides']);
      }
    }
  }
  return out;
}

function overrideScope(doc: Section): OverrideScope {
  const scope: OverrideScope = { byType: {} };
  if (isMap(doc.overrides)) scope.global = doc.overrides;
  for (const [key, value] of Object.entries(doc)) {
    if (ROOT_KEYS.has(key) || !isMap(value) || !isMap(value.overrides)) continue;
    scope.byType[key] = value.overrides;
  }
  return scope;
}

/** The file as a merge layer, with the overrides in scope (per type) attached to each component it defines. */
function withScopedOverrides(doc: Section, inScope: TypedOverrides): Section {
  const some = (value: Section | undefined) => value !== undefined && Object.keys(value).length > 0;
  if (!isMap(doc.components) || !Object.values(inScope).some(some)) return doc;
  const components: Section = {};
  for (const [type, defs] of Object.entries(doc.components)) {
    copyLocation(doc.components, type, components);
    const overrides = inScope[type];
    if (!isMap(defs) || !overrides || !Object.keys(overrides).length) {
      components[type] = defs;
      continue;
    }
    const scoped: Section = {};
    for (const [name, section] of Object.entries(defs)) {
      copyLocation(defs, name, scoped);
      if (!isMap(section)) {
        scoped[name] = section;
        continue;
      }
      const copy: Section = { ...section };
      for (const key of Object.keys(section)) copyLocation(section, key, copy);
      copySelfLocation(section, copy);
      copy.overrides = overrides;
      const where = locationOf(overrides);
      if (where) setLocation(copy, 'overrides', { value: where });
      scoped[name] = copy;
    }
    copySelfLocation(defs, scoped);
    components[type] = scoped;
  }
  const layer: Section = { ...doc, components };
  for (const key of Object.keys(doc)) copyLocation(doc, key, layer);
  copySelfLocation(doc, layer);
  return layer;
}
