// The builders `settings.nixpack.builder` may name. Which name is valid is configuration, checked when
// a target is resolved (before anything runs); build/builders implements each of them.
import { configError, didYouMean, type SourceLocation } from '../util/errors.js';

export const BUILDERS = ['native', 'nixpacks', 'docker', 'podman', 'buildah'] as const;
export type BuilderName = (typeof BUILDERS)[number];

/** The builder a component's settings name (default native); an unknown one is exit 2 at its location. */
export function builderName(settings: Record<string, unknown>, component: string, location?: SourceLocation): BuilderName {
  const value = (settings.nixpack as Record<string, unknown> | undefined)?.builder ?? 'native';
  if (typeof value === 'string' && (BUILDERS as readonly string[]).includes(value)) return value as BuilderName;
  const suggestion = typeof value === 'string' ? didYouMean(value, BUILDERS) : undefined;
  throw configError('E_BUILD_UNKNOWN_BUILDER', `unknown builder "${String(value)}" for nixpack component ${component}`, {
    location,
    hint: `${suggestion ? `did you mean "${suggestion}"? ` : ''}settings.nixpack.builder is one of: ${BUILDERS.join(', ')}`,
  });
}

/**
 * Whether a builder installs a plan's `pkgs`/`apt_pkgs`: nixpacks does (its Dockerfile installs them);
 * the native builder runs commands on the build machine and the engines build a Dockerfile, so neither
 * installs anything. The SBOM lists them only when they are installed.
 */
export function installsSetupPackages(builder: BuilderName): boolean {
  return builder === 'nixpacks';
}
