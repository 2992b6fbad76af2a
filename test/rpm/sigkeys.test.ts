import { beforeAll, describe, expect, test } from "vitest";
import type { RpmHeader } from "../../src/rpm/header.ts";
import { formatNevra } from "../../src/rpm/nevra.ts";
import { readRpmFileHeader } from "../../src/rpm/rpm-file.ts";
import {
  InvalidSigkeyError,
  noAcceptableSignatureMessage,
  normalizeSigkey,
  packagesWithoutAcceptableSignature,
  pickKojiSigkey,
  pickSignedCopy,
  sigkeyPolicy,
} from "../../src/rpm/sigkeys.ts";
import { fixturePath } from "../helpers/fixtures.ts";

const V4 = "rpms/rpm-rs/tests/assets/RPMS/v4";
let copies: { path: string; sigkey: string | null; header: RpmHeader }[] = [];

beforeAll(async () => {
  // Four copies of rpm-basic-1:2.3.4-5.el9.noarch: unsigned, RSA4096, Ed25519, Ed25519+IMA.
  const paths = [
    `${V4}/rpm-basic-2.3.4-5.el9.noarch.rpm`,
    `${V4}/signed/rpm-basic-with-rsa4096-2.3.4-5.el9.noarch.rpm`,
    `${V4}/signed/rpm-basic-with-ed25519-2.3.4-5.el9.noarch.rpm`,
    `${V4}/signed/rpm-basic-with-ima-2.3.4-5.el9.noarch.rpm`,
  ];
  copies = await Promise.all(
    paths.map(async (p) => {
      const header = await readRpmFileHeader(fixturePath(p));
      return { path: p, sigkey: header.sigkey, header };
    }),
  );
});

describe("sigkey policy", () => {
  test("normalises case and 16-hex ids; rejects junk", () => {
    expect(normalizeSigkey("F4A80EB5")).toBe("f4a80eb5");
    expect(normalizeSigkey("24C6A8A7F4A80EB5")).toBe("f4a80eb5");
    expect(() => normalizeSigkey("f4a80eb")).toThrow(InvalidSigkeyError);
    expect(() => normalizeSigkey("zzzzzzzz")).toThrow(InvalidSigkeyError);
    expect(sigkeyPolicy(["E964F9FB30D073B5", "", "30d073b5", "27933839"])).toEqual({
      keys: ["30d073b5", "27933839"],
      allowUnsigned: true,
    });
  });

  test("the real copies carry the keys the fixture table names", () => {
    expect(copies.map((c) => c.sigkey)).toEqual([null, "30d073b5", "27933839", "27933839"]);
    expect(new Set(copies.map((c) => formatNevra({ ...c.header })))).toEqual(
      new Set(["rpm-basic-1:2.3.4-5.el9.noarch"]),
    );
  });

  test("picks the most preferred acceptable copy", () => {
    const pick = (list: (string | null)[]) => pickSignedCopy(copies, sigkeyPolicy(list))?.path;
    expect(pick(["27933839", "30d073b5"])).toContain("with-ed25519");
    expect(pick(["30d073b5", "27933839"])).toContain("with-rsa4096");
    expect(pick(["deadbeef", "e964f9fb30d073b5"])).toContain("with-rsa4096");
    expect(pick(["deadbeef", ""])).toBe(`${V4}/rpm-basic-2.3.4-5.el9.noarch.rpm`);
    expect(pick(["", "27933839"])).toContain("with-ed25519"); // unsigned only after every key
    expect(pick(["deadbeef"])).toBeUndefined();
  });

  test("Koji signature rows: '' is the unsigned header, null never matches", () => {
    const rows = [{ sigkey: "" }, { sigkey: "FD431D51" }, { sigkey: null }];
    expect(pickKojiSigkey(rows, sigkeyPolicy(["a15b79cc", "fd431d51"]))).toBe("fd431d51");
    expect(pickKojiSigkey(rows, sigkeyPolicy(["a15b79cc", ""]))).toBe("");
    expect(pickKojiSigkey(rows, sigkeyPolicy(["a15b79cc"]))).toBeUndefined();
    expect(pickKojiSigkey([{ sigkey: null }], sigkeyPolicy([""]))).toBeUndefined();
  });

  test("lists packages with no acceptable signature for the failure message", () => {
    const pkgs = [
      { nevra: "b-0:1-1.noarch", sigs: ["30d073b5"] },
      { nevra: "a-0:1-1.noarch", sigs: [null] },
      { nevra: "c-0:1-1.noarch", sigs: ["27933839", null] },
    ];
    const bad = packagesWithoutAcceptableSignature(pkgs, sigkeyPolicy(["27933839"]), (p) => p.sigs);
    expect(bad.map((p) => p.nevra)).toEqual(["b-0:1-1.noarch", "a-0:1-1.noarch"]);
    expect(noAcceptableSignatureMessage(bad.map((p) => p.nevra))).toBe(
      "the following packages have no acceptable signature: a-0:1-1.noarch, b-0:1-1.noarch",
    );
    expect(
      packagesWithoutAcceptableSignature(pkgs, sigkeyPolicy(["", "30d073b5"]), (p) => p.sigs),
    ).toEqual([]);
  });
});
