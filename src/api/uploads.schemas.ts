import { z } from "@hono/zod-openapi";

const time = z
  .string()
  .openapi({ example: "2026-11-21T05:24:58Z", description: "UTC, second precision" });

export const UploadFileSchema = z
  .object({
    filename: z
      .string()
      .openapi({ description: "Name in the upload (name-version-release.arch.rpm)" }),
    sent_as: z.string().openapi({ description: "The file name the client sent" }),
    name: z.string(),
    epoch: z.string(),
    version: z.string(),
    release: z.string(),
    arch: z.string(),
    nevra: z.string().openapi({ example: "hello-0:1.0-1.noarch" }),
    size: z.number().int(),
    sha256: z.string(),
    sigkey: z
      .string()
      .nullable()
      .openapi({ description: "Short id of the signing key from the header; null: unsigned" }),
  })
  .openapi("UploadFile");

export const UploadSchema = z
  .object({
    id: z.string().openapi({ example: "3b0d6a0e-6f0e-4c8b-9a57-2f1c8f6b5a10" }),
    owner: z.string(),
    state: z.enum(["ready", "removed"]),
    size: z.number().int().openapi({ description: "Bytes of all files" }),
    files: z.array(UploadFileSchema),
    time_created: time,
    time_to_expire: time,
    time_removed: time.nullable(),
    removed_by: z.string().nullable(),
  })
  .openapi("Upload", {
    description:
      'RPMs uploaded for `upload` composes (ours, beyond ODCS): `{"source": {"type": "upload", "source": "<id>"}}`',
  });

export const UploadIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" } }),
});

export const UploadQuery = z.object({
  seconds_to_live: z.string().optional().openapi({
    description:
      "How long the upload is kept, as for composes (default ODCS_SECONDS_TO_LIVE, at most ODCS_MAX_SECONDS_TO_LIVE)",
  }),
});
