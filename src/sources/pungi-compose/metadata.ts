/**
 * Reading a Pungi compose's productmd metadata for a `pungi_compose`
 * source (reference/compose-metadata.md §2–§6): `rpms.json` (what the
 * variant holds, per tree arch, with the key each RPM was signed with) and
 * `composeinfo.json` (the compose's id), fetched over HTTP under the
 * allowed URL prefixes and a size bound, checked before anything is used.
 */

import { z } from "zod";
import { isAllowedUrl } from "../../domain/allowed-location.ts";
import {
  type PungiComposeLocation,
  pungiComposeLocation,
} from "../../domain/sources/pungi-compose.ts";
import { concatBytes } from "../../rpm/bytes.ts";
import { NevraParseError, parseNevra } from "../../rpm/nevra.ts";
import { ComposeError } from "../errors.ts";
import { fetchStream } from "../fetch.ts";

/** One RPM of the variant: where it was placed and which key its file carried (`null`: unsigned). */
export interface PungiRpm {
  treeArch: string;
  /** `name-epoch:version-release.arch`, epoch always present. */
  nevra: string;
  sigkey: string | null;
}

export interface PungiVariantContents {
  /** The productmd compose id (`payload.compose.id`). */
  composeId: string;
  variant: string;
  /** Tree arches that have RPMs, sorted. */
  arches: string[];
  /** Koji build NVRs (the SRPM groups, epoch dropped), sorted. */
  builds: string[];
  /** Every RPM of every category, sorted by arch then NEVRA. */
  rpms: PungiRpm[];
}

export interface PungiMetadataSettings {
  ODCS_ALLOWED_REPO_URLS: readonly string[];
  ODCS_DOWNLOAD_TIMEOUT_MS: number;
  ODCS_MAX_PUNGI_METADATA_BYTES: number;
}

const header = (kind: string) =>
  z.object({
    type: z.literal(`productmd.${kind}`),
    version: z.string().regex(/^\d+\.\d+$/),
  });
const composeHeader = z.object({ id: z.string().min(1) });

const RpmEntry = z.object({
  path: z.string(),
  sigkey: z.string().nullable(),
  category: z.enum(["binary", "debug", "source"]),
});
const RpmsJson = z.object({
  header: header("rpms"),
  payload: z.object({
    compose: composeHeader,
    rpms: z.record(
      z.string(),
      z.record(z.string(), z.record(z.string(), z.record(z.string(), RpmEntry))),
    ),
  }),
});
const ComposeInfoJson = z.object({
  header: header("composeinfo"),
  payload: z.object({ compose: composeHeader }),
});

const SIGKEY_RE = /^[0-9a-f]{8}$/;

/** The first problem of a failed parse, as "<path>: <message>". */
function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return "invalid";
  return `${i.path.length > 0 ? `payload path ${i.path.join(" -> ")}: ` : ""}${i.message}`;
}

