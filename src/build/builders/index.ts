// Chooses the builder named by settings.nixpack.builder (default native).
import { configError, didYouMean } from '../../util/errors.js';
import { BUILDERS, type BuilderName } from '../types.js';
import { cliBuilders } from './cli.js';
import { nativeBuilder } from './native.js';
import type { Builder } from './types.js';

export function builderName(settings: Record<string, unknown>, component: string, location?: import('../../util/errors.js').SourceLocation): BuilderName {
  const value = (settings.nixpack as Record<string, unknown> | undefined)?.builder ?? 'native';
  if (typeof value === 'string' && (BUILDERS as readonly string[]).includes(value)) return value as BuilderName;
  const suggestion = typeof value === 'string' ? didYouMean(value, BUILDERS) : undefined;
  throw configError('E_BUILD_UNKNOWN_BUILDER', `unknown builder "${String(value)}" for nixpack component ${component}`, {
    location,
    hint: `${suggestion ? `did you mean "${suggestion}"? ` : ''}settings.nixpack.builder is one of: ${BUILDERS.join(', ')}`,
  });
}

export function getBuilder(name: BuilderName): Builder {
  return name === 'native' ? nativeBuilder : cliBuilders[name];
}

export type { Builder } from './types.js';
