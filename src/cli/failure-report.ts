/**
 * The one report of a failed command on stderr: `sluice: CODE: message`, the problems the error
 * lists, and `what to do:` with its fix.
 */
import { asSluiceError } from '../errors.js';
import { describeSystemError } from './exit-codes.js';

/**
 * Fixes written for the scheduler ("the request is retried") read as a promise in a command that
 * has already given up: by then the retries are spent.
 */
function oneShotFix(fix: string): string {
  return fix.replace(/the request is retried( with backoff)?/, 'retries did not help');
}

/** A listed problem (a mapping document's, a form's): where, and what is wrong there. */
interface ListedProblem {
  path?: string;
  message: string;
}

function listedProblems(details: Record<string, unknown>): ListedProblem[] {
  const problems = details.problems;
  if (!Array.isArray(problems)) return [];
  return problems.filter((problem): problem is ListedProblem => typeof (problem as ListedProblem | null)?.message === 'string');
}

/** The one report of a failed command on stderr: code and message, the problems, what to do. */
export function describeFailure(error: unknown): string {
  const failure = asSluiceError(describeSystemError(error));
  const lines = [`sluice: ${failure.code}: ${failure.message}`];
  for (const problem of listedProblems(failure.details)) lines.push(`  ${problem.path ? `${problem.path} ` : ''}${problem.message}`);
  if (failure.fix) lines.push(`  what to do: ${oneShotFix(failure.fix)}`);
  return `${lines.join('\n')}\n`;
}
