// A target's test checks made concrete (`atmos deployment test`): the templates of a command's
// arguments or of a URL rendered with the deployment, target, commit and the deployed outputs the
// caller read, and a command written as one string split like a shell would split it.
import type { TestCheckSpec } from '../config/types.js';
import { splitArgs } from '../stacks/functions.js';
import { renderString } from '../stacks/template.js';
import { configError } from '../util/errors.js';

/** The components whose outputs the checks' templates read (`{{ output "terraform/api" "url" }}`). */
export function outputsReadByChecks(checks: TestCheckSpec[]): string[] {
  const texts = checks.flatMap((c) => [c.http ?? '', ...(Array.isArray(c.run) ? c.run : [c.run ?? ''])]);
  return [...new Set([...texts.join('\n').matchAll(/\boutput\s+"([^"]+)"\s+"([^"]+)"/g)].map((m) => m[1]!))];
}

export function renderCheck(
  check: TestCheckSpec,
  data: Record<string, unknown>,
  outputs: Map<string, Record<string, unknown>>,
): { argv: string[] } | { url: string } {
  const funcs = {
    output: (component: unknown, key: unknown) => {
      const values = outputs.get(String(component));
      if (!values || !(String(key) in values)) {
        throw configError('E_TEMPLATE', `test ${check.name}: output "${String(component)}" "${String(key)}" is not deployed`, { location: check.location });
      }
      return values[String(key)];
    },
  };
  const render = (text: string) => String(renderString(text, data, { funcs, location: check.location }));
  if (check.http !== undefined) {
    const url = render(check.http);
    if (!/^https?:\/\//.test(url)) throw configError('E_TEST_URL', `test ${check.name}: ${url} is not an http(s) URL`, { location: check.location });
    return { url };
  }
  return { argv: (Array.isArray(check.run) ? check.run : splitArgs(check.run ?? '')).map(render) };
}
