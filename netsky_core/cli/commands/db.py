"""``netsky db status | migrate | vacuum | mirror``: look after the store itself."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._main import Parser, add_command, help_when_bare
from .._output import fields, local, print_json, size


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "db",
        help="store status, schema migration, vacuum, analytics mirror",
        examples=[
            "netsky db status",
            "netsky --db postgresql://me@db.example/netsky db status --json",
            "netsky db migrate",
            "netsky db vacuum",
            "netsky db mirror status",
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
    mirror = add_command(
        actions,
        common,
        "mirror",
        help="the analytics mirror: status, rebuild",
        description=(
            "netsky query, export and the reports read the events from a columnar copy of\n"
            "them (a DuckDB file beside a SQLite store, else in the state directory), brought\n"
            "up to date on each use. status says where it is and whether it is current;\n"
            "rebuild makes it again from the store. NETSKY_MIRROR=0 or [analytics] mirror =\n"
            "false turns it off."
        ),
        examples=["netsky db mirror status", "netsky db mirror rebuild --json"],
    )
    steps = mirror.add_subparsers(dest="mirror_action", metavar="ACTION", parser_class=Parser)
    for name, handler, text in (
        ("status", run_mirror_status, "where the mirror is, its rows, whether it is current"),
        ("rebuild", run_mirror_rebuild, "build the mirror again from the store"),
    ):
        step = add_command(
            steps, common, name, help=text, description=text[0].upper() + text[1:] + "."
        )
        step.add_argument("--json", action="store_true", help="print JSON")
        step.set_defaults(handler=handler)
    help_when_bare(mirror)
    help_when_bare(p)


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


def run_mirror_status(ctx: Context) -> int:
    from ..._convert import unstructure
    from ...analytics import mirror_status

    with ctx.storage(read=True) as store:
        status = mirror_status(store, config=ctx.config)
    data = unstructure(status)
    if ctx.json:
        print_json(data)
        return 0
    pairs: list[tuple[str, Any]] = [
        ("path", status.path or "none"),
        ("enabled", "yes" if status.enabled else "no (NETSKY_MIRROR or [analytics] mirror)"),
        ("state", status.state + (f" ({status.reason})" if status.reason else "")),
    ]
    if status.rows is not None:
        pairs.append(("events mirrored", f"{status.rows:,} (largest id {status.max_id})"))
    if status.store_rows is not None:
        pairs.append(("events stored", f"{status.store_rows:,} (largest id {status.store_max_id})"))
    if status.size_bytes is not None:
        pairs.append(("size on disk", size(status.size_bytes)))
    if status.refreshed_at is not None:
        from datetime import UTC, datetime

        pairs.append(
            ("refreshed", local(datetime.fromtimestamp(status.refreshed_at, UTC), seconds=True))
        )
    fields(pairs)
    return 0


def run_mirror_rebuild(ctx: Context) -> int:
    import sys

    from ...analytics import rebuild_mirror

    def progress(message: str) -> None:
        if not ctx.json:
            sys.stderr.write(f"netsky: {message}\n")
            sys.stderr.flush()

    with ctx.storage(read=True) as store:
        mirror, done = rebuild_mirror(store, progress=progress)
    data = {"path": str(mirror.path), "rows": done.rows, "seconds": round(done.seconds, 3)}
    if ctx.json:
        print_json(data)
    else:
        print(f"rebuilt {mirror.path}: {done.rows:,} events in {done.seconds:.1f} s")
    return 0
