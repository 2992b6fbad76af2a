/**
 * `rpm -qp` as an oracle: one rpm process queries many files and every value
 * comes back shell-quoted (`:shescape`), so descriptions with newlines and
 * odd bytes survive. Signature/digest checks are off so deliberately broken
 * test packages still report their headers.
 *
 *   const facts = await queryRpms(["a.rpm", "b.rpm"]);
 *   facts[0].scalars.NAME, facts[0].requires[0] → { name, flags, version }
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { decodeHeaderText } from "../../src/rpm/header-format.ts";

const run = promisify(execFile);

export interface QueriedDep {
  name: string;
  flags: number;
  version: string;
}

export interface QueriedFile {
  path: string;
  mode: number;
  flags: number;
  size: number;
}

export interface RpmFacts {
  /** Tag name → value as rpm prints it (`(none)` when absent). */
  scalars: Record<string, string>;
  provides: QueriedDep[];
  requires: QueriedDep[];
  conflicts: QueriedDep[];
  obsoletes: QueriedDep[];
  recommends: QueriedDep[];
  suggests: QueriedDep[];
  supplements: QueriedDep[];
  enhances: QueriedDep[];
  files: QueriedFile[];
}

const SCALARS = [
  "NAME",
  "EPOCH",
  "VERSION",
  "RELEASE",
  "ARCH",
  "SOURCERPM",
  "SOURCEPACKAGE",
  "SUMMARY",
  "DESCRIPTION",
  "LICENSE",
  "VENDOR",
  "GROUP",
  "BUILDHOST",
  "URL",
  "PACKAGER",
  "BUILDTIME",
  "LONGSIZE",
  "LONGARCHIVESIZE",
];
const SIGS = ["SIGGPG", "SIGPGP", "DSAHEADER", "RSAHEADER"];
const DEPS = {
  provides: "PROVIDE",
  requires: "REQUIRE",
  conflicts: "CONFLICT",
  obsoletes: "OBSOLETE",
  recommends: "RECOMMEND",
  suggests: "SUGGEST",
  supplements: "SUPPLEMENT",
  enhances: "ENHANCE",
} as const;

const PKG_MARK = "@@PKG@@";

function queryFormat(): string {
  const parts = [`${PKG_MARK}\n`];
  for (const t of SCALARS) parts.push(`S ${t} %{${t}:shescape}\n`);
  for (const t of SIGS) parts.push(`G ${t} %{${t}:pgpsig}\n`);
  for (const [kind, t] of Object.entries(DEPS)) {
    parts.push(`[D ${kind} %{${t}NAME:shescape} %{${t}FLAGS} %{${t}VERSION:shescape}\n]`);
  }
  parts.push("[F %{FILENAMES:shescape} %{FILEMODES} %{FILEFLAGS} %{LONGFILESIZES}\n]");
  return parts.join("");
}

/** Split shell words: `'…'` quoted (with `'\''` escapes) or bare, separated by blanks. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === " " || c === "\n") {
      if (c === "\n") out.push("\n");
      i++;
      continue;
    }
    let word = "";
    while (i < text.length && text.charAt(i) !== " " && text.charAt(i) !== "\n") {
      if (text.charAt(i) === "'") {
        const end = text.indexOf("'", i + 1);
        word += text.slice(i + 1, end);
        i = end + 1;
      } else if (text.charAt(i) === "\\") {
        word += text.charAt(i + 1);
        i += 2;
      } else {
        word += text.charAt(i);
        i++;
      }
    }
    out.push(decodeHeaderText(Uint8Array.from(word, (ch) => ch.charCodeAt(0))));
  }
  return out;
}

function emptyFacts(): RpmFacts {
  return {
    scalars: {},
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: [],
  };
}

function parseOutput(text: string): RpmFacts[] {
  const result: RpmFacts[] = [];
  const tokens = tokenize(text);
  let line: string[] = [];
  const flush = () => {
    const [kind, ...rest] = line;
    line = [];
    if (kind === undefined) return;
    if (kind === PKG_MARK) {
      result.push(emptyFacts());
      return;
    }
    const cur = result.at(-1);
    if (!cur) throw new Error(`rpm output before the first package mark: ${kind}`);
    const [a = "", b = "", c = "", d = ""] = rest;
    if (kind === "S") cur.scalars[a] = b;
    else if (kind === "G") cur.scalars[a] = rest.slice(1).join(" ");
    else if (kind === "D")
      cur[a as keyof typeof DEPS].push({ name: b, flags: Number(c), version: d });
    else if (kind === "F")
      cur.files.push({ path: a, mode: Number(b), flags: Number(c), size: Number(d) });
  };
  for (const t of tokens) {
    if (t === "\n") flush();
    else line.push(t);
  }
  flush();
  return result;
}

/** Facts for each file, in the same order; throws if rpm could not read one. */
export async function queryRpms(paths: string[]): Promise<RpmFacts[]> {
  const { stdout, stderr } = await run(
    "rpm",
    ["-qp", "--nosignature", "--nodigest", "--qf", queryFormat(), ...paths],
    // latin1 keeps every byte; each value is re-decoded like header text.
    { maxBuffer: 512 * 1024 * 1024, encoding: "latin1" },
  );
  if (/^error:/m.test(stderr)) throw new Error(`rpm -qp failed: ${stderr.slice(0, 2000)}`);
  const facts = parseOutput(stdout);
  if (facts.length !== paths.length) {
    throw new Error(`rpm reported ${facts.length} packages for ${paths.length} files`);
  }
  return facts;
}

/**
 * The sigkey rpm's own `:pgpsig` rendering implies, in Koji's tag order
 * (GPG, PGP, DSA, RSA header): last 8 hex digits of the first `Key ID`.
 */
export function sigkeyFromFacts(f: RpmFacts): string | null {
  for (const t of SIGS) {
    const m = /Key ID ([0-9a-f]{16})/.exec(f.scalars[t] ?? "");
    if (m?.[1]) return m[1].slice(-8);
  }
  return null;
}
