import { describe, expect, it } from 'vitest';
import { didYouMean, ProblemList } from '../../../src/util/errors.js';
import { formatError } from '../../../src/cli/main.js';

describe('errors', () => {
  it('suggests the closest known key', () => {
    expect(didYouMean('stackz', ['stacks', 'targets', 'components'])).toBe('stacks');
    expect(didYouMean('zzzzzzzz', ['stacks', 'targets'])).toBeUndefined();
  });

  it('reports every collected problem with its location', () => {
    const problems = new ProblemList();
    problems.add('unknown key "stackz"', { file: '/repo/deployments/a.yaml', line: 3, col: 5 }, 'did you mean "stacks"?');
    problems.add('missing required key "name"', { file: '/repo/deployments/a.yaml', line: 1, col: 1 });
    let thrown: unknown;
    try {
      problems.throwIfAny();
    } catch (error) {
      thrown = error;
    }
    const text = formatError(thrown as never, '/repo');
    expect(text).toContain('deployments/a.yaml:3:5: unknown key "stackz"');
    expect(text).toContain('hint: did you mean "stacks"?');
    expect(text).toContain('deployments/a.yaml:1:1: missing required key "name"');
  });
});
