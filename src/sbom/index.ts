// The SBOM API for build, rollout and the `sbom` command: component inventories, the deployment
// document in CycloneDX 1.6 / SPDX 2.3, and the note that stores it on a commit.
import { resolve } from 'node:path';
import { isInside } from '../util/paths.js';
import type { ResolvedComponent } from '../model/types.js';
import type { ComponentSbom } from './model.js';
import type { ImageInfo, NixpackSbomInput } from './component.js';
import { configError } from '../util/errors.js';
import { builderName, installsSetupPackages } from '../model/builders.js';

export type { ComponentSbom, DeploymentSbom, SbomPackage, SbomWarning, ScanResult, Hash, Scope } from './model.js';
export type { ImageInfo, NixpackSbomInput, DirectoryComponentInput } from './component.js';
export type { NoteRepo, AttachOptions } from './store.js';
export type { SbomDiff, PackageChange } from './summary.js';
export { nixpackComponentSbom, terraformComponentSbom, helmfileComponentSbom, emptyComponentSbom, imagePackage } from './component.js';
export { attachSbom, readSbomNote, readSbomNoteText, mergeSboms, sbomNoteRef, sbomNoteRefs } from './store.js';
export { toCycloneDx, validateCycloneDx, cycloneDxDocument, fromCycloneDx } from './cyclonedx.js';
export { toSpdx, validateSpdx, spdxDocument } from './spdx.js';
export { renderSummary, renderDiff, diffSboms, toJsonShape } from './summary.js';
export { scanLockFiles } from './lockfiles.js';
export type { LockFileProgress } from './lockfiles.js';
export { scanTerraform } from './terraform.js';
export { scanHelmfile } from './helmfile.js';

export interface ComponentSbomExtras {
  /** Repository root (or the snapshot of a commit): nixpack sources are resolved against it. */
  root: string;
  /** The image a build produced (nixpack). */
  image?: ImageInfo;
  /** From the build plan (nixpack). */
  plan?: { provider?: string; pkgs?: string[]; aptPkgs?: string[]; base?: string; source?: string };
  /** Where terraform/helmfile ran (its `.terraform/` and lock files); default the component directory. */
  workdir?: string;
  /** TF_DATA_DIR of that working directory, when not `<workdir>/.terraform`. */
  dataDir?: string;
  /** Terraform: the `modules.json` init wrote in a working directory since removed. */
  modulesManifest?: string;
  commit?: string;
  /** Told the packages read so far from a nixpack component's lock files. */
  onProgress?: NixpackSbomInput['onProgress'];
}

/** The SBOM of one resolved component, whatever its type. */
export async function componentSbom(component: ResolvedComponent, extras: ComponentSbomExtras): Promise<ComponentSbom> {
  const { nixpackComponentSbom, terraformComponentSbom, helmfileComponentSbom, emptyComponentSbom } = await import('./component.js');
  const base = { name: component.name, dependsOn: component.dependsOn, commit: extras.commit, relativeTo: extras.root };
  switch (component.type) {
    case 'nixpack': {
      const source = extras.plan?.source ?? (typeof component.vars.source === 'string' ? component.vars.source : undefined);
      if (source === undefined) throw configError('E_BUILD_SOURCE', `nixpack component ${component.name} has no vars.source`, { hint: 'set vars.source to the directory of the application' });
      const sourceDir = resolve(extras.root, source);
      if (!isInside(extras.root, sourceDir)) throw configError('E_BUILD_SOURCE_OUTSIDE', `source "${source}" of nixpack component ${component.name} is outside the repository`);
      const baseRef = extras.plan?.base && !extras.plan.base.startsWith('oci:') ? extras.plan.base : undefined;
      // Listed only when the builder installs them (see installsSetupPackages); a build refuses them otherwise.
      const installs = installsSetupPackages(builderName(component.settings, component.name));
      return nixpackComponentSbom({
        ...base,
        sourceDir,
        provider: extras.plan?.provider,
        pkgs: installs ? (extras.plan?.pkgs ?? stringList(component.vars.pkgs)) : undefined,
        aptPkgs: installs ? (extras.plan?.aptPkgs ?? stringList(component.vars.apt_pkgs)) : undefined,
        baseImage: baseRef ?? stringOf((component.vars.image as Record<string, unknown> | undefined)?.base),
        image: extras.image,
        onProgress: extras.onProgress,
      });
    }
    case 'terraform':
      return terraformComponentSbom({ ...base, directory: extras.workdir ?? component.directory, dataDir: extras.dataDir, modulesManifest: extras.modulesManifest });
    case 'helmfile':
      return helmfileComponentSbom({ ...base, directory: extras.workdir ?? component.directory });
    default:
      return emptyComponentSbom(component.type, component.name, `${component.type} components have no inventory yet`, component.dependsOn);
  }
}

/** `registry/repo@sha256:…` (as deployment records keep images) → ImageInfo. */
export function parseImageRef(ref: string): ImageInfo | undefined {
  const at = ref.lastIndexOf('@');
  if (at < 0) return undefined;
  const digest = ref.slice(at + 1);
  const name = ref.slice(0, at);
  const first = name.split('/')[0]!;
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { digest, registry: hasRegistry ? first : undefined, repository: hasRegistry ? name.slice(first.length + 1) : name };
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map(String) : undefined;
}

function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

