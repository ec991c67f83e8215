// Chooses the builder named by settings.nixpack.builder (default native).
import type { BuilderName } from '../types.js';
import { cliBuilders } from './cli.js';
import { nativeBuilder } from './native.js';
import type { Builder } from './types.js';

export function getBuilder(name: BuilderName): Builder {
  return name === 'native' ? nativeBuilder : cliBuilders[name];
}

export type { Builder } from './types.js';
export { builderName } from '../../model/builders.js';
