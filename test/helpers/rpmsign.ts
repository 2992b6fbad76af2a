/**
 * Throwaway OpenPGP keys and RPM signing for tests.
 *
 *   const key = await createTestKey("rsa");       // or "dsa"
 *   key.keyId    // 16 lower-case hex; key.sigkey = last 8 (what Koji/Pungi call the sigkey)
 *   const signed = await signRpm(built.path, key); // signed copy, cached beside the original
 *
 * Keys have no passphrase and live in a GNUPGHOME under `.cache/gnupg/<kind>`
 * (git-ignored), created once and reused so signed copies stay cacheable.
 * `rpmsign --addsign --define '_gpg_name <keyId>'` writes the signature; the
 * gpg-agent it starts is stopped again after each call.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const GPG_BIN = "/usr/bin/gpg";
const GNUPG_CACHE = resolve(import.meta.dirname, "../../.cache/gnupg");

export type KeyKind = "rsa" | "dsa";

export interface TestKey {
  kind: KeyKind;
  gnupgHome: string;
  /** 16 lower-case hex digits. */
  keyId: string;
  /** Last 8 hex digits of `keyId`. */
  sigkey: string;
  /** ASCII-armoured public key (for `rpm --import` or a repo's gpgkey). */
  publicKey: string;
}

const KEY_PARAMS: Record<KeyKind, string> = {
  rsa: "Key-Type: RSA\nKey-Length: 2048\n",
  dsa: "Key-Type: DSA\nKey-Length: 2048\n",
};

async function gpg(home: string, args: string[], input?: string): Promise<string> {
  const p = run("gpg", ["--batch", "--homedir", home, ...args], { encoding: "utf8" });
  if (input !== undefined) p.child.stdin?.end(input);
  return (await p).stdout;
}

async function stopAgent(home: string): Promise<void> {
  await run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]).catch(() => undefined);
}

async function loadKey(kind: KeyKind, home: string): Promise<TestKey> {
  const colons = await gpg(home, ["--with-colons", "--list-secret-keys"]);
  const keyId = /^sec:[^:]*:[^:]*:[^:]*:([0-9A-F]{16}):/m.exec(colons)?.[1]?.toLowerCase();
  if (!keyId) throw new Error(`no secret key in ${home}`);
  const publicKey = await gpg(home, ["--armor", "--export", keyId]);
  return { kind, gnupgHome: home, keyId, sigkey: keyId.slice(-8), publicKey };
}

/** The cached throwaway key of that kind, generating it on first use. */
export async function createTestKey(kind: KeyKind = "rsa"): Promise<TestKey> {
  const home = join(GNUPG_CACHE, kind);
  if (!existsSync(join(home, "ready"))) {
    await mkdir(GNUPG_CACHE, { recursive: true });
    const tmp = await mkdtemp(join(GNUPG_CACHE, `.${kind}-`));
    const params = `%no-protection\n${KEY_PARAMS[kind]}Name-Real: ODCS test ${kind}\nName-Email: ${kind}@odcs.test\nExpire-Date: 0\n%commit\n`;
    await gpg(tmp, ["--gen-key"], params);
    await stopAgent(tmp);
    await writeFile(join(tmp, "ready"), "");
    // Lost a race with another process: use theirs.
    await rename(tmp, home).catch(() => rm(tmp, { recursive: true, force: true }));
  }
  return loadKey(kind, home);
}

/**
 * A signed copy of `rpmPath` (`<dir of rpm>/signed-<sigkey>/<file>`), made
 * with rpmsign unless it already exists. The original stays unsigned.
 */
export async function signRpm(rpmPath: string, key: TestKey): Promise<string> {
  const out = join(dirname(rpmPath), `signed-${key.sigkey}`, rpmPath.split("/").at(-1) ?? "");
  if (existsSync(out)) return out;
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp.rpm`;
  await copyFile(rpmPath, tmp);
  try {
    await run(
      "rpmsign",
      [
        "--addsign",
        // Debian's rpm leaves %__gpg empty.
        ...["--define", `__gpg ${GPG_BIN}`],
        ...["--define", `_gpg_name ${key.keyId}`],
        ...["--define", `_gpg_path ${key.gnupgHome}`],
        tmp,
      ],
      { env: { ...process.env, GNUPGHOME: key.gnupgHome } },
    );
    await rename(tmp, out);
  } finally {
    await rm(tmp, { force: true });
    await stopAgent(key.gnupgHome);
  }
  return out;
}

/** Sign several RPMs with one key (sequentially: one agent per key home). */
export async function signRpms(paths: string[], key: TestKey): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) out.push(await signRpm(p, key));
  return out;
}

/** The public key file for `rpm --import`/gpgkey, written into `dir`. */
export async function writePublicKey(dir: string, key: TestKey): Promise<string> {
  const p = join(dir, `RPM-GPG-KEY-${key.sigkey}`);
  await writeFile(p, key.publicKey);
  return p;
}
