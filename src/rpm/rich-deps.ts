/**
 * rpm rich (boolean) dependencies: `(a and b)`, `(a or b)`, `(a if b)`,
 * `(a if b else c)`, `(a unless b)`, `(a unless b else c)`, `(a with b)`,
 * `(a without b)`, nested with parentheses. Leaves are `name [op evr]`.
 */
import { parseDepString } from "./dep-match.ts";
import type { Dep } from "./types.ts";

export type RichOp = "and" | "or" | "if" | "unless" | "with" | "without";

export type RichDep =
  | { kind: "leaf"; dep: Dep }
  | { kind: "op"; op: RichOp; args: RichDep[]; otherwise?: RichDep };

const OPS = new Set<string>(["and", "or", "if", "unless", "with", "without"]);

export const isRich = (name: string) => name.charCodeAt(0) === 40;

/** Parse a rich dependency string; throws on malformed input. */
export function parseRich(text: string): RichDep {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = () => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`truncated rich dependency: ${text}`);
    return t;
  };
  function term(): RichDep {
    if (peek() === "(") return group();
    const words: string[] = [];
    while (i < tokens.length) {
      const t = peek();
      if (t === undefined || t === "(" || t === ")" || t === "else" || OPS.has(t)) break;
      words.push(take());
    }
    if (words.length === 0) throw new Error(`empty operand in rich dependency: ${text}`);
    return { kind: "leaf", dep: parseDepString(words.join(" ")) };
  }
  function group(): RichDep {
    if (take() !== "(") throw new Error(`expected ( in rich dependency: ${text}`);
    const first = term();
    const t = peek();
    if (t === ")") {
      take();
      return first;
    }
    const op = take();
    if (!OPS.has(op)) throw new Error(`unknown operator ${op} in rich dependency: ${text}`);
    const node: RichDep = { kind: "op", op: op as RichOp, args: [first, term()] };
    for (;;) {
      const next = take();
      if (next === ")") return node;
      if (next === "else" && (op === "if" || op === "unless") && !node.otherwise) {
        node.otherwise = term();
      } else if (next === op && (op === "and" || op === "or" || op === "with")) {
        node.args.push(term());
      } else throw new Error(`unexpected ${next} in rich dependency: ${text}`);
    }
  }
  const tree = group();
  if (i !== tokens.length) throw new Error(`trailing text in rich dependency: ${text}`);
  return tree;
}

/** Split into `(`, `)` and words; parentheses inside a word (`foo(x86-64)`) stay in it. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  let word = "";
  let depth = 0;
  for (const ch of text) {
    if (word && ch === "(") depth++;
    if (depth > 0) {
      word += ch;
      if (ch === ")") depth--;
    } else if (ch === "(" || ch === ")" || ch === " " || ch === "\t") {
      if (word) out.push(word);
      word = "";
      if (ch === "(" || ch === ")") out.push(ch);
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

/** Every leaf dep in the tree (for indexing and conflict checks). */
export function richLeaves(node: RichDep, out: Dep[] = []): Dep[] {
  if (node.kind === "leaf") out.push(node.dep);
  else {
    for (const a of node.args) richLeaves(a, out);
    if (node.otherwise) richLeaves(node.otherwise, out);
  }
  return out;
}
