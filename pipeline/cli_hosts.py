"""`edgewatch hosts`: retire hosts that left the fleet, so silent-node stops alerting on them."""

from __future__ import annotations

from typing import Any

import click


def _hosts(state: Any) -> Any:
    from pipeline.alerting.hosts import RetiredHosts
    from pipeline.clients import elasticsearch as es_client

    cfg = state.config
    return RetiredHosts(es_client.connect(cfg.es), cfg.alert.hosts_index)


def _show(names: list[str]) -> None:
    if not names:
        click.echo("no host is retired")
        return
    click.echo(f"{len(names)} retired host(s):")
    for name in names:
        click.echo(f"  {name}")


@click.group()
def hosts() -> None:
    """Hosts that left the fleet: silent-node leaves retired hosts out."""


@hosts.command("retire")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def hosts_retire(state: Any, names: tuple[str, ...]) -> None:
    """Retire hosts (by host.name): silent-node no longer alerts on them."""
    _show(_hosts(state).retire(names))


@hosts.command("unretire")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def hosts_unretire(state: Any, names: tuple[str, ...]) -> None:
    """Bring retired hosts back: silent-node watches them again."""
    _show(_hosts(state).unretire(names))


@hosts.command("retired")
@click.pass_obj
def hosts_retired(state: Any) -> None:
    """List the retired hosts."""
    _show(_hosts(state).names())
