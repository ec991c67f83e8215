// Vendor sources: parsing the go-getter-style strings Atmos accepts (git::, github.com shorthand,
// http(s) archives, local paths), rendering `{{ .Version }}`, and fetching one into a directory.
import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { configError, stepError, type SourceLocation } from '../util/errors.js';
import { GitRepo } from '../tracking/git.js';

export type ParsedSource =
  | { kind: 'git'; url: string; subdir: string; ref?: string }
  | { kind: 'archive'; url: string; format: 'tar.gz' | 'zip'; subdir: string }
  | { kind: 'local'; path: string; subdir: string };

const TEMPLATE = /\{\{\s*\.?(\w+)\s*\}\}/g;

/**
 * Whether a source can give the entry's `version`: through `{{ .Version }}` or a `?ref=` of its own.
 * Otherwise the version would only be a label while the fetch takes whatever the source has now.
 */
export function sourceNamesVersion(source: string): boolean {
  return [...source.matchAll(TEMPLATE)].some((m) => m[1] === 'Version') || /[?&]ref=/.test(source);
}

/** Renders `{{ .Version }}` and `{{ .Component }}` (Atmos's vendor template values). */
export function renderTemplate(text: string, values: { version?: string; component?: string }, location?: SourceLocation): string {
  return text.replace(TEMPLATE, (match, name: string) => {
    const value = name === 'Version' ? values.version : name === 'Component' ? values.component : undefined;
    if (value === undefined) {
      throw configError('E_VENDOR_TEMPLATE', `vendor source uses ${match}, which has no value here`, {
        location,
        hint: name === 'Version' ? 'set version: on the entry' : 'only {{ .Version }} and {{ .Component }} are available',
      });
    }
    return value;
  });
}

/** Splits `<base>//<subdir>` where `//` after the scheme separates the repository from the subdir. */
function splitSubdir(rest: string): [string, string] {
  const schemeEnd = rest.indexOf('://');
  const from = schemeEnd >= 0 ? schemeEnd + 3 : 0;
  // file:///abs/path: the third slash belongs to the path.
  const searchFrom = rest.startsWith('file:///') ? from + 1 : from;
  const at = rest.indexOf('//', searchFrom);
  if (at < 0) return [rest, ''];
  return [rest.slice(0, at), rest.slice(at + 2).replace(/^\/+|\/+$/g, '')];
}

function splitQuery(text: string): [string, URLSearchParams] {
  const q = text.indexOf('?');
  if (q < 0) return [text, new URLSearchParams()];
  return [text.slice(0, q), new URLSearchParams(text.slice(q + 1))];
}

/** Parses a rendered source string; `baseDir` anchors relative local paths. */
export function parseSource(source: string, baseDir: string, location?: SourceLocation): ParsedSource {
  let text = source.trim();
  if (text.startsWith('git::')) {
    const [rest, query] = splitQuery(text.slice(5));
    const [url, subdir] = splitSubdir(rest);
    if (!url) throw configError('E_VENDOR_SOURCE', `vendor source ${source} has no repository URL`, { location });
    return { kind: 'git', url, subdir, ref: query.get('ref') ?? undefined };
  }
  const github = /^(?:https?:\/\/)?(github\.com|gitlab\.com|bitbucket\.org)\/([^/?]+)\/([^/?]+?)(?:\.git)?(\/\/[^?]*)?(\?.*)?$/.exec(text);
  if (github && !/\.(tar\.gz|tgz|zip)(\?|$)/.test(text)) {
    const [, host, org, repo, sub, q] = github;
    const query = new URLSearchParams((q ?? '').slice(1));
    return {
      kind: 'git',
      url: `https://${host}/${org}/${repo}.git`,
      subdir: (sub ?? '').replace(/^\/+|\/+$/g, ''),
      ref: query.get('ref') ?? undefined,
    };
  }
  if (/^https?:\/\//.test(text)) {
    const [rest, query] = splitQuery(text);
    const [url, subdir] = splitSubdir(rest);
    const archive = query.get('archive');
    const lower = url.toLowerCase();
    const format = archive === 'zip' || lower.endsWith('.zip') ? 'zip' : archive === 'tar.gz' || archive === 'tgz' || lower.endsWith('.tar.gz') || lower.endsWith('.tgz') ? 'tar.gz' : undefined;
    if (!format) {
      throw configError('E_VENDOR_SOURCE', `unsupported vendor source ${source}`, {
        location,
        hint: 'http(s) sources must be .tar.gz, .tgz or .zip archives; for a git repository write git::https://…',
      });
    }
    query.delete('archive');
    const kept = query.toString();
    return { kind: 'archive', url: kept ? `${url}?${kept}` : url, format, subdir };
  }
  if (text.startsWith('file://')) text = decodeURIComponent(text.slice('file://'.length));
  if (/^[a-z][a-z0-9+.-]*::/i.test(text) || /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw configError('E_VENDOR_SOURCE', `unsupported vendor source ${source}`, {
      location,
      hint: 'use git::<url>//<dir>?ref=<version>, github.com/org/repo//<dir>?ref=<version>, an http(s) .tar.gz/.zip or a local path',
    });
  }
  const [path, subdir] = splitSubdir(text);
  return { kind: 'local', path: isAbsolute(path) ? path : resolve(baseDir, path), subdir };
}

