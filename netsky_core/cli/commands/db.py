"""``netsky db status | migrate | vacuum``: look after the store itself."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._main import Parser, add_command
from .._output import fields, local, print_json, size


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "db",
        help="store status, schema migration, vacuum",
        examples=[
            "netsky db status",
            "netsky --db postgresql://me@db.example/netsky db status --json",
            "netsky db migrate",
            "netsky db vacuum",
        ],
    )
    actions = p.add_subparsers(dest="db_action", metavar="ACTION", parser_class=Parser)
    status = add_command(
        actions,
        common,
        "status",
        help="backend, URL, schema version, row counts, size, oldest and newest event",
        description=(
            "Show what the store is: backend, URL (password masked), schema version and the\n"
            "latest this netsky knows, rows per table, size on disk where the backend knows it,\n"
            "and the oldest and newest event (local time). It never changes the store."
        ),
        examples=["netsky db status", "netsky db status --json"],
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)
    migrate = add_command(
        actions,
        common,
        "migrate",
        help="bring the schema to the latest version",
        description=(
            "Bring the store's schema to the latest version this netsky knows (creating it\n"
            "in an empty store). Other commands migrate on their own when they open a store;\n"
            "this one does it explicitly and says from which version to which."
        ),
        examples=[
            "netsky db migrate",
            "netsky --db postgresql://me@db.example/netsky db migrate --json",
        ],
    )
    migrate.add_argument("--json", action="store_true", help="print JSON")
    migrate.set_defaults(handler=run_migrate)
    vacuum = add_command(
        actions,
        common,
        "vacuum",
        help="reclaim space (after gc, for example)",
        description=(
            "Reclaim the space of deleted rows, for backends that can (SQLite: VACUUM and a WAL\n"
            "checkpoint; PostgreSQL: VACUUM ANALYZE). For a backend that cannot, it says so and\n"
            "exits 0: there is nothing to do."
        ),
        examples=["netsky gc --retention 30d --yes && netsky db vacuum", "netsky db vacuum --json"],
    )
    vacuum.add_argument("--json", action="store_true", help="print JSON")
    vacuum.set_defaults(handler=run_vacuum)

    def usage(ctx: Context) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=usage)


def run_status(ctx: Context) -> int:
    from ..._convert import unstructure
    from ..._urls import mask_url, scheme_of

    with ctx.storage(read=True, migrate=False) as store:
        if store.schema_version == 0:
            # an empty store: no netsky tables yet, so nothing for info() to count
            data: dict[str, Any] = {
                "backend": scheme_of(ctx.url),
                "url": mask_url(ctx.url),
                "schema_version": 0,
                "initialized": False,
            }
            if ctx.json:
                print_json(data)
            else:
                fields(
                    [
                        ("backend", data["backend"]),
                        ("url", data["url"]),
                        (
                            "schema",
                            "none yet (run `netsky db migrate`, or any command that writes)",
                        ),
                    ]
                )
            return 0
        info = store.info()
    data = {**unstructure(info), "url": mask_url(info.url), "initialized": True}
    data["needs_migration"] = info.schema_version < info.latest_schema_version
    if ctx.json:
        print_json(data)
        return 0
    version = f"{info.schema_version} (latest {info.latest_schema_version})"
    if data["needs_migration"]:
        version += "; run `netsky db migrate`"
    elif info.schema_version > info.latest_schema_version:
        version += "; written by a newer netsky"
    pairs: list[tuple[str, Any]] = [
        ("backend", info.backend),
        ("url", data["url"]),
        ("schema version", version),
    ]
    pairs += [(f"{name} rows", f"{count:,}") for name, count in info.tables.items()]
    pairs += [
        ("size on disk", size(info.size_bytes) if info.size_bytes is not None else "unknown"),
        ("oldest event", local(info.oldest_event, seconds=True)),
        ("newest event", local(info.newest_event, seconds=True)),
    ]
    pairs += [
        (name.replace("_", " "), str(value).lower() if isinstance(value, bool) else value)
        for name, value in info.details.items()
    ]
    fields(pairs)
    return 0


def run_migrate(ctx: Context) -> int:
    from ..._urls import mask_url

    with ctx.storage(migrate=False) as store:
        result = store.migrate()
    if ctx.json:
        print_json(
            {
                "url": mask_url(ctx.url),
                "from_version": result.from_version,
                "to_version": result.to_version,
                "changed": result.changed,
            }
        )
    elif result.changed:
        print(
            f"migrated {mask_url(ctx.url)} from schema version {result.from_version} to {result.to_version}"
        )
    else:
        print(f"{mask_url(ctx.url)} is up to date (schema version {result.to_version})")
    return 0


def run_vacuum(ctx: Context) -> int:
    from ..._records import Capability
    from ..._urls import mask_url

    with ctx.storage() as store:
        caps = store.capabilities
        before = after = None
        if Capability.VACUUM in caps:
            sized = Capability.SIZE_ON_DISK in caps
            before = store.info().size_bytes if sized else None
            store.vacuum()
            after = store.info().size_bytes if sized else None
            backend = None
        else:
            backend = store.info().backend
    data = {
        "url": mask_url(ctx.url),
        "vacuumed": backend is None,
        "size_before": before,
        "size_after": after,
    }
    if ctx.json:
        print_json(data)
    elif backend is not None:
        print(f"the {backend} backend has no vacuum; nothing to do")
    elif before is not None and after is not None:
        print(f"vacuumed {data['url']}: {size(before)} -> {size(after)}")
    else:
        print(f"vacuumed {data['url']}")
    return 0
