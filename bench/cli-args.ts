/**
 * The flags of the bench scripts (`npm run soak`, `npm run fuzz`): `--help`
 * prints the usage and exits 0; an unknown flag, a missing value or a value
 * that is not a number exits 2 naming it, with the usage — never a stack
 * trace, and never a run of a typo (a soak of NaN composes would pass).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface ScriptArgs {
  /** The name errors start with, e.g. `soak`. */
  name: string;
  /** What `--help` prints, and errors after their line. */
  usage: string;
  options: Options;
  args?: string[];
}

/** Exits the process: code 2 with `message` and the usage on stderr. */
export function usageError(script: Pick<ScriptArgs, "name" | "usage">, message: string): never {
  console.error(`${script.name}: ${message}\n\n${script.usage}`);
  process.exit(2);
}

/** With `--help` (or `-h`) among `args`: prints the usage and exits 0. */
export function answerHelp(script: Pick<ScriptArgs, "usage">, args: readonly string[]): void {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(script.usage);
    process.exit(0);
  }
}

/** The flags' string values, or the process exits (0 for `--help`, 2 for a bad flag). */
export function scriptArgs(script: ScriptArgs): Record<string, string | undefined> {
  const args = script.args ?? process.argv.slice(2);
  answerHelp(script, args);
  try {
    const { values } = parseArgs({ args, options: script.options, strict: true });
    return values as Record<string, string | undefined>;
  } catch (e) {
    // node's parse errors (ERR_PARSE_ARGS_*) say which flag; anything else is ours.
    if (!String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_")) throw e;
    usageError(script, (e as Error).message);
  }
}

/**
 * A flag's number ≥ 0 (`integer`: a whole one), `fallback` when it is absent;
 * otherwise the process exits 2 naming the flag.
 */
export function numberFlag(
  script: Pick<ScriptArgs, "name" | "usage">,
  values: Record<string, string | undefined>,
  flag: string,
  fallback: number,
  opts: { integer?: boolean } = {},
): number {
  const v = values[flag];
  if (v === undefined) return fallback;
  const n = Number(v);
  const ok =
    v.trim() !== "" && n >= 0 && (opts.integer ? Number.isSafeInteger(n) : Number.isFinite(n));
  if (!ok)
    usageError(
      script,
      `--${flag} must be a ${opts.integer ? "whole number" : "number"} ≥ 0, not ${JSON.stringify(v)}`,
    );
  return n;
}
