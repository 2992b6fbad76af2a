/**
 * What the ODCS CLI prints, byte for byte: Python's
 * `json.dumps(value, indent=4, sort_keys=True)`: keys sorted at every level,
 * four-space indent, `": "` and `","` separators, and everything outside
 * printable ASCII as `\uXXXX` (lower-case hex, surrogate pairs), as Python's
 * default `ensure_ascii` writes it.
 */
export function pythonJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 4).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  // Python sorts by code point; JS's default sort compares UTF-16 units,
  // which differs only above U+FFFF, never in ODCS's ASCII keys.
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortKeys(o[k])]),
  );
}

export interface TableRow {
  id: number;
  state_name: string;
  source_type: number;
  owner: string;
  source: string;
  time_submitted: string | null;
  time_to_expire: string | null;
}

const SOURCE_TYPE_NAMES: Record<number, string> = {
  1: "tag",
  2: "module",
  3: "repo",
  4: "pulp",
  5: "raw_config",
  6: "build",
  7: "pungi_compose",
};

/** `odcs list` without `--json`: one line per compose, columns padded, long sources cut. */
export function composeTable(items: readonly TableRow[], maxSource = 60): string {
  const head = ["ID", "STATE", "TYPE", "OWNER", "SUBMITTED", "EXPIRES", "SOURCE"];
  const rows = items.map((c) => [
    String(c.id),
    c.state_name,
    SOURCE_TYPE_NAMES[c.source_type] ?? String(c.source_type),
    c.owner,
    c.time_submitted ?? "-",
    c.time_to_expire ?? "-",
    c.source.length > maxSource ? `${c.source.slice(0, maxSource - 1)}…` : c.source,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}
