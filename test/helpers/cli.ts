/**
 * Running the real `odcs` bin (bin/odcs.js) as a child process, as a user
 * does: `runCli` waits for the exit, `startCli` gives the running process
 * (to watch its output while it waits). `inTerminal` runs it under a real
 * pseudo-terminal with script(1) from bsdutils.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./service.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<CliRun>;
}

const BIN = join(ROOT, "bin/odcs.js");

/** A shell-quoted word. */
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function startCli(
  args: string[],
  opts: { env?: Record<string, string>; inTerminal?: boolean } = {},
): CliProcess {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    TERM: "xterm",
    ...opts.env,
  };
  const command = [process.execPath, BIN, ...args];
  const child = opts.inTerminal
    ? // -q quiet, -f flush at once, -e the child's exit status; the typescript file is /dev/null.
      spawn("script", ["-qfec", command.map(sh).join(" "), "/dev/null"], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(command[0] as string, command.slice(1), {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<CliRun>((resolve) => {
    child.once("close", (code) => resolve({ code, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; inTerminal?: boolean } = {},
): Promise<CliRun> {
  return startCli(args, opts).done;
}
