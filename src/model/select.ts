// `--component`: the one rule every command uses to pick components by the name a user typed.
import { configError, didYouMean } from '../util/errors.js';

interface Named {
  type: string;
  name: string;
}

/**
 * The components `wanted` names, in the order of `all`, each once: `type/name`, or a name (names are
 * unique across types within a deployment). No `wanted` means all. An unknown name is exit 2 with a
 * did-you-mean, the same in every command.
 */
export function selectComponents<T extends Named>(all: readonly T[], wanted: readonly string[] | undefined, deployment: string): T[] {
  if (!wanted || wanted.length === 0) return [...all];
  const picked = new Set<T>();
  for (const name of wanted) picked.add(selectComponent(all, name, deployment));
  return all.filter((c) => picked.has(c));
}

/** One component named as `--component` names it. */
export function selectComponent<T extends Named>(all: readonly T[], name: string, deployment: string): T {
  const key = (c: Named) => `${c.type}/${c.name}`;
  const matches = all.filter((c) => key(c) === name || c.name === name);
  if (matches.length === 0) {
    const suggestion = didYouMean(name, all.flatMap((c) => [key(c), c.name]));
    throw configError('E_UNKNOWN_COMPONENT', `deployment ${deployment} has no component ${name}`, {
      hint: suggestion ? `did you mean ${suggestion}?` : all.length ? `components: ${all.map(key).join(', ')}` : 'the deployment has no components',
    });
  }
  if (matches.length > 1) {
    throw configError('E_AMBIGUOUS_COMPONENT', `${name} names several components: ${matches.map(key).join(', ')}`, {
      hint: 'write it as <type>/<name>',
    });
  }
  return matches[0]!;
}
