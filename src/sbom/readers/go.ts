// go.mod + go.sum: the modules go.mod requires (the build list without a module cache), each with
// its own h1 hash from go.sum — never the `/go.mod` line's, which hashes only the go.mod file.
import { newPackage, hashFromH1, purlOf, type ScanResult } from '../model.js';
import type { LockInput } from './common.js';

interface Require {
  path: string;
  version: string;
  indirect: boolean;
  line: number;
}

export interface GoMod {
  module?: string;
  requires: Require[];
  replaces: Map<string, { path: string; version?: string }>;
  errors: { line: number; message: string }[];
}

export function parseGoMod(text: string): GoMod {
  const mod: GoMod = { requires: [], replaces: new Map(), errors: [] };
  let block: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const comment = raw.indexOf('//');
    const indirect = comment >= 0 && /\/\/\s*indirect\b/.test(raw.slice(comment));
    const line = (comment >= 0 ? raw.slice(0, comment) : raw).trim();
    if (!line) continue;
    if (block) {
      if (line === ')') {
        block = undefined;
        continue;
      }
      directive(block, line, i + 1, indirect);
      continue;
    }
    const m = /^(\w+)\s*(.*)$/.exec(line);
    if (!m) {
      mod.errors.push({ line: i + 1, message: `unexpected ${JSON.stringify(line)}` });
      continue;
    }
    const [, verb, rest] = m;
    if (rest === '(') block = verb;
    else directive(verb!, rest!, i + 1, indirect);
  }
  if (block) mod.errors.push({ line: lines.length, message: `unclosed ${block} ( block` });
  return mod;

  function directive(verb: string, rest: string, line: number, indirect: boolean) {
    const words = rest.split(/\s+/).map((w) => w.replace(/^"|"$/g, ''));
    if (verb === 'module') mod.module = words[0];
    else if (verb === 'require') {
      if (words.length < 2 || !words[1]!.startsWith('v')) mod.errors.push({ line, message: `require needs "<module> <version>", found ${JSON.stringify(rest)}` });
      else mod.requires.push({ path: words[0]!, version: words[1]!, indirect, line });
    } else if (verb === 'replace') {
      const arrow = words.indexOf('=>');
      if (arrow < 1) mod.errors.push({ line, message: `replace needs "=>", found ${JSON.stringify(rest)}` });
      else mod.replaces.set(words[0]!, { path: words[arrow + 1]!, version: words[arrow + 2] });
    } else if (!['go', 'toolchain', 'exclude', 'retract', 'godebug', 'tool', 'ignore'].includes(verb)) {
      mod.errors.push({ line, message: `unknown directive ${verb}` });
    }
  }
}

/** `github.com/gin-gonic/gin` → namespace `github.com/gin-gonic`, name `gin`. */
function splitPath(path: string): { group?: string; name: string } {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? { name: path } : { group: path.slice(0, slash), name: path.slice(slash + 1) };
}

export function readGoModules(goMod: LockInput, goSum: LockInput | undefined): ScanResult {
  const mod = parseGoMod(goMod.text);
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  for (const e of mod.errors) result.warnings.push({ file: goMod.file, line: e.line, message: e.message });
  result.incomplete = mod.errors.length > 0;

  const sums = new Map<string, string>();
  if (goSum) {
    const lines = goSum.text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (!line) continue;
      const parts = line.split(/\s+/);
      if (parts.length !== 3 || !parts[2]!.startsWith('h1:')) {
        result.warnings.push({ file: goSum.file, line: i + 1, message: `expected "<module> <version> h1:<hash>", found ${JSON.stringify(line)}` });
        result.incomplete = true;
        continue;
      }
      if (parts[1]!.endsWith('/go.mod')) continue;
      sums.set(`${parts[0]} ${parts[1]}`, parts[2]!);
    }
  }

  const missing: string[] = [];
  for (const req of mod.requires) {
    const replaced = mod.replaces.get(req.path);
    const local = replaced && !replaced.version; // `=> ../local/dir`: no module version, no hash
    const path = replaced && !local ? replaced.path : req.path;
    const version = replaced?.version ?? req.version;
    const { group, name } = splitPath(path);
    const h1 = sums.get(`${path} ${version}`);
    const hash = h1 ? hashFromH1(h1) : undefined;
    if (!h1 && !local) missing.push(`${path}@${version}`);
    const properties: [string, string][] = [];
    if (req.indirect) properties.push(['atmos:go:indirect', 'true']);
    if (h1) properties.push(['atmos:go:h1', h1]);
    if (replaced) properties.push(['atmos:go:replaces', `${req.path}@${req.version}`]);
    const pkg = newPackage({
      ecosystem: 'golang',
      group,
      name,
      version: local ? undefined : version,
      purl: local ? undefined : purlOf('golang', group, name, version),
      hashes: hash ? [hash] : [],
      source: goMod.file,
      properties,
    });
    result.packages.push(pkg);
    // go.mod alone does not say who needs an indirect module; the main module requires them all.
    result.direct.push(pkg.id);
  }
  if (missing.length) {
    result.incomplete = true;
    result.warnings.push({
      file: goSum?.file ?? goMod.file.replace(/go\.mod$/, 'go.sum'),
      message: goSum
        ? `out of step with go.mod: no hash for ${missing.join(', ')} (run "go mod tidy")`
        : `go.sum is missing: no hashes for the ${missing.length} required modules (run "go mod tidy")`,
    });
  }
  return result;
}

