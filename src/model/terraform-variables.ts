// What a terraform module declares, read from its *.tf and *.tf.json files with the one HCL reader
// (util/hcl): its variables (which are `sensitive = true`, which have a default), its outputs and the
// variables each output is computed from, and the values its auto-loaded tfvars files set.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanHcl, type HclScan } from '../util/hcl.js';

export interface ModuleVariable {
  name: string;
  sensitive: boolean;
  /** Whether the variable has a `default` (it may then be left without a value). */
  hasDefault: boolean;
  /** Where it is declared (absolute file, 1-based line; line 0 in a .tf.json file). */
  file?: string;
  line?: number;
}

type TfJson = { variable?: Record<string, { sensitive?: unknown; default?: unknown } | null>; output?: Record<string, unknown> };

// The module's files are read synchronously: a few small files, one after another.
function moduleFiles(dir: string): string[] | undefined {
  try {
    return readdirSync(dir).sort();
  } catch {
    return undefined;
  }
}

function readJson(file: string): TfJson | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TfJson;
  } catch {
    return undefined; // terraform itself will report the broken file
  }
}

// One command asks the same module several times (every target, resolution then the plan's checks):
// a file's scan is kept by its text, so a file changed meanwhile is scanned again. The scans stay in
// this module, whose functions only read them and return values of their own. What is kept is
// bounded: a file over MAX_KEPT_TEXT is never kept, and all are dropped past MAX_KEPT_BYTES of text.
const MAX_KEPT_TEXT = 256 * 1024;
const MAX_KEPT_BYTES = 8 * 1024 * 1024;
const scans = new Map<string, HclScan>();
let keptBytes = 0;

function scanOf(text: string): HclScan {
  const kept = scans.get(text);
  if (kept) return kept;
  const scan = scanHcl(text);
  if (text.length <= MAX_KEPT_TEXT) {
    if (keptBytes + text.length > MAX_KEPT_BYTES) {
      scans.clear();
      keptBytes = 0;
    }
    scans.set(text, scan);
    keptBytes += text.length;
  }
  return scan;
}

/** The declared variables by name, or undefined when the directory does not exist (yet). */
export async function moduleVariables(dir: string): Promise<Map<string, ModuleVariable> | undefined> {
  const entries = moduleFiles(dir);
  if (!entries) return undefined;
  const variables = new Map<string, ModuleVariable>();
  // Override files (`override.tf`, `*_override.tf`) merge into the declaration: a default or
  // `sensitive = true` from either counts.
  const declare = (variable: ModuleVariable) => {
    const before = variables.get(variable.name);
    variables.set(variable.name, before ? { ...before, sensitive: before.sensitive || variable.sensitive, hasDefault: before.hasDefault || variable.hasDefault } : variable);
  };
  for (const entry of entries) {
    const file = join(dir, entry);
    if (entry.endsWith('.tf')) {
      for (const variable of variablesOf(readFileSync(file, 'utf8'))) declare({ ...variable, file });
    } else if (entry.endsWith('.tf.json')) {
      for (const [name, block] of Object.entries(readJson(file)?.variable ?? {})) {
        declare({ name, sensitive: block?.sensitive === true, hasDefault: block !== null && block !== undefined && 'default' in block, file, line: 0 });
      }
    }
  }
  return variables;
}

/** The `variable` blocks of one .tf file. */
export function variablesOf(text: string): ModuleVariable[] {
  return scanOf(text)
    .blocks.filter((b) => b.type === 'variable' && b.labels[0])
    .map((b) => ({ name: b.labels[0]!, sensitive: b.attributes.get('sensitive')?.value === true, hasDefault: b.attributes.has('default'), line: b.line }));
}

/**
 * For each `output` block, the variables its expression names (`var.x`, in strings too): what the
 * output is computed from directly. Its keys are the outputs the module declares.
 */
export async function outputInputs(dir: string): Promise<Map<string, Set<string>>> {
  const found = new Map<string, Set<string>>();
  const names = (text: string) => new Set([...text.matchAll(/\bvar\.([A-Za-z_][\w-]*)/g)].map((m) => m[1]!));
  for (const entry of moduleFiles(dir) ?? []) {
    const file = join(dir, entry);
    if (entry.endsWith('.tf')) {
      for (const block of scanOf(readFileSync(file, 'utf8')).blocks) {
        if (block.type !== 'output' || !block.labels[0]) continue;
        const vars = new Set<string>();
        for (const attribute of block.attributes.values()) for (const name of attribute.vars) vars.add(name);
        found.set(block.labels[0], vars);
      }
    } else if (entry.endsWith('.tf.json')) {
      for (const [name, block] of Object.entries(readJson(file)?.output ?? {})) found.set(name, names(JSON.stringify(block)));
    }
  }
  return found;
}

/**
 * Variables the module's auto-loaded files set (`terraform.tfvars`, `*.auto.tfvars` and their .json
 * forms): terraform reads them itself, so a variable they set has a value.
 */
export async function autoTfvarsNames(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const entry of moduleFiles(dir) ?? []) {
    const file = join(dir, entry);
    if (entry === 'terraform.tfvars' || entry.endsWith('.auto.tfvars')) {
      for (const [name] of scanOf(readFileSync(file, 'utf8')).attributes) names.add(name);
    } else if (entry === 'terraform.tfvars.json' || entry.endsWith('.auto.tfvars.json')) {
      for (const name of Object.keys(readJson(file) ?? {})) names.add(name);
    }
  }
  return names;
}

