// The operating-system packages of an image, read from its layers as a container runtime stacks
// them: Debian/Ubuntu `var/lib/dpkg/status`, distroless `var/lib/dpkg/status.d/*`, Alpine
// `lib/apk/db/installed`, and the distribution from `etc/os-release` (or `usr/lib/os-release`).
// The layers' tar streams are read, never extracted: only regular files are taken, a link is never
// followed, and a name with `..` is skipped, so a hostile layer cannot make us read anything else.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { extract } from 'tar-stream';
import { newPackage, purlOf, type SbomPackage, type SbomWarning } from '../model.js';

const DPKG_STATUS = 'var/lib/dpkg/status';
const DPKG_STATUS_D = 'var/lib/dpkg/status.d';
const APK_INSTALLED = 'lib/apk/db/installed';
const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];
/** A database larger than this is not a package database (nor held in memory). */
const MAX_FILE = 64 * 1024 * 1024;

export interface OsPackages {
  packages: SbomPackage[];
  /** `debian-12`, `alpine-3.19.1`: the purls' `distro` qualifier. */
  distro?: string;
  warnings: SbomWarning[];
}

/** Whether a path of the image is one the inventory reads. */
function wanted(path: string): boolean {
  if (path === DPKG_STATUS || path === APK_INSTALLED || OS_RELEASE.includes(path)) return true;
  // distroless: one file per package (and its `.md5sums`, which is not a package).
  return path.startsWith(`${DPKG_STATUS_D}/`) && !path.slice(DPKG_STATUS_D.length + 1).includes('/') && !path.endsWith('.md5sums');
}

/** `./a/b`, `/a/b/` → `a/b`; undefined for names that climb (`..`) or name the root. */
export function normalizeEntryName(name: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (!parts.length || parts.includes('..')) return undefined;
  return parts.join('/');
}

/**
 * The files the inventory reads, as the stacked layers leave them: a later layer's file replaces an
 * earlier one, a whiteout (`.wh.<name>`) deletes it, an opaque directory (`.wh..wh..opq`) hides
 * everything below it from earlier layers, and anything that is not a regular file (a symlink, a
 * hard link, a device) hides the path without giving it content.
 */
export async function readLayerFiles(layers: string[], warnings: SbomWarning[] = []): Promise<Map<string, Buffer>> {
  const state = new Map<string, Buffer>();
  for (const layer of layers) {
    const added = new Map<string, Buffer | undefined>();
    const hidden = new Set<string>();
    const opaque: string[] = [];
    const tar = extract();
    tar.on('entry', (header, stream, next) => {
      const path = normalizeEntryName(header.name);
      const done = (content?: Buffer) => {
        if (path && content) added.set(path, content);
        next();
      };
      if (!path) return drain(stream, done);
      const slash = path.lastIndexOf('/');
      const dir = slash < 0 ? '' : path.slice(0, slash);
      const base = path.slice(slash + 1);
      if (base === '.wh..wh..opq') opaque.push(dir);
      else if (base.startsWith('.wh.')) hidden.add(`${dir ? `${dir}/` : ''}${base.slice(4)}`);
      else if (header.type !== 'directory') {
        hidden.add(path);
        added.delete(path);
        if (wanted(path) && (header.type === 'file' || header.type === 'contiguous-file')) {
          if ((header.size ?? 0) > MAX_FILE) warnings.push({ file: path, message: `${path} is larger than ${MAX_FILE / 1024 / 1024} MB; it was not read` });
          else return collect(stream, done);
        }
      }
      drain(stream, done);
    });
    try {
      await pipeline([...(await openLayer(layer)), tar]);
    } catch (error) {
      warnings.push({ file: 'image layers', message: `a layer of the base image could not be read: ${(error as Error).message}` });
      continue;
    }
    for (const key of [...state.keys()]) {
      const parts = key.split('/');
      const under = (prefix: string) => prefix === '' || key.startsWith(`${prefix}/`);
      if (opaque.some(under) || parts.some((_, i) => hidden.has(parts.slice(0, i + 1).join('/')))) state.delete(key);
    }
    for (const [path, content] of added) if (content) state.set(path, content);
  }
  return state;
}

/** An entry's stream (tar-stream's own type). */
interface EntryStream {
  on(event: string, listener: (chunk?: unknown) => void): unknown;
  resume(): unknown;
}

function drain(stream: EntryStream, done: () => void): void {
  stream.on('end', () => done());
  stream.resume();
}

function collect(stream: EntryStream, done: (content: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk) => chunks.push(chunk as Buffer));
  stream.on('end', () => done(Buffer.concat(chunks)));
}

/** The layer's tar stream, whatever its compression (gzip, zstd or none), told by its first bytes. */
async function openLayer(path: string): Promise<NodeJS.ReadWriteStream[] | [Readable, ...NodeJS.ReadWriteStream[]]> {
  const handle = await open(path, 'r');
  const magic = Buffer.alloc(4);
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (magic[0] === 0x1f && magic[1] === 0x8b) return [createReadStream(path), zlib.createGunzip()];
  if (magic.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
    if (!zstd) throw new Error('it is compressed with zstd, which this Node.js cannot decompress (Node.js 22.15 or later can)');
    return [createReadStream(path), zstd()];
  }
  return [createReadStream(path)];
}

