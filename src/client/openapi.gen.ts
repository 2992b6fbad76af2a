// Generated from openapi.yaml by openapi-typescript (`npm run client`); do not edit.
// A test fails when this file and openapi.yaml disagree.

export type paths = {
    "/api/1/composes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List composes (filters, order_by, pagination) */
        get: operations["listComposes"];
        put?: never;
        /** Request a new compose */
        post: operations["createCompose"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/1/composes/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get one compose */
        get: operations["getCompose"];
        put?: never;
        post?: never;
        /** Cancel a waiting or generating compose, or expire a done/failed one */
        delete: operations["deleteCompose"];
        options?: never;
        head?: never;
        /** Renew a compose: extend its expiry, or regenerate a removed/failed one */
        patch: operations["renewCompose"];
        trace?: never;
    };
    "/api/1/composes/{id}/wait": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Wait until a compose reaches a state (long poll)
         * @description Not part of ODCS: answers the compose, as GET /api/1/composes/{id} does, as soon as it is in one of `state` or can no longer get there, or when `timeout` has passed (then in whatever state it is). A client that only polls GET keeps working; this saves it the polling and the latency.
         */
        get: operations["waitForComposeState"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live stream of compose state changes (Server-Sent Events)
         * @description Server-Sent Events, one per compose state change including creation, oldest first: `id:` the event id, `event: state-changed`, `data:` the JSON message `{"event": "state-changed", "compose": <compose JSON>}` (the Compose schema, without pungi_config_dump). A new stream starts with the next change; send `Last-Event-ID` (browsers' EventSource does on reconnect) to receive every retained event after that id first. Comment lines (`: heartbeat`) keep idle connections open. Event states are: wait, generating, done, removed, failed
         */
        get: operations["streamEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/1/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Prometheus text format. ODCS's families first, as ODCS prints them (`composes_total`, `raw_config_composes_count_total`, `raw_config_composes_total`), then this server's `odcs_*` families (queue, generation times, failures, sweep, event delivery, HTTP).
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/1/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload RPMs for an `upload` compose (ours, beyond ODCS)
         * @description One or more RPMs as multipart/form-data file parts, or as one tar stream. Every file's RPM headers are checked as it arrives; sizes, file count and the owner's quota are limited (ODCS_UPLOAD_MAX_MB, ODCS_UPLOAD_MAX_FILES, ODCS_UPLOAD_QUOTA_MB). Expires like a compose.
         */
        post: operations["createUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/1/uploads/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An upload and its files */
        get: operations["getUpload"];
        put?: never;
        post?: never;
        /** Remove an upload and its files (its owner or an admin) */
        delete: operations["deleteUpload"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/1/about": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server information */
        get: operations["getAbout"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
};
export type webhooks = Record<string, never>;
export type components = {
    schemas: {
        CreateComposeBody: {
            source: components["schemas"]["ComposeSource"];
            /** @description Lifetime in seconds after the compose is done; absent, 0 or false: the server's default; above the server's maximum: the maximum; negative: refused */
            seconds_to_live?: number | boolean;
            /** @description Legacy alias of seconds_to_live (read only when it is absent) */
            "seconds-to-live"?: number | string | boolean;
            flags?: ("no_flags" | "no_deps" | "no_inheritance" | "include_unpublished_pulp_repos" | "check_deps" | "include_done_modules" | "ignore_absent_pulp_repos" | "no_reuse" | "use_only_compatible_arch")[];
            /** @description ODCS's result names; this server makes "repository" (always) and "iso" */
            results?: ("repository" | "iso" | "ostree" | "boot.iso")[];
            multilib_method?: ("none" | "runtime" | "devel" | "all")[];
            /** @description "default" (or "") only */
            target_dir?: string;
            /** @description Absent or []: the server's default arches */
            arches?: string[];
            multilib_arches?: string[];
            /** @description Repositories to satisfy dependencies from, never taken */
            lookaside_repos?: string[];
            label?: string;
            /** @description Default "test" */
            compose_type?: string;
            parent_pungi_compose_ids?: string[];
            respin_of?: string | number;
        };
        ComposeSource: {
            type: components["schemas"]["SourceTypeName"];
            /** @description repo: space-separated absolute paths under an allowed root, or http(s) URLs under an allowed prefix */
            source?: string;
            /** @description RPM names, name.arch, globs or provides */
            packages?: string[];
            /** @description Koji build NVRs */
            builds?: string[];
            /** @description Ordered preference; "" allows unsigned */
            sigkeys?: string[];
            koji_event?: number;
            modular_koji_tags?: string[];
            module_defaults_url?: string;
            module_defaults_commit?: string;
            scratch_modules?: string[];
            scratch_build_tasks?: string[];
            modules?: string[];
            base_module_br_name?: string;
            base_module_br_stream?: string;
            base_module_br_stream_version_lte?: number;
            base_module_br_stream_version_gte?: number;
        };
        /**
         * @description Generated by this server: tag, build, repo, module, pulp, pungi_compose, upload; the other ODCS types are refused
         * @enum {string}
         */
        SourceTypeName: "tag" | "module" | "repo" | "pulp" | "raw_config" | "build" | "pungi_compose" | "upload";
        RenewComposeBody: {
            /** @description New lifetime from now; never shortens a done compose's (absent or 0: the server's default; above the maximum: the maximum) */
            seconds_to_live?: number | boolean;
            /** @description Legacy alias of seconds_to_live (read only when it is absent) */
            "seconds-to-live"?: number | string | boolean;
            /** @description Replaces the sigkeys: a different list regenerates the compose */
            sigkeys?: string[];
            source?: {
                modules?: string[];
                builds?: string[];
            };
        };
        ComposeList: {
            items: components["schemas"]["Compose"][];
            meta: components["schemas"]["ComposeListMeta"];
        };
        /**
         * @example {
         *       "arches": "x86_64",
         *       "base_module_br_name": null,
         *       "base_module_br_stream": null,
         *       "base_module_br_stream_version_gte": null,
         *       "base_module_br_stream_version_lte": null,
         *       "builds": null,
         *       "compose_type": "test",
         *       "flags": [],
         *       "id": 42,
         *       "koji_event": null,
         *       "koji_task_id": null,
         *       "label": null,
         *       "lookaside_repos": "",
         *       "modular_koji_tags": null,
         *       "module_defaults_url": null,
         *       "modules": null,
         *       "multilib_arches": "",
         *       "multilib_method": 0,
         *       "owner": "unknown",
         *       "packages": "wget",
         *       "parent_pungi_compose_ids": null,
         *       "pungi_compose_id": null,
         *       "removed_by": null,
         *       "respin_of": null,
         *       "result_repo": "http://localhost:5000/composes/odcs-42/compose/Temporary",
         *       "result_repofile": "http://localhost:5000/composes/odcs-42/compose/Temporary/odcs-42.repo",
         *       "results": [
         *         "repository"
         *       ],
         *       "scratch_build_tasks": null,
         *       "scratch_modules": null,
         *       "sigkeys": "",
         *       "source": "/srv/repos/fedora",
         *       "source_type": 3,
         *       "state": 0,
         *       "state_name": "wait",
         *       "state_reason": null,
         *       "target_dir": "default",
         *       "time_done": null,
         *       "time_removed": null,
         *       "time_started": null,
         *       "time_submitted": "2026-11-21T05:24:58Z",
         *       "time_to_expire": "2026-11-22T05:24:58Z",
         *       "toplevel_url": "http://localhost:5000/composes/odcs-42"
         *     }
         */
        Compose: {
            /** @example 42 */
            id: number;
            /** @example unknown */
            owner: string;
            /**
             * @description 1 tag, 2 module, 3 repo, 4 pulp, 5 raw_config, 6 build, 7 pungi_compose, 8 upload
             * @enum {integer}
             */
            source_type: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
            source: string;
            /**
             * @description 0 wait, 1 generating, 2 done, 3 removed, 4 failed
             * @enum {integer}
             */
            state: 0 | 1 | 2 | 3 | 4;
            state_name: components["schemas"]["ComposeStateName"];
            state_reason: string | null;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_submitted: string | null;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_to_expire: string | null;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_started: string | null;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_done: string | null;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_removed: string | null;
            removed_by: string | null;
            toplevel_url: string;
            result_repo: string;
            result_repofile: string;
            flags: components["schemas"]["FlagName"][];
            results: components["schemas"]["ResultName"][];
            sigkeys: string;
            koji_event: number | null;
            koji_task_id: number | null;
            /** @description Requested package names, space-separated */
            packages: string | null;
            /** @description Koji build NVRs, space-separated */
            builds: string | null;
            arches: string;
            multilib_arches: string;
            /** @description bitmask: 0 none, 1 runtime, 2 devel, 4 all */
            multilib_method: number;
            lookaside_repos: string | null;
            modular_koji_tags: string | null;
            module_defaults_url: string | null;
            label: string | null;
            compose_type: string | null;
            pungi_compose_id: string | null;
            target_dir: string;
            scratch_modules: string | null;
            parent_pungi_compose_ids: string | null;
            scratch_build_tasks: string | null;
            modules: string | null;
            respin_of: string | null;
            base_module_br_name: string | null;
            base_module_br_stream: string | null;
            base_module_br_stream_version_lte: number | null;
            base_module_br_stream_version_gte: number | null;
        };
        /**
         * @description wait → generating → done | failed; done/failed → removed
         * @enum {string}
         */
        ComposeStateName: "wait" | "generating" | "done" | "removed" | "failed";
        /** @enum {string} */
        FlagName: "no_deps" | "no_inheritance" | "include_unpublished_pulp_repos" | "check_deps" | "include_done_modules" | "ignore_absent_pulp_repos" | "no_reuse" | "use_only_compatible_arch";
        /** @enum {string} */
        ResultName: "repository" | "iso" | "ostree" | "boot.iso";
        /**
         * @example {
         *       "page": 1,
         *       "pages": 1,
         *       "per_page": 10,
         *       "total": 1,
         *       "first": "http://localhost:5000/api/1/composes/?page=1&per_page=10",
         *       "last": "http://localhost:5000/api/1/composes/?page=1&per_page=10",
         *       "prev": null,
         *       "next": null
         *     }
         */
        ComposeListMeta: {
            page: number;
            pages: number;
            per_page: number;
            total: number;
            first: string;
            last: string;
            prev: string | null;
            next: string | null;
        };
        Error: {
            /** @example 404 */
            status: number;
            /** @example Not Found */
            error: string;
            /** @example No such compose found. */
            message: string;
        };
        /**
         * @example {
         *       "arches": "x86_64",
         *       "base_module_br_name": null,
         *       "base_module_br_stream": null,
         *       "base_module_br_stream_version_gte": null,
         *       "base_module_br_stream_version_lte": null,
         *       "builds": null,
         *       "compose_type": "test",
         *       "flags": [],
         *       "id": 42,
         *       "koji_event": null,
         *       "koji_task_id": null,
         *       "label": null,
         *       "lookaside_repos": "",
         *       "modular_koji_tags": null,
         *       "module_defaults_url": null,
         *       "modules": null,
         *       "multilib_arches": "",
         *       "multilib_method": 0,
         *       "owner": "unknown",
         *       "packages": "wget",
         *       "parent_pungi_compose_ids": null,
         *       "pungi_compose_id": null,
         *       "removed_by": null,
         *       "respin_of": null,
         *       "result_repo": "http://localhost:5000/composes/odcs-42/compose/Temporary",
         *       "result_repofile": "http://localhost:5000/composes/odcs-42/compose/Temporary/odcs-42.repo",
         *       "results": [
         *         "repository"
         *       ],
         *       "scratch_build_tasks": null,
         *       "scratch_modules": null,
         *       "sigkeys": "",
         *       "source": "/srv/repos/fedora",
         *       "source_type": 3,
         *       "state": 0,
         *       "state_name": "wait",
         *       "state_reason": null,
         *       "target_dir": "default",
         *       "time_done": null,
         *       "time_removed": null,
         *       "time_started": null,
         *       "time_submitted": "2026-11-21T05:24:58Z",
         *       "time_to_expire": "2026-11-22T05:24:58Z",
         *       "toplevel_url": "http://localhost:5000/composes/odcs-42",
         *       "pungi_config_dump": null
         *     }
         */
        ComposeDetail: components["schemas"]["Compose"] & {
            pungi_config_dump: string | null;
        };
        Accepted: {
            /** @enum {number} */
            status: 202;
            /** @example Compose (id=42) has been canceled */
            message: string;
        };
        /** @description RPMs uploaded for `upload` composes (ours, beyond ODCS): `{"source": {"type": "upload", "source": "<id>"}}` */
        Upload: {
            /** @example 3b0d6a0e-6f0e-4c8b-9a57-2f1c8f6b5a10 */
            id: string;
            owner: string;
            /** @enum {string} */
            state: "ready" | "removed";
            /** @description Bytes of all files */
            size: number;
            files: components["schemas"]["UploadFile"][];
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_created: string;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_to_expire: string;
            /**
             * @description UTC, second precision
             * @example 2026-11-21T05:24:58Z
             */
            time_removed: string | null;
            removed_by: string | null;
        };
        UploadFile: {
            /** @description Name in the upload (name-version-release.arch.rpm) */
            filename: string;
            /** @description The file name the client sent */
            sent_as: string;
            name: string;
            epoch: string;
            version: string;
            release: string;
            arch: string;
            /** @example hello-0:1.0-1.noarch */
            nevra: string;
            size: number;
            sha256: string;
            /** @description Short id of the signing key from the header; null: unsigned */
            sigkey: string | null;
        };
        About: {
            version: string;
            auth_backend: string;
            allowed_clients: {
                groups: {
                    [key: string]: {
                        [key: string]: string[];
                    };
                };
                users: {
                    [key: string]: {
                        [key: string]: string[];
                    };
                };
            };
            raw_config_urls: {
                [key: string]: unknown;
            };
            sigkeys: string[];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
};
export type $defs = Record<string, never>;
export interface operations {
    listComposes: {
        parameters: {
            query?: {
                owner?: string;
                /** @description Numeric code or name */
                source_type?: string;
                /** @description The whole space-separated source string */
                source?: string;
                /** @description Numeric code or name */
                state?: string;
                koji_task_id?: string;
                pungi_compose_id?: string;
                compose_type?: string;
                label?: string;
                /** @description One of id, owner, source_type, koji_event, state, time_to_expire, time_submitted, time_done, time_removed; "-" prefix for descending (default -id) */
                order_by?: string;
                /** @description 1-based page number (default 1) */
                page?: string;
                /** @description Page size (default 10, at most 1000; 0 or less means 20) */
                per_page?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of composes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ComposeList"];
                };
            };
            /** @description Not modified: the If-None-Match header names the current ETag */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createCompose: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateComposeBody"];
            };
        };
        responses: {
            /** @description The new compose, state wait */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Compose"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not permitted */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request body stalled: no byte for ODCS_BODY_IDLE_SECONDS */
            408: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body larger than ODCS_MAX_BODY_BYTES */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The owner already has ODCS_MAX_QUEUED_PER_OWNER waiting composes (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The database is full, busy or unavailable; nothing was changed (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getCompose: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The compose */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ComposeDetail"];
                };
            };
            /** @description Not modified: the If-None-Match header names the current ETag */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such compose */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteCompose: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not permitted */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such compose */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    renewCompose: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RenewComposeBody"];
            };
        };
        responses: {
            /** @description The renewed compose or its regenerating copy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Compose"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not permitted */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such compose */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request body stalled: no byte for ODCS_BODY_IDLE_SECONDS */
            408: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body larger than ODCS_MAX_BODY_BYTES */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The owner already has ODCS_MAX_QUEUED_PER_OWNER waiting composes (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The database is full, busy or unavailable; nothing was changed (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    waitForComposeState: {
        parameters: {
            query?: {
                /** @description States to wait for, comma-separated (default done,failed,removed). The wait also ends when the compose can no longer reach any of them (waiting for done, it failed). */
                state?: string;
                /** @description Seconds to wait at most, 0 to 60 (default 30); the compose is returned as it is then */
                timeout?: string;
            };
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The compose, in a wanted state unless the timeout passed first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ComposeDetail"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such compose */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Too many requests are waiting already; retry, or poll GET */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    streamEvents: {
        parameters: {
            query?: {
                /** @description Only events of this compose */
                compose_id?: string;
                /** @description Only events of composes owned by this user */
                owner?: string;
                /** @description Only events of composes of this source type */
                source_type?: "tag" | "module" | "repo" | "pulp" | "raw_config" | "build" | "pungi_compose" | "upload";
                /** @description Resume after this event id, for clients that cannot send the `Last-Event-ID` header (the header wins) */
                last_event_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An endless text/event-stream */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Too many streams are open already; retry later */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description This process exports no metrics */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createUpload: {
        parameters: {
            query?: {
                /** @description How long the upload is kept, as for composes (default ODCS_SECONDS_TO_LIVE, at most ODCS_MAX_SECONDS_TO_LIVE) */
                seconds_to_live?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    file?: string[];
                };
                "application/x-tar": string;
            };
        };
        responses: {
            /** @description The upload, its files validated and stored */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not permitted */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body stalled: no byte for ODCS_BODY_IDLE_SECONDS; nothing is kept */
            408: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Over the size, file count or quota limit; nothing is kept */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description This server process takes no uploads */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The disk of the upload dir is full; nothing is kept, the same upload may succeed later (`Retry-After`) */
            507: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upload */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such upload */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upload, removed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not permitted */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such upload */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description This server process takes no uploads */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getAbout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description About this server */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["About"];
                };
            };
            /** @description Invalid request (ODCS error JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