export interface FetchOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Fetches the whole source into `dir` (empty); returns the directory holding the component (dir + subdir). */
export async function fetchSource(parsed: ParsedSource, dir: string, display: string, options: FetchOptions): Promise<string> {
  await mkdir(dir, { recursive: true });
  if (parsed.kind === 'git') {
    await fetchGit(parsed.url, parsed.ref, dir, display, options);
    return dir;
  }
  if (parsed.kind === 'archive') {
    const bytes = await download(parsed.url, display, options);
    const { extractTarGz, extractZip } = await import('./archive.js');
    if (parsed.format === 'zip') await extractZip(bytes, dir);
    else await extractTarGz(bytes, dir);
    return dir;
  }
  try {
    const info = await stat(parsed.path);
    if (!info.isDirectory()) throw new Error('not a directory');
  } catch {
    throw stepError('E_VENDOR_UNREACHABLE', `vendor source ${display}: ${parsed.path} is not a directory`, {
      hint: 'check the path (relative paths start at the file that declares the entry)',
    });
  }
  return parsed.path;
}

async function fetchGit(url: string, ref: string | undefined, dir: string, display: string, options: FetchOptions): Promise<void> {
  // The adapter never waits for a password on a terminal: a missing credential is an error the user can act on.
  const repo = new GitRepo(dir, { env: options.env, signal: options.signal });
  const git = (args: string[]) => repo.git(args, { check: false });
  await git(['init', '-q']);
  const fetched = await git(['-c', 'protocol.version=2', 'fetch', '-q', '--depth', '1', '--no-tags', url, ref ?? 'HEAD']);
  if (fetched.code !== 0) {
    const message = fetched.stderr.trim();
    if (/couldn't find remote ref|not our ref|unadvertised object|no such ref/i.test(message)) {
      throw stepError('E_VENDOR_REF', `vendor source ${display}: unknown ref ${ref ?? 'HEAD'}`, {
        hint: 'check the version: it must be a tag, branch or commit of the repository',
        output: message,
      });
    }
    throw stepError('E_VENDOR_UNREACHABLE', `vendor source ${display}: cannot fetch ${url}`, {
      hint: 'check the URL, your network and your git credentials',
      output: message,
    });
  }
  // No hooks: a vendored checkout must not run anything from a git template directory.
  const checkout = await git(['-c', 'advice.detachedHead=false', '-c', 'core.hooksPath=/dev/null', 'checkout', '-q', 'FETCH_HEAD']);
  if (checkout.code !== 0) {
    throw stepError('E_VENDOR_CHECKOUT', `vendor source ${display}: checkout failed`, { output: checkout.stderr.trim() });
  }
}

async function download(url: string, display: string, options: FetchOptions): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal, redirect: 'follow' });
  } catch (error) {
    throw stepError('E_VENDOR_UNREACHABLE', `vendor source ${display}: cannot download ${url}`, {
      hint: 'check the URL and your network',
      output: String((error as Error).cause ?? (error as Error).message),
    });
  }
  if (!response.ok) {
    throw stepError('E_VENDOR_UNREACHABLE', `vendor source ${display}: ${url} answered HTTP ${response.status}`, {
      hint: response.status === 404 ? 'check the URL and the version in it' : 'check the URL and your credentials',
    });
  }
  return new Uint8Array(await response.arrayBuffer());
}