/** `KEY="value"` lines of os-release(5). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!;
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(["'`$\\])/g, '$1');
    out[m[1]!] = value;
  }
  return out;
}

/** Control-file paragraphs (`Field: value`, continuation lines start with a space). */
function paragraphs(text: string, separator: RegExp): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const block of text.split(/\n[ \t]*\n/)) {
    const fields: Record<string, string> = {};
    let last: string | undefined;
    for (const line of block.split('\n')) {
      if (/^[ \t]/.test(line) && last) {
        fields[last] += `\n${line.trim()}`;
        continue;
      }
      const m = separator.exec(line);
      if (!m) continue;
      last = m[1]!;
      // apk repeats some letters (one `F:` per folder); the first is kept.
      fields[last] ??= m[2]!.trim();
    }
    if (Object.keys(fields).length) out.push(fields);
  }
  return out;
}

export function parseDpkgStatus(text: string): Record<string, string>[] {
  // Entries that are not installed (removed with their configuration kept, half-installed) are not in the image.
  return paragraphs(text, /^([A-Za-z0-9-]+):\s?(.*)$/).filter((p) => p.Package && p.Version && (p.Status === undefined || p.Status.split(/\s+/)[2] === 'installed'));
}

export function parseApkInstalled(text: string): Record<string, string>[] {
  return paragraphs(text, /^([A-Za-z]):(.*)$/).filter((p) => p.P && p.V);
}

/** The OS packages of the layers (blob files, bottom layer first). */
export async function readOsPackages(layers: string[]): Promise<OsPackages> {
  const warnings: SbomWarning[] = [];
  const files = await readLayerFiles(layers, warnings);
  const osRelease = OS_RELEASE.map((p) => files.get(p)).find(Boolean);
  const release = osRelease ? parseOsRelease(osRelease.toString('utf8')) : {};
  const id = (release.ID ?? '').toLowerCase();
  const version = release.VERSION_ID ?? release.VERSION_CODENAME;
  const distro = id && version ? `${id}-${version}` : undefined;
  const packages: SbomPackage[] = [];

  const dpkg: { fields: Record<string, string>; file: string }[] = [];
  const status = files.get(DPKG_STATUS);
  if (status) for (const fields of parseDpkgStatus(status.toString('utf8'))) dpkg.push({ fields, file: DPKG_STATUS });
  for (const [path, content] of [...files].filter(([p]) => p.startsWith(`${DPKG_STATUS_D}/`)).sort(([a], [b]) => a.localeCompare(b))) {
    for (const fields of parseDpkgStatus(content.toString('utf8'))) dpkg.push({ fields, file: path });
  }
  // Ubuntu's packages are pkg:deb/ubuntu; Debian and its derivatives without a namespace of their own, pkg:deb/debian.
  const debNamespace = id === 'ubuntu' ? 'ubuntu' : 'debian';
  const debs = dpkg.map(({ fields, file }) => {
    const source = fields.Source?.split(/\s+/)[0];
    return {
      fields,
      pkg: newPackage({
        ecosystem: 'deb',
        group: undefined,
        name: fields.Package!,
        version: fields.Version,
        purl: purlOf('deb', debNamespace, fields.Package!, fields.Version, qualifiers(fields.Architecture, distro)),
        source: file,
        properties: [['atmos:installed-by', 'base image'], ...(source && source !== fields.Package ? [['atmos:deb:source', source] as [string, string]] : [])],
      }),
    };
  });
  linkDependencies(debs, (f) => [f.Package!, ...split(f.Provides, ',')], (f) => [...split(f['Pre-Depends'], ','), ...split(f.Depends, ',')]);
  packages.push(...debs.map((d) => d.pkg));

  const apkDb = files.get(APK_INSTALLED);
  if (apkDb) {
    const apks = parseApkInstalled(apkDb.toString('utf8')).map((fields) => ({
      fields,
      pkg: newPackage({
        ecosystem: 'apk',
        name: fields.P!,
        version: fields.V,
        purl: purlOf('apk', id && id !== 'alpine' ? id : 'alpine', fields.P!, fields.V, qualifiers(fields.A, distro)),
        source: APK_INSTALLED,
        properties: [['atmos:installed-by', 'base image'], ...(fields.o && fields.o !== fields.P ? [['atmos:apk:origin', fields.o] as [string, string]] : [])],
      }),
    }));
    linkDependencies(apks, (f) => [f.P!, ...split(f.p, ' ')], (f) => split(f.D, ' ').filter((d) => !d.startsWith('!')));
    packages.push(...apks.map((a) => a.pkg));
  }
  return { packages, distro, warnings };
}

function qualifiers(arch: string | undefined, distro: string | undefined): Record<string, string> {
  return { ...(arch ? { arch } : {}), ...(distro ? { distro } : {}) };
}

function split(value: string | undefined, separator: string): string[] {
  return (value ?? '').split(separator).map((s) => s.trim()).filter(Boolean);
}

/** `libc6 (>= 2.34)`, `libfoo:any`, `so:libc.musl-x86_64.so.1=1`, `python3>=3.11` → the name. */
function bareName(spec: string): string {
  return spec.trim().split(/[\s(<>=~]/)[0]!.replace(/:any$|:native$/, '');
}

/**
 * Edges between installed packages: each dependency (of alternatives `a | b`, the first one
 * installed) points at the package of that name, or at one that provides it.
 */
function linkDependencies(items: { fields: Record<string, string>; pkg: SbomPackage }[], names: (f: Record<string, string>) => string[], deps: (f: Record<string, string>) => string[]): void {
  const byName = new Map<string, SbomPackage>();
  for (const { pkg } of items) byName.set(pkg.name, pkg);
  for (const { fields, pkg } of items) for (const n of names(fields).map(bareName)) if (!byName.has(n)) byName.set(n, pkg);
  for (const { fields, pkg } of items) {
    for (const dep of deps(fields)) {
      const target = dep.split('|').map((alt) => byName.get(bareName(alt))).find(Boolean);
      if (target && target !== pkg && !pkg.dependsOn.includes(target.id)) pkg.dependsOn.push(target.id);
    }
  }
}
