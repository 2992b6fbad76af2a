import { expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { isUrlUnderPrefix } from "../../src/domain/allowed-location.ts";

it.each([
  ["https://hooks.example.com/odcs", "https://hooks.example.com/odcs", true],
  ["https://hooks.example.com/odcs/ci", "https://hooks.example.com/odcs", true],
  ["https://hooks.example.com/odcs/ci", "https://hooks.example.com/odcs/", true],
  ["https://hooks.example.com:443/odcs/ci", "https://hooks.example.com/odcs", true],
  ["https://HOOKS.example.com/odcs", "https://hooks.example.com/", true],
  ["https://hooks.example.com/odcsevil", "https://hooks.example.com/odcs", false],
  ["https://hooks.example.com.evil.org/odcs", "https://hooks.example.com", false],
  ["https://hooks.example.com@evil.org/odcs", "https://hooks.example.com", false],
  ["https://user:pw@hooks.example.com/odcs", "https://hooks.example.com", false],
  ["http://hooks.example.com/odcs", "https://hooks.example.com/odcs", false],
  ["https://hooks.example.com:8443/odcs", "https://hooks.example.com/odcs", false],
  ["https://hooks.example.com/odcs/../admin", "https://hooks.example.com/odcs", false],
  ["https://hooks.example.com/odcs/%2e%2e/admin", "https://hooks.example.com/odcs", false],
  ["https://hooks.example.com/odcs\\..\\admin", "https://hooks.example.com/odcs", false],
  ["ftp://hooks.example.com/odcs", "ftp://hooks.example.com/", false],
  ["not a url", "https://hooks.example.com/", false],
])("%s under %s: %s", (url, prefix, want) => {
  expect(isUrlUnderPrefix(url, prefix)).toBe(want);
});

it("ODCS_WEBHOOKS entries must lie under ODCS_ALLOWED_WEBHOOK_URLS; each bad one is named", () => {
  const hooks = JSON.stringify([
    { url: "https://hooks.example.com/odcs/a", secret: "s" },
    { url: "https://hooks.example.com.evil.org/odcs", secret: "s" },
  ]);
  expect(() =>
    loadConfig({
      ODCS_WEBHOOKS: hooks,
      ODCS_ALLOWED_WEBHOOK_URLS: "https://hooks.example.com/odcs",
    }),
  ).toThrow(
    "invalid setting ODCS_WEBHOOKS.1.url: https://hooks.example.com.evil.org/odcs is not under a prefix of ODCS_ALLOWED_WEBHOOK_URLS (https://hooks.example.com/odcs)",
  );
  expect(() => loadConfig({ ODCS_WEBHOOKS: hooks })).toThrow(
    "invalid setting ODCS_WEBHOOKS.0.url: https://hooks.example.com/odcs/a is not allowed: ODCS_ALLOWED_WEBHOOK_URLS is empty",
  );
  const ok = loadConfig({
    ODCS_WEBHOOKS: JSON.stringify([
      {
        url: "https://hooks.example.com/odcs/a",
        secret: "s",
        states: ["done"],
        source_types: ["repo"],
      },
    ]),
    ODCS_ALLOWED_WEBHOOK_URLS: "https://hooks.example.com/odcs",
  });
  expect(ok.ODCS_WEBHOOKS[0]?.states).toEqual(["done"]);
  expect(() =>
    loadConfig({
      ODCS_WEBHOOKS: JSON.stringify([
        { url: "https://h.example/", secret: "s", states: ["finished"] },
      ]),
      ODCS_ALLOWED_WEBHOOK_URLS: "https://h.example/",
    }),
  ).toThrow(/ODCS_WEBHOOKS\.0\.states\.0/);
  expect(() => loadConfig({ ODCS_WEBHOOKS: "[{" })).toThrow(
    "invalid setting ODCS_WEBHOOKS: not valid JSON; expected a list of {url, secret, …}",
  );
  expect(() => loadConfig({ ODCS_AMQP_URL: "http://broker" })).toThrow(
    "invalid setting ODCS_AMQP_URL: must be an amqp:// or amqps:// URL",
  );
});

it("event settings have their defaults", () => {
  const c = loadConfig({});
  expect(c.ODCS_EVENTS_RETENTION_DAYS).toBe(14);
  expect(c.ODCS_AMQP_URL).toBeUndefined();
  expect(c.ODCS_AMQP_EXCHANGE).toBe("amq.topic");
  expect(c.ODCS_AMQP_TOPIC).toBe("odcs.compose.state-changed");
  expect(c.ODCS_WEBHOOKS).toEqual([]);
  expect(c.ODCS_WORKER_METRICS_PORT).toBeUndefined();
});