async function fetchJson(
  url: string,
  s: PungiMetadataSettings,
  signal: AbortSignal,
): Promise<unknown> {
  if (!isAllowedUrl(url, s.ODCS_ALLOWED_REPO_URLS))
    throw new ComposeError(
      `${url} is not under an allowed URL prefix (ODCS_ALLOWED_REPO_URLS) any more`,
    );
  let body: AsyncIterable<Uint8Array>;
  try {
    body = await fetchStream(
      url,
      signal,
      s.ODCS_DOWNLOAD_TIMEOUT_MS,
      s.ODCS_MAX_PUNGI_METADATA_BYTES,
      "ODCS_MAX_PUNGI_METADATA_BYTES",
    );
  } catch (err) {
    if (err instanceof ComposeError && /answered HTTP 404/.test(err.message))
      throw new ComposeError(
        `${url} does not exist (HTTP 404): the source must be the URL of a variant of a Pungi compose, whose metadata is in <compose>/compose/metadata/`,
      );
    throw err;
  }
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(concatBytes(parts)));
  } catch (err) {
    throw new ComposeError(`${url} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The variant's RPMs as `rpms.json` lists them: every NEVRA parsed, every
 * sigkey a short key id or null, the builds taken from the SRPM groups
 * (ODCS's rule, §6 step 3). Throws `ComposeError` naming the file and what
 * is wrong with it.
 */
export function variantContents(
  rpmsJson: unknown,
  composeInfo: unknown,
  where: PungiComposeLocation & { rpmsUrl: string; composeInfoUrl: string },
): PungiVariantContents {
  const rpms = RpmsJson.safeParse(rpmsJson);
  if (!rpms.success)
    throw new ComposeError(
      `${where.rpmsUrl} is not productmd rpms metadata: ${firstIssue(rpms.error)}`,
    );
  const info = ComposeInfoJson.safeParse(composeInfo);
  if (!info.success)
    throw new ComposeError(
      `${where.composeInfoUrl} is not productmd composeinfo metadata: ${firstIssue(info.error)}`,
    );
  const composeId = rpms.data.payload.compose.id;
  if (info.data.payload.compose.id !== composeId)
    throw new ComposeError(
      `${where.rpmsUrl} is of compose ${composeId}, but ${where.composeInfoUrl} of ${info.data.payload.compose.id}`,
    );
  const byArch = rpms.data.payload.rpms[where.variant];
  // ODCS's own message (pungi_compose.py).
  if (!byArch)
    throw new ComposeError(
      `The ${where.rpmsUrl} does not contain payload -> rpms -> ${where.variant} section`,
    );
  const builds = new Set<string>();
  const out: PungiRpm[] = [];
  const bad: string[] = [];
  for (const [treeArch, groups] of Object.entries(byArch)) {
    for (const [srpm, members] of Object.entries(groups)) {
      try {
        const s = parseNevra(srpm);
        builds.add(`${s.name}-${s.version}-${s.release}`);
      } catch (err) {
        if (!(err instanceof NevraParseError)) throw err;
        bad.push(`SRPM ${JSON.stringify(srpm)}`);
      }
      for (const [nevra, entry] of Object.entries(members)) {
        let canonical: string;
        try {
          const n = parseNevra(nevra);
          canonical = `${n.name}-${n.epoch}:${n.version}-${n.release}.${n.arch}`;
        } catch (err) {
          if (!(err instanceof NevraParseError)) throw err;
          bad.push(`RPM ${JSON.stringify(nevra)}`);
          continue;
        }
        const sigkey = entry.sigkey === null ? null : entry.sigkey.toLowerCase();
        if (sigkey !== null && !SIGKEY_RE.test(sigkey)) {
          bad.push(`sigkey ${JSON.stringify(entry.sigkey)} of ${nevra}`);
          continue;
        }
        out.push({ treeArch, nevra: canonical, sigkey });
      }
    }
  }
  if (bad.length > 0)
    throw new ComposeError(
      `${where.rpmsUrl} has entries that are not productmd NEVRAs or short key ids: ${bad.slice(0, 20).join(", ")}${bad.length > 20 ? ` and ${bad.length - 20} more` : ""}`,
    );
  if (out.length === 0)
    throw new ComposeError(`${where.rpmsUrl} lists no RPMs for variant ${where.variant}`);
  out.sort((a, b) =>
    a.treeArch < b.treeArch
      ? -1
      : a.treeArch > b.treeArch
        ? 1
        : a.nevra < b.nevra
          ? -1
          : a.nevra > b.nevra
            ? 1
            : 0,
  );
  return {
    composeId,
    variant: where.variant,
    arches: [...new Set(out.map((r) => r.treeArch))].sort(),
    builds: [...builds].sort(),
    rpms: out,
  };
}

/** Fetch and read the metadata of the variant at `variantUrl`. Throws `ComposeError`. */
export async function readPungiVariant(
  variantUrl: string,
  s: PungiMetadataSettings,
  signal: AbortSignal,
): Promise<PungiVariantContents> {
  const where = pungiComposeLocation(variantUrl);
  const rpmsUrl = `${where.metadataUrl}/rpms.json`;
  const composeInfoUrl = `${where.metadataUrl}/composeinfo.json`;
  const [rpms, info] = await Promise.all([
    fetchJson(rpmsUrl, s, signal),
    fetchJson(composeInfoUrl, s, signal),
  ]);
  return variantContents(rpms, info, { ...where, rpmsUrl, composeInfoUrl });
}
