/**
 * The `odcs` commands and their options (§19); each command's action only
 * records what to send, `main.ts` sends it and waits.
 */
import { accessSync, constants, openAsBlob } from "node:fs";
import { basename } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import type { OdcsClient } from "../client/index.ts";
import { composeTable } from "./output.ts";
import {
  buildRequest,
  type CreateOptions,
  legacyRequest,
  moduleRequest,
  pulpRequest,
  rawConfigRequest,
  repoRequest,
  tagRequest,
  uploadRequest,
} from "./requests.ts";

export interface Action {
  name: string;
  /** Wait for the compose afterwards (unless --no-wait). */
  waits: boolean;
  /** `wait --watch`. */
  watch?: boolean;
  /** The request; its answer is printed (or waited on). Throws OdcsError on an error status. */
  request(client: OdcsClient): Promise<unknown>;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const int = (name: string) => (v: string) => {
  if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer.`);
  return Number.parseInt(v, 10);
};
const composeId = (v: string) => {
  if (!/^\d{1,15}$/.test(v)) throw new InvalidArgumentError("compose_id must be a number.");
  return Number(v);
};

type OptionName =
  | "--sigkey"
  | "--koji-event"
  | "--arch"
  | "--module-defaults-url"
  | "--module-defaults-commit"
  | "--modular-tag"
  | "--lookaside-repo"
  | "--target-dir"
  | "--build"
  | "--flag"
  | "--scratch-module"
  | "--result"
  | "--label"
  | "--compose-type"
  | "--multilib-arch"
  | "--multilib-method";

const OPTIONS: Record<OptionName, (c: Command) => Command> = {
  "--sigkey": (c) =>
    c.option(
      "--sigkey <key>",
      'signing key id packages must be signed with, in order of preference; repeat for more; "none" allows unsigned',
      collect,
      [],
    ),
  "--koji-event": (c) =>
    c.option(
      "--koji-event <event>",
      "Koji event for populating the package set",
      int("--koji-event"),
    ),
  "--arch": (c) =>
    c.option("--arch <arch>", "architecture to compose; repeat for more", collect, []),
  "--module-defaults-url": (c) =>
    c.option("--module-defaults-url <url>", "URL of a git repository with module defaults"),
  "--module-defaults-commit": (c) =>
    c.option("--module-defaults-commit <commit>", "git commit/branch of the module defaults"),
  "--modular-tag": (c) =>
    c.option("--modular-tag <tag>", "Koji tag with module builds; repeat for more", collect, []),
  "--lookaside-repo": (c) =>
    c.option(
      "--lookaside-repo <repo>",
      "repository dependencies may come from, not copied; repeat for more",
      collect,
      [],
    ),
  "--target-dir": (c) => c.option("--target-dir <name>", "server-side target directory"),
  "--build": (c) =>
    c.option("--build <nvr>", "Koji build to include; repeat for more", collect, []),
  "--flag": (c) =>
    c.option(
      "--flag <flag>",
      "compose flag (no_deps, check_deps, no_reuse …); repeat for more",
      collect,
      [],
    ),
  "--scratch-module": (c) =>
    c.option("--scratch-module <nsvc>", "scratch module N:S:V:C; repeat for more", collect, []),
  "--result": (c) =>
    c.option("--result <result>", "result to produce; repeat for more", collect, []),
  "--label": (c) => c.option("--label <label>", "label of the compose"),
  "--compose-type": (c) => c.option("--compose-type <type>", "compose type (test, nightly …)"),
  "--multilib-arch": (c) =>
    c.option(
      "--multilib-arch <arch>",
      "arch to add multilib packages to; repeat for more",
      collect,
      [],
    ),
  "--multilib-method": (c) =>
    c.option("--multilib-method <method>", "runtime, devel or all; repeat for more", collect, []),
};

/** The options of the composes of yum-like sources (`create-repo`, `create-upload`). */
const YUM_LIKE_OPTIONS: OptionName[] = [
  "--arch",
  "--multilib-arch",
  "--multilib-method",
  "--lookaside-repo",
  "--label",
  "--compose-type",
  "--target-dir",
  "--flag",
];
/** Their package argument: a dependency closure of each. */
const CLOSED_PACKAGES = [
  "[package...]",
  "packages to include, with their dependencies (none: every package)",
] as const;

function withOptions(c: Command, ...names: OptionName[]): Command {
  for (const n of names) OPTIONS[n](c);
  return c;
}

async function must<T>(p: Promise<{ data?: T }>): Promise<T> {
  const { data } = await p;
  if (data === undefined) throw new Error("the server sent an empty answer");
  return data;
}

const createCompose = (name: string, body: Record<string, unknown>): Action => ({
  name,
  waits: true,
  // The body is built from the options as ODCS's CLI builds it; the server checks it.
  request: (client) => must(client.api.POST("/api/1/composes", { body: body as never })),
});

export function addCommands(program: Command, set: (a: Action) => void): void {
  const sub = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .showHelpAfterError("(run with --help for usage)");

  withOptions(
    sub(
      "create",
      "Low-level command to create a new compose (deprecated: use the create-* commands)",
    )
      .argument("<source_type>", "tag, module, raw_config, pulp or build")
      .argument("<source>", "Koji tag, or space-separated modules …")
      .argument("[package...]", "packages to include"),
    "--result",
    "--sigkey",
    "--koji-event",
    "--arch",
    "--module-defaults-url",
    "--module-defaults-commit",
    "--modular-tag",
    "--lookaside-repo",
    "--label",
    "--compose-type",
    "--target-dir",
    "--flag",
    "--scratch-module",
  ).action((type: string, source: string, packages: string[], o: CreateOptions, cmd: Command) => {
    const types = ["tag", "module", "raw_config", "pulp", "build"];
    if (!types.includes(type)) {
      cmd.error(
        `error: argument source_type: invalid choice: '${type}' (choose from ${types.join(", ")})`,
        {
          exitCode: 2,
        },
      );
    }
    cmd.parent
      ?.configureOutput()
      .writeErr?.(
        "Deprecated: please use the create-* commands instead of the deprecated create command.\n",
      );
    set(createCompose("create", legacyRequest(type, source, packages, o)));
  });

  withOptions(
    sub("create-tag", "Create a new compose from a Koji tag")
      .argument("<tag>", "Koji tag name")
      .argument("[package...]", "packages to include (none: every package in the tag)"),
    "--sigkey",
    "--koji-event",
    "--arch",
    "--module-defaults-url",
    "--module-defaults-commit",
    "--modular-tag",
    "--lookaside-repo",
    "--target-dir",
    "--build",
    "--flag",
    "--scratch-module",
  ).action((tag: string, packages: string[], o: CreateOptions) => {
    set(createCompose("create-tag", tagRequest(tag, packages, o)));
  });

  withOptions(
    sub("create-module", "Create a new compose from modules")
      .argument("[module...]", "modules as N:S, N:S:V or N:S:V:C")
      .option("--base-module-br-name <name>", "name of a base module the modules buildrequire")
      .option("--base-module-br-stream <stream>", "stream of that base module")
      .option(
        "--base-module-br-stream-version-lte <int>",
        "its stream version must be at most this",
        int("--base-module-br-stream-version-lte"),
      )
      .option(
        "--base-module-br-stream-version-gte <int>",
        "its stream version must be at least this",
        int("--base-module-br-stream-version-gte"),
      ),
    "--sigkey",
    "--arch",
    "--modular-tag",
    "--module-defaults-url",
    "--module-defaults-commit",
    "--lookaside-repo",
    "--target-dir",
    "--flag",
    "--scratch-module",
  ).action((modules: string[], o: CreateOptions, cmd: Command) => {
    if (modules.length === 0 && (o.scratchModule ?? []).length === 0) {
      cmd.error("error: Please give a module or --scratch-module", { exitCode: 2 });
    }
    set(createCompose("create-module", moduleRequest(modules, o)));
  });

  withOptions(
    sub("create-pulp", "Create a new compose from Pulp content sets").argument(
      "<content_set...>",
      "content sets to include",
    ),
    "--target-dir",
    "--flag",
  ).action((sets: string[], o: CreateOptions) => {
    set(createCompose("create-pulp", pulpRequest(sets, o)));
  });

  withOptions(
    sub("create-raw-config", "Create a new compose from a Pungi raw configuration")
      .argument("<raw_config_name>", "name of the raw_config as defined on the server")
      .argument("<raw_config_commit>", "commit or branch to take the raw_config from"),
    "--sigkey",
    "--label",
    "--compose-type",
    "--koji-event",
    "--target-dir",
    "--build",
  ).action((name: string, commit: string, o: CreateOptions) => {
    set(createCompose("create-raw-config", rawConfigRequest(name, commit, o)));
  });

  withOptions(
    sub("create-build", "Create a new compose from Koji builds").argument(
      "<NVR...>",
      "Koji build NVRs",
    ),
    "--sigkey",
    "--flag",
    "--target-dir",
    "--arch",
  ).action((nvrs: string[], o: CreateOptions) => {
    set(createCompose("create-build", buildRequest(nvrs, o)));
  });

  withOptions(
    sub("create-repo", "Create a new compose from yum repositories (not in ODCS's CLI)")
      .argument("<source>", "repository path or URL; several as one space-separated argument")
      .argument(...CLOSED_PACKAGES),
    "--sigkey",
    ...YUM_LIKE_OPTIONS,
  ).action((source: string, packages: string[], o: CreateOptions) => {
    set(createCompose("create-repo", repoRequest(source.split(" "), packages, o)));
  });

  sub("upload", "Upload RPMs for an upload compose; prints the upload (not in ODCS's CLI)")
    .argument("<rpm...>", "RPM files (streamed from disk, not read into memory)")
    .option(
      "--seconds-to-live <seconds>",
      "how long the server keeps the upload (default: the server's)",
      int("--seconds-to-live"),
    )
    .action((files: string[], o: { secondsToLive?: number }, cmd: Command) => {
      for (const f of files) {
        try {
          accessSync(f, constants.R_OK);
        } catch (err) {
          cmd.error(`error: cannot read ${f}: ${(err as NodeJS.ErrnoException).code}`, {
            exitCode: 2,
          });
        }
      }
      set({
        name: "upload",
        waits: false,
        request: async (client) => {
          const form = new FormData();
          for (const f of files) form.append("file", await openAsBlob(f), basename(f));
          return must(
            client.api.POST("/api/1/uploads", {
              params: {
                query:
                  o.secondsToLive === undefined ? {} : { seconds_to_live: String(o.secondsToLive) },
              },
              body: form as never,
              bodySerializer: (b) => b as FormData,
            }),
          );
        },
      });
    });

  withOptions(
    sub("create-upload", "Create a new compose from an upload (not in ODCS's CLI)")
      .argument("<upload_id>", "the id `odcs upload` printed")
      .argument(...CLOSED_PACKAGES),
    ...YUM_LIKE_OPTIONS,
  ).action((uploadId: string, packages: string[], o: CreateOptions) => {
    set(createCompose("create-upload", uploadRequest(uploadId, packages, o)));
  });

  sub("wait", "Wait for a compose to finish")
    .argument("<compose_id>", "ODCS compose id", composeId)
    .option("--watch", "print the compose log while waiting")
    .action((id: number, o: { watch?: boolean }) => {
      set({
        name: "wait",
        waits: true,
        watch: o.watch === true,
        request: (client) =>
          must(client.api.GET("/api/1/composes/{id}", { params: { path: { id } } })),
      });
    });

  sub(
    "delete",
    "Cancel a waiting or generating compose, or mark a finished one expired (its files are removed later)",
  )
    .argument("<compose_id>", "ODCS compose id", composeId)
    .action((id: number) => {
      set({
        name: "delete",
        waits: false,
        request: (client) =>
          must(client.api.DELETE("/api/1/composes/{id}", { params: { path: { id } } })),
      });
    });

  sub(
    "renew",
    "Extend a compose's expiry, or regenerate a removed/failed one with the same package versions",
  )
    .argument("<compose_id>", "ODCS compose id", composeId)
    .action((id: number) => {
      set({
        name: "renew",
        waits: true,
        // ODCS's `renew_compose()` without a lifetime: a PATCH with no body.
        request: (client) =>
          must(client.api.PATCH("/api/1/composes/{id}", { params: { path: { id } } })),
      });
    });

  sub("get", "Show a compose (and wait for it unless --no-wait)")
    .argument("<compose_id>", "ODCS compose id", composeId)
    .action((id: number) => {
      set({
        name: "get",
        waits: true,
        request: (client) =>
          must(client.api.GET("/api/1/composes/{id}", { params: { path: { id } } })),
      });
    });

  sub("about", "Show information about the server").action(() => {
    set({
      name: "about",
      waits: false,
      request: (client) => must(client.api.GET("/api/1/about")),
    });
  });

  sub("list", "List composes, newest first (not in ODCS's CLI)")
    .option("--owner <owner>", "only composes of this owner")
    .option("--source-type <type>", "only this source type (name or code)")
    .option("--source <source>", "only composes with exactly this source")
    .option("--state <state>", "only this state (name or code)")
    .option("--koji-task-id <id>", "only this Koji task id")
    .option("--pungi-compose-id <id>", "only this Pungi compose id")
    .option("--compose-type <type>", "only this compose type")
    .option("--label <label>", "only this label")
    .option("--order-by <key>", "order key, '-' prefix for descending (default -id)")
    .option("--page <n>", "page number (default 1)", int("--page"))
    .option("--per-page <n>", "composes per page (default 10)", int("--per-page"))
    .option("--json", "print the server's answer as JSON (items and pagination)")
    .action((o: Record<string, string | number | boolean | undefined>) => {
      const names: Record<string, string> = {
        owner: "owner",
        sourceType: "source_type",
        source: "source",
        state: "state",
        kojiTaskId: "koji_task_id",
        pungiComposeId: "pungi_compose_id",
        composeType: "compose_type",
        label: "label",
        orderBy: "order_by",
        page: "page",
        perPage: "per_page",
      };
      const query = Object.fromEntries(
        Object.entries(names)
          .filter(([k]) => o[k] !== undefined)
          .map(([k, q]) => [q, String(o[k])]),
      );
      set({
        name: "list",
        waits: false,
        request: async (client) => {
          const data = await must(client.api.GET("/api/1/composes", { params: { query } }));
          if (o.json) return data;
          return new TableOutput(data);
        },
      });
    });
}

/** `list` without --json prints a table instead of JSON. */
export class TableOutput {
  constructor(
    readonly data: {
      items: Parameters<typeof composeTable>[0];
      meta: { page: number; pages: number; total: number };
    },
  ) {}
  toString(): string {
    const { meta } = this.data;
    return `${composeTable(this.data.items)}\n(page ${meta.page} of ${meta.pages}, ${meta.total} composes)`;
  }
}
