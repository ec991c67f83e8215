// The providers in detection order: the first that recognises the source wins.
import type { Provider } from '../types.js';
import { nodeProvider } from './node.js';
import { pythonProvider } from './python.js';
import { goProvider } from './go.js';
import { rustProvider } from './rust.js';
import { staticProvider } from './static.js';
import { dockerfileProvider } from './dockerfile.js';

export const LANGUAGE_PROVIDERS: Provider[] = [nodeProvider, pythonProvider, goProvider, rustProvider, staticProvider];
export { dockerfileProvider };
