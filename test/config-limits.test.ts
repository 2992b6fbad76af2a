import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("ODCS_MAX_REPOMD_BYTES / ODCS_MAX_METADATA_BYTES", () => {
  test("default to 4 MiB and 2 GiB", () => {
    const c = loadConfig({});
    expect(c.ODCS_MAX_REPOMD_BYTES).toBe(4 * 1024 * 1024);
    expect(c.ODCS_MAX_METADATA_BYTES).toBe(2 * 1024 ** 3);
  });

  test("are read from the environment as byte counts", () => {
    const c = loadConfig({ ODCS_MAX_REPOMD_BYTES: "65536", ODCS_MAX_METADATA_BYTES: "1048576" });
    expect(c.ODCS_MAX_REPOMD_BYTES).toBe(65536);
    expect(c.ODCS_MAX_METADATA_BYTES).toBe(1048576);
  });

  test.each([
    [{ ODCS_MAX_REPOMD_BYTES: "0" }, "ODCS_MAX_REPOMD_BYTES"],
    [{ ODCS_MAX_REPOMD_BYTES: "4MiB" }, "ODCS_MAX_REPOMD_BYTES"],
    [{ ODCS_MAX_METADATA_BYTES: "1000" }, "ODCS_MAX_METADATA_BYTES"],
  ])("%j is refused, naming the setting", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`invalid setting ${name}`);
  });
});
