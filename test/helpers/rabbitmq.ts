/**
 * A private RabbitMQ node for one test file: Debian's `rabbitmq-server`
 * (test/helpers/APT_PACKAGES.txt), run as root with HOME in a temp dir
 * (its own Erlang cookie there), its own epmd on a free port, a free AMQP
 * port on loopback, a free distribution port, and its data, logs, config
 * and plugins file in the temp dir. Nothing of the Debian package's own
 * node is used: no system service is started or needed, and the ports and
 * node name differ from its defaults.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import amqp from "amqplib";
import { tempDir } from "./db.ts";
import { freePort } from "./service.ts";
import { waitFor } from "./wait.ts";

const execFileP = promisify(execFile);
const RABBIT_BIN = "/usr/lib/rabbitmq/bin";

export interface Rabbit {
  url: string;
  node: string;
  /** Start the node (again, keeping its data); resolves once it accepts AMQP connections. */
  start(): Promise<void>;
  /** Stop the node (bounded), keeping its data. */
  stop(): Promise<void>;
  /** Stop the node and its epmd for good. */
  close(): Promise<void>;
  log(): string;
}

export async function startRabbit(opts: { startTimeoutMs?: number } = {}): Promise<Rabbit> {
  const dir = tempDir("odcs-rabbit-");
  const [amqpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `odcs${process.pid}-${amqpPort}@localhost`;
  writeFileSync(join(dir, ".erlang.cookie"), `odcs-test-${process.pid}-${amqpPort}`, {
    mode: 0o600,
  });
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  writeFileSync(join(dir, "rabbitmq-env.conf"), "");
  writeFileSync(
    join(dir, "rabbitmq.conf"),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      // Keep a test node small: no disk alarm on a nearly full test disk.
      "disk_free_limit.absolute = 1MB",
      "",
    ].join("\n"),
  );
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    LANG: "C.UTF-8",
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_PID_FILE: join(dir, "rabbit.pid"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
  };
  const epmd = spawn("epmd", ["-port", String(epmdPort)], { env, stdio: "ignore" });
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const logPath = join(dir, "server.out");

  const start = async () => {
    const out = openSync(logPath, "a");
    // Own process group: stop() can end the shell wrapper and beam together.
    server = spawn(join(RABBIT_BIN, "rabbitmq-server"), [], {
      env,
      detached: true,
      stdio: ["ignore", out, out],
    });
    const child = server;
    exited = new Promise((r) => child.once("exit", () => r()));
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    await waitFor(
      async () => {
        if (gone) throw new Error(`rabbitmq-server exited:\n${readLog()}`);
        const conn = await amqp.connect(url, { timeout: 1000 });
        await conn.close();
        return true;
      },
      {
        timeoutMs: opts.startTimeoutMs ?? 90_000,
        intervalMs: 200,
        what: "RabbitMQ to accept AMQP",
      },
    );
  };

  const readLog = () => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };

  const stop = async () => {
    const child = server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await execFileP(join(RABBIT_BIN, "rabbitmqctl"), ["-q", "-n", node, "shutdown"], {
      env,
      timeout: 30_000,
    }).catch(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    });
    const killer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, 30_000);
    await exited;
    clearTimeout(killer);
  };

  const rabbit: Rabbit = {
    url,
    node,
    start,
    stop,
    async close() {
      await stop();
      epmd.kill("SIGKILL");
    },
    log: readLog,
  };
  await start();
  return rabbit;
}
