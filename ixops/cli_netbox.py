"""`ixops inventory import netbox` and `ixops inventory export netbox`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ixops.cliapp import App, load_for, pass_app, path_argument, print_errors


@click.group("import")
def import_group() -> None:
    """Make inventory files from another source of truth."""


@click.group("export")
def export_group() -> None:
    """Write the inventory in another tool's import format."""


@import_group.command("netbox")
@click.option("--url", help="NetBox's address, e.g. https://netbox.example.net")
@click.option(
    "--token-env",
    metavar="VAR",
    help="The environment variable holding the API token (never given on the command line).",
)
@click.option(
    "--from",
    "from_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A directory of NetBox bulk-import CSV files instead of the API.",
)
@click.option("--site", "sites", multiple=True, help="Only this site (slug); repeatable.")
@click.option("--main-site", "main_sites", multiple=True, help="Site (slug) that is the main room.")
@click.option(
    "--addresses",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="CSV of device,address for devices NetBox gives no primary IP.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory for the inventory files (created; must hold no YAML yet).",
)
@pass_app
def import_netbox(
    app: App,
    url: str | None,
    token_env: str | None,
    from_dir: Path | None,
    sites: tuple[str, ...],
    main_sites: tuple[str, ...],
    addresses: Path | None,
    output: Path,
) -> None:
    """Sites, locations, racks, devices, interfaces, cables, circuits, tenants and contacts
    from NetBox as inventory YAML, with a report of what could not be mapped and why."""
    from inventory.netbox import (
        ADDRESSES_FILE,
        NetboxError,
        fetch_rest,
        map_to_inventory,
        objects_from_csv,
        objects_from_rest,
        read_addresses,
        write_inventory,
    )
    from inventory.validate import load_inventory

    if (url is None) == (from_dir is None):
        raise click.UsageError("give either --url (with --token-env) or --from DIR")
    if output.exists() and any(output.glob("*.y*ml")):
        raise click.UsageError(f"{output} already holds inventory files; choose a new directory")
    try:
        if url is not None:
            if token_env is None:
                raise click.UsageError("--url needs --token-env VAR naming the token's variable")
            token = os.environ.get(token_env, "")
            if not token:
                raise click.UsageError(f"the environment variable {token_env} is not set")
            objects = objects_from_rest(fetch_rest(url, token, sites=sites))
        elif from_dir is not None:
            objects = objects_from_csv(from_dir)
            if addresses is None and (from_dir / ADDRESSES_FILE).exists():
                addresses = from_dir / ADDRESSES_FILE
        known = read_addresses(addresses) if addresses is not None else {}
    except NetboxError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)
    if sites and from_dir is not None:
        wanted = set(sites)
        objects.sites = [s for s in objects.sites if s.slug in wanted]
    result = map_to_inventory(objects, main_sites=main_sites, addresses=known)
    written = write_inventory(result, output)
    counts = result.counts()
    app.out.print(
        f"Imported {counts['sites']} sites, {counts['devices']} devices, {counts['links']} links, "
        f"{counts['access_units']} access units into {output} ({len(written)} files).",
        markup=False,
    )
    if result.report:
        app.out.print(f"Not mapped or changed ({len(result.report)}):", markup=False)
        for item in result.report:
            app.out.print(f"  {item}", markup=False)
    inventory = load_inventory(output)
    if not inventory.ok:
        print_errors(app, inventory)
        sys.exit(1)
    app.out.print(f"{output}: OK (ixops inventory validate)", markup=False)


@export_group.command("netbox")
@path_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory for the CSV files, one per NetBox object type.",
)
@pass_app
def export_netbox_command(app: App, path: Path | None, output: Path) -> None:
    """The inventory in NetBox's bulk-import format: one CSV file per object type, to import
    in the order of their names in the printed list."""
    from inventory.netbox import export_netbox, write_export

    inventory = load_for(app, path)
    if not inventory.ok:
        print_errors(app, inventory)
        sys.exit(1)
    files, notes = export_netbox(inventory)
    written = write_export(files, output)
    app.out.print(f"Wrote {len(written)} CSV files to {output}:", markup=False)
    for file in written:
        app.out.print(f"  {file.name}", markup=False)
    for note in notes:
        app.out.print(f"note: {note}", markup=False)
