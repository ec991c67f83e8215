// Reads files once per process: a cache object that lives in the workspace (never module state).
import { closeSync, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { loadYaml, type LoadYamlOptions } from './yaml.js';
import { configError } from './errors.js';
import { decodeText } from './text.js';

/** Configuration files larger than this are refused before they are read. */
const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a configuration file as UTF-8 text. A file too large, or bytes that are not UTF-8 (which a
 * plain read would silently replace), are configuration errors with the file's location. The read is
 * synchronous: configuration files are small and read one after another (each import decides the
 * next), so a trip through the thread pool per call would cost more than the read itself.
 */
export function readConfigText(path: string): string {
  const fd = openSync(path, 'r');
  let bytes: Buffer;
  try {
    const info = fstatSync(fd);
    if (info.isFile() && info.size > MAX_CONFIG_FILE_BYTES) {
      throw configError('E_FILE_TOO_LARGE', `${path} is ${info.size} bytes; configuration files are limited to ${MAX_CONFIG_FILE_BYTES} bytes`, {
        location: { file: path, line: 1, col: 1 },
        hint: 'split the file, or check that it is the file you meant',
      });
    }
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const text = decodeText(bytes);
  // Where decoding put a replacement character that the file did not hold (EF BF BD), a byte was not UTF-8.
  for (let at = text.indexOf('\uFFFD'); at >= 0; at = text.indexOf('\uFFFD', at + 1)) {
    const offset = Buffer.byteLength(text.slice(0, at));
    if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) continue;
    const line = text.slice(0, at).split('\n').length;
    const col = at - text.lastIndexOf('\n', at - 1);
    throw configError('E_ENCODING', `${path} is not UTF-8: byte 0x${bytes[offset]!.toString(16).padStart(2, '0')} at line ${line}, column ${col}`, {
      location: { file: path, line, col },
      hint: 'save the file as UTF-8',
    });
  }
  return text;
}

/** What `stat` (or `lstat`) says of `path`, undefined where it fails (missing, not a directory on the way...). Synchronous: a few calls per command. */
export function statOf(path: string, how: (path: string) => Stats = statSync): Stats | undefined {
  try {
    return how(path);
  } catch {
    return undefined;
  }
}

/** The file's text (UTF-8, as decodeText reads it), undefined where it cannot be read. Synchronous: for a few files. */
export function readTextOf(path: string): string | undefined {
  try {
    return decodeText(readFileSync(path));
  } catch {
    return undefined;
  }
}

export class FileCache {
  private readonly texts = new Map<string, Promise<string>>();
  private readonly yamls = new Map<string, Promise<unknown>>();

  /** The file's text; the same promise for every caller. ENOENT becomes a clear error. */
  readText(path: string): Promise<string> {
    let pending = this.texts.get(path);
    if (!pending) {
      try {
        pending = Promise.resolve(readConfigText(path));
      } catch (error) {
        pending = Promise.reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? configError('E_FILE_NOT_FOUND', `file not found: ${path}`) : error);
      }
      this.texts.set(path, pending);
    }
    return pending;
  }

  /** The parsed YAML (with locations, see util/yaml.ts), parsed once per path and tag set. */
  readYaml(path: string, options: LoadYamlOptions = {}): Promise<unknown> {
    const key = `${path}\0${(options.tags ?? []).join(',')}${options.deferUnknownTags ? '\0*' : ''}`;
    let pending = this.yamls.get(key);
    if (!pending) {
      pending = this.readText(path).then((text) => loadYaml(text, path, options).value);
      this.yamls.set(key, pending);
    }
    return pending;
  }

  /** The files read so far (the deployment's inputs, for the uncommitted-changes check). */
  get paths(): string[] {
    return [...this.texts.keys()];
  }

  /** How many distinct files were read (for tests and benchmarks that check scoping). */
  get filesRead(): number {
    return this.texts.size;
  }
}
