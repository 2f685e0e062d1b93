"""``netsky serve --otlp``: receive agents' OpenTelemetry logs over OTLP/HTTP into the store."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from .._context import Context
from .._errors import UsageError
from .._main import add_command

DEFAULT_HOST = "127.0.0.1"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "serve",
        help="receive OpenTelemetry (OTLP/HTTP) from coding agents into the store",
        description=(
            "Listen for OTLP/HTTP export requests (protobuf or JSON) on /v1/logs,\n"
            "/v1/metrics and /v1/traces and store the agents' log events (Claude Code's\n"
            "claude_code.api_request, user_prompt, tool_result ..., Codex's codex.*) with\n"
            "source `otel`. An API request also read from a transcript is billed once.\n"
            "Binds to 127.0.0.1 by default; any other address needs [serve] token in the\n"
            "config file (at least 16 characters), sent by the agents as\n"
            "`Authorization: Bearer <token>`. Bodies over [serve] max_body_bytes (default\n"
            "8 MiB) are refused with 413. Payloads are never logged. Stops on Ctrl-C or\n"
            "SIGTERM, after the requests in flight."
        ),
        examples=[
            "netsky serve --otlp",
            "netsky --db postgresql://me@db.example/netsky serve --otlp --host 0.0.0.0",
            "CLAUDE_CODE_ENABLE_TELEMETRY=1 OTEL_LOGS_EXPORTER=otlp "
            "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf "
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 claude",
        ],
    )
    p.add_argument("--otlp", action="store_true", help="serve OTLP/HTTP (the one protocol so far)")
    p.add_argument(
        "--host",
        default=None,
        help=f"address to bind (default: [serve] host, else {DEFAULT_HOST})",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=None,
        help="port (default: [serve] port, else 4318; 0 picks a free one)",
    )
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    from ...ingest.pricing import PriceTable
    from ...otel import OtlpServer
    from ...otel.server import DEFAULT_MAX_BODY, DEFAULT_PORT

    args = ctx.args
    if not args.otlp:
        raise UsageError("name what to serve", hint="netsky serve --otlp")
    section = ctx.config.section("serve")
    host = args.host or section.get("host") or DEFAULT_HOST
    port = args.port if args.port is not None else section.get("port", DEFAULT_PORT)
    pricing = ctx.config.section("pricing")
    prices = PriceTable.load(pricing.get("models"), path=pricing.get("file"))
    machine = ctx.machine_id
    with ctx.storage() as store:
        try:
            server = OtlpServer(
                store.insert_many,
                machine_id=machine,
                prices=prices,
                host=host,
                port=port,
                token=section.get("token"),
                max_body_bytes=section.get("max_body_bytes", DEFAULT_MAX_BODY),
            )
        except OSError as exc:
            from ..._errors import ConfigError

            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="pick another --port, or stop what uses it",
            ) from None
        signal.signal(signal.SIGTERM, _interrupt)
        sys.stderr.write(f"netsky: serving OTLP/HTTP on {server.url} (Ctrl-C stops)\n")
        sys.stderr.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
    sys.stderr.write("netsky: stopped\n")
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
