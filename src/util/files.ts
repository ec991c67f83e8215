// Reads files once per process: a cache object that lives in the workspace (never module state).
import { readFile } from 'node:fs/promises';
import { loadYaml, type LoadYamlOptions } from './yaml.js';
import { configError } from './errors.js';

export class FileCache {
  private readonly texts = new Map<string, Promise<string>>();
  private readonly yamls = new Map<string, Promise<unknown>>();

  /** The file's text; the same promise for every caller. ENOENT becomes a clear error. */
  readText(path: string): Promise<string> {
    let pending = this.texts.get(path);
    if (!pending) {
      pending = readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw configError('E_FILE_NOT_FOUND', `file not found: ${path}`);
        throw error;
      });
      this.texts.set(path, pending);
    }
    return pending;
  }

  /** The parsed YAML (with locations, see util/yaml.ts), parsed once per path and tag set. */
  readYaml(path: string, options: LoadYamlOptions = {}): Promise<unknown> {
    const key = `${path}\0${(options.tags ?? []).join(',')}`;
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
