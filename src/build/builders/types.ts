// The interface every builder implements (settings.nixpack.builder).
import type { BaseImage } from '../base.js';
import type { Layout, Descriptor } from '../layout.js';
import type { RegistryOptions } from '../registry.js';
import type { BuildPlan, BuilderName, LayerProgress } from '../types.js';
import type { Logger } from '../../util/logger.js';

export interface BuilderContext {
  root: string;
  deployment: string;
  component: string;
  plan: BuildPlan;
  /** Files of the source (relative to it), as readSourceTree listed them. */
  files: string[];
  /** Scratch folder owned by this build (`.atmos/build/<d>/<component>/`). */
  scratch: string;
  /** The layout the image is written into. */
  layout: Layout;
  env: NodeJS.ProcessEnv;
  /** Seconds since the epoch used for every timestamp (SOURCE_DATE_EPOCH or 0). */
  mtime: number;
  registry: RegistryOptions;
  log: Logger;
  signal?: AbortSignal;
  /** This image's progress: its steps and the layers as they are written. */
  progress?: { step(step: string): void; layer(layer: LayerProgress): void };
}

export interface BuilderResult {
  manifest: Descriptor;
  /** The base image, when the builder knows it (native). */
  base?: BaseImage;
  /** Seconds spent and bytes written per layer, for --verbose and the benchmark. */
  stats?: { layer: string; bytes: number; seconds: number }[];
}

export interface Builder {
  name: BuilderName;
  /** Throws a clear error naming what to install when the builder cannot run here. */
  checkAvailable(env: NodeJS.ProcessEnv): Promise<void>;
  build(ctx: BuilderContext): Promise<BuilderResult>;
}
