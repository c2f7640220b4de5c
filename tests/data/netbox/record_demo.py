"""Turn NetBox's demo data (a Django fixture dump) into the REST API's list responses.

    python tests/data/netbox/record_demo.py netbox-demo-v3.6.json tests/data/netbox/demo-v3.6.json

Source: github.com/netbox-community/netbox-demo-data, commit 1e3a368, json/netbox-demo-v3.6.json
(MIT licence, © Jeremy Stretch). The fixture holds NetBox's database rows; this writes each
object as NetBox v3.6's REST serializers show it (`/api/dcim/sites/` and so on: nested objects
as {id, url, display, name/slug …}, choices as {value, label}, cable terminations as
{object_type, object_id, object}), for the sites in SITES and every object they reference,
plus all tenants, contacts, contact assignments, ASNs and IP addresses. URLs start with
`{base}`, which the test server replaces with its own address; it also does the pagination
(count/next/previous/results) and the `site` filter as NetBox does.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

SITES = ("ncsu-065", "ncsu-117", "ncsu-118", "ncsu-128", "dm-akron")


def choice(value: str, labels: dict[str, str] | None = None) -> dict[str, str] | None:
    if not value:
        return None
    return {"value": value, "label": (labels or {}).get(value, value.replace("-", " ").title())}


def main(source: Path, target: Path) -> None:
    rows: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    content_types: list[tuple[str, str]] = []
    for obj in json.loads(source.read_text(encoding="utf-8")):
        if obj["model"] == "contenttypes.contenttype":
            content_types.append((obj["fields"]["app_label"], obj["fields"]["model"]))
        if "pk" in obj:
            rows[obj["model"]][obj["pk"]] = obj["fields"]

    def url(path: str, pk: int) -> str:
        return f"{{base}}/api/{path}/{pk}/"

    def nested(model: str, pk: int | None, *keys: str) -> dict[str, Any] | None:
        if pk is None:
            return None
        f = rows[model][pk]
        path = {
            "dcim.site": "dcim/sites",
            "dcim.location": "dcim/locations",
            "dcim.rack": "dcim/racks",
            "dcim.device": "dcim/devices",
            "dcim.interface": "dcim/interfaces",
            "dcim.manufacturer": "dcim/manufacturers",
            "dcim.devicetype": "dcim/device-types",
            "dcim.devicerole": "dcim/device-roles",
            "dcim.platform": "dcim/platforms",
            "dcim.region": "dcim/regions",
            "dcim.sitegroup": "dcim/site-groups",
            "dcim.cable": "dcim/cables",
            "tenancy.tenant": "tenancy/tenants",
            "tenancy.contact": "tenancy/contacts",
            "tenancy.contactrole": "tenancy/contact-roles",
            "tenancy.contactgroup": "tenancy/contact-groups",
            "circuits.provider": "circuits/providers",
            "circuits.circuittype": "circuits/circuit-types",
            "circuits.circuit": "circuits/circuits",
            "circuits.circuittermination": "circuits/circuit-terminations",
            "ipam.rir": "ipam/rirs",
        }[model]
        display = f.get("name") or f.get("cid") or f.get("model") or f.get("label") or f"#{pk}"
        out: dict[str, Any] = {"id": pk, "url": url(path, pk), "display": str(display)}
        for key in keys:
            out[key] = f.get(key)
        return out

    def common(path: str, pk: int, f: dict[str, Any], display: str) -> dict[str, Any]:
        return {"id": pk, "url": url(path, pk), "display": display}

    def stamps(f: dict[str, Any]) -> dict[str, Any]:
        return {
            "tags": [],
            "custom_fields": f.get("custom_field_data", {}),
            "created": f.get("created"),
            "last_updated": f.get("last_updated"),
        }

    site_ids = {pk for pk, f in rows["dcim.site"].items() if f["slug"] in SITES}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pk, f in sorted(rows["dcim.site"].items()):
        if pk not in site_ids:
            continue
        out["dcim/sites"].append(
            {
                **common("dcim/sites", pk, f, f["name"]),
                "name": f["name"],
                "slug": f["slug"],
                "status": choice(f["status"]),
                "region": nested("dcim.region", f["region"], "name", "slug"),
                "group": nested("dcim.sitegroup", f["group"], "name", "slug"),
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "facility": f["facility"],
                "time_zone": f["time_zone"],
                "description": f["description"],
                "physical_address": f["physical_address"],
                "shipping_address": f["shipping_address"],
                "latitude": f["latitude"],
                "longitude": f["longitude"],
                "comments": f["comments"],
                "asns": [],
                **stamps(f),
            }
        )
    for pk, f in sorted(rows["dcim.location"].items()):
        if f["site"] not in site_ids:
            continue
        out["dcim/locations"].append(
            {
                **common("dcim/locations", pk, f, f["name"]),
                "name": f["name"],
                "slug": f["slug"],
                "site": nested("dcim.site", f["site"], "name", "slug"),
                "parent": nested("dcim.location", f["parent"], "name", "slug"),
                "status": choice(f["status"]),
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "description": f["description"],
                **stamps(f),
                "_depth": f["level"],
            }
        )
    for pk, f in sorted(rows["dcim.rack"].items()):
        if f["site"] not in site_ids:
            continue
        out["dcim/racks"].append(
            {
                **common("dcim/racks", pk, f, f["name"]),
                "name": f["name"],
                "facility_id": f["facility_id"],
                "site": nested("dcim.site", f["site"], "name", "slug"),
                "location": nested("dcim.location", f["location"], "name", "slug"),
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "status": choice(f["status"]),
                "role": None,
                "serial": f["serial"],
                "asset_tag": f["asset_tag"],
                "type": choice(f["type"]),
                "width": {"value": f["width"], "label": f"{f['width']} inches"},
                "u_height": f["u_height"],
                "desc_units": f["desc_units"],
                "description": f["description"],
                "comments": f["comments"],
                **stamps(f),
            }
        )
    device_ids = set()
    for pk, f in sorted(rows["dcim.device"].items()):
        if f["site"] not in site_ids:
            continue
        device_ids.add(pk)
        device_type = rows["dcim.devicetype"][f["device_type"]]
        role = nested("dcim.devicerole", f["role"], "name", "slug")
        out["dcim/devices"].append(
            {
                **common("dcim/devices", pk, f, f["name"] or f"Unnamed device ({pk})"),
                "name": f["name"],
                "device_type": {
                    **(nested("dcim.devicetype", f["device_type"], "model", "slug") or {}),
                    "manufacturer": nested(
                        "dcim.manufacturer", device_type["manufacturer"], "name", "slug"
                    ),
                },
                "role": role,
                "device_role": role,  # v3.6 serves both; v4.0 drops this one
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "platform": nested("dcim.platform", f["platform"], "name", "slug"),
                "serial": f["serial"],
                "asset_tag": f["asset_tag"],
                "site": nested("dcim.site", f["site"], "name", "slug"),
                "location": nested("dcim.location", f["location"], "name", "slug"),
                "rack": nested("dcim.rack", f["rack"], "name"),
                "position": None if f["position"] is None else float(f["position"]),
                "face": choice(f["face"]),
                "parent_device": None,
                "status": choice(f["status"]),
                "airflow": choice(f["airflow"]),
                "primary_ip": None,
                "primary_ip4": None,
                "primary_ip6": None,
                "cluster": None,
                "virtual_chassis": None,
                "vc_position": f["vc_position"],
                "vc_priority": f["vc_priority"],
                "description": f["description"],
                "comments": f["comments"],
                "local_context_data": f["local_context_data"],
                **stamps(f),
            }
        )

    def device_of(model: str, pk: int) -> dict[str, Any] | None:
        f = rows[model][pk]
        return nested("dcim.device", f.get("device"), "name")

    def termination(model: str, pk: int) -> dict[str, Any]:
        app, name = model.split(".")
        f = rows[model][pk]
        if model == "circuits.circuittermination":
            obj = {
                **(nested(model, pk) or {}),
                "display": f"{rows['circuits.circuit'][f['circuit']]['cid']}: "
                f"Termination {f['term_side']}",
                "circuit": nested("circuits.circuit", f["circuit"], "cid"),
                "term_side": f["term_side"],
                "cable": f["cable"],
                "_occupied": True,
            }
        else:
            obj = {
                "id": pk,
                "url": url(f"{app}/{name}s", pk),
                "display": f.get("name"),
                "device": device_of(model, pk),
                "name": f.get("name"),
                "cable": f.get("cable"),
                "_occupied": True,
            }
        return {"object_type": model, "object_id": pk, "object": obj}

    cable_ends: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"A": [], "B": []})
    cable_sites: dict[int, set[int]] = defaultdict(set)
    for f in rows["dcim.cabletermination"].values():
        model = ".".join(f["termination_type"])
        cable_ends[f["cable"]][f["cable_end"]].append(termination(model, f["termination_id"]))
        if f["_site"] is not None:
            cable_sites[f["cable"]].add(f["_site"])
    for pk, f in sorted(rows["dcim.interface"].items()):
        if f["device"] not in device_ids:
            continue
        peers, peer_types = [], []
        if f["cable"] is not None:
            far = "A" if f["cable_end"] == "B" else "B"
            peers = [t["object"] for t in cable_ends[f["cable"]][far]]
            peer_types = [t["object_type"] for t in cable_ends[f["cable"]][far]]
        out["dcim/interfaces"].append(
            {
                **common("dcim/interfaces", pk, f, f["name"]),
                "device": nested("dcim.device", f["device"], "name"),
                "vdcs": [],
                "module": None,
                "name": f["name"],
                "label": f["label"],
                "type": choice(f["type"]),
                "enabled": f["enabled"],
                "parent": None,
                "bridge": None,
                "lag": None if f["lag"] is None else nested("dcim.interface", f["lag"], "name"),
                "mtu": f["mtu"],
                "mac_address": f["mac_address"],
                "speed": f["speed"],
                "duplex": choice(f["duplex"] or ""),
                "wwn": f["wwn"],
                "mgmt_only": f["mgmt_only"],
                "description": f["description"],
                "mode": choice(f["mode"]),
                "mark_connected": f["mark_connected"],
                "cable": None
                if f["cable"] is None
                else {
                    "id": f["cable"],
                    "url": url("dcim/cables", f["cable"]),
                    "display": f"#{f['cable']}",
                    "label": rows["dcim.cable"][f["cable"]]["label"],
                },
                "cable_end": f["cable_end"],
                "link_peers": peers,
                "link_peers_type": peer_types[0] if peer_types else None,
                "untagged_vlan": None,
                "tagged_vlans": [],
                "vrf": None,
                **stamps(f),
                "_occupied": f["cable"] is not None,
            }
        )
    for pk, f in sorted(rows["dcim.cable"].items()):
        if not cable_sites[pk] & site_ids:
            continue
        out["dcim/cables"].append(
            {
                **common("dcim/cables", pk, f, f["label"] or f"#{pk}"),
                "type": f["type"],
                "a_terminations": cable_ends[pk]["A"],
                "b_terminations": cable_ends[pk]["B"],
                "status": choice(f["status"]),
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "label": f["label"],
                "color": f["color"],
                "length": f["length"],
                "length_unit": choice(f["length_unit"]),
                "description": f["description"],
                "comments": f["comments"],
                **stamps(f),
            }
        )
    circuit_ids = set()
    for pk, f in sorted(rows["circuits.circuittermination"].items()):
        if f["site"] not in site_ids:
            continue
        circuit_ids.add(f["circuit"])
        circuit = rows["circuits.circuit"][f["circuit"]]
        peers = []
        if f["cable"] is not None:
            far = "A" if f["cable_end"] == "B" else "B"
            peers = [t["object"] for t in cable_ends[f["cable"]][far]]
        out["circuits/circuit-terminations"].append(
            {
                **common(
                    "circuits/circuit-terminations",
                    pk,
                    f,
                    f"{circuit['cid']}: Termination {f['term_side']}",
                ),
                "circuit": nested("circuits.circuit", f["circuit"], "cid"),
                "term_side": choice(f["term_side"], {"A": "A", "Z": "Z"}),
                "site": nested("dcim.site", f["site"], "name", "slug"),
                "provider_network": None,
                "port_speed": f["port_speed"],
                "upstream_speed": f["upstream_speed"],
                "xconnect_id": f["xconnect_id"],
                "pp_info": f["pp_info"],
                "description": f["description"],
                "mark_connected": f["mark_connected"],
                "cable": None
                if f["cable"] is None
                else {"id": f["cable"], "url": url("dcim/cables", f["cable"]), "display": "#"},
                "cable_end": f["cable_end"],
                "link_peers": peers,
                "link_peers_type": "dcim.interface" if peers else None,
                **stamps(f),
                "_occupied": f["cable"] is not None,
            }
        )
    for pk, f in sorted(rows["circuits.circuit"].items()):
        if pk not in circuit_ids:
            continue
        out["circuits/circuits"].append(
            {
                **common("circuits/circuits", pk, f, f["cid"]),
                "cid": f["cid"],
                "provider": nested("circuits.provider", f["provider"], "name", "slug"),
                "provider_account": None,
                "type": nested("circuits.circuittype", f["type"], "name", "slug"),
                "status": choice(f["status"]),
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "install_date": f["install_date"],
                "termination_date": f["termination_date"],
                "commit_rate": f["commit_rate"],
                "description": f["description"],
                "termination_a": nested("circuits.circuittermination", f["termination_a"]),
                "termination_z": nested("circuits.circuittermination", f["termination_z"]),
                "comments": f["comments"],
                **stamps(f),
            }
        )
    for pk, f in sorted(rows["tenancy.tenant"].items()):
        out["tenancy/tenants"].append(
            {
                **common("tenancy/tenants", pk, f, f["name"]),
                "name": f["name"],
                "slug": f["slug"],
                "group": None,
                "description": f["description"],
                "comments": f["comments"],
                **stamps(f),
            }
        )
    for pk, f in sorted(rows["tenancy.contact"].items()):
        out["tenancy/contacts"].append(
            {
                **common("tenancy/contacts", pk, f, f["name"]),
                "group": nested("tenancy.contactgroup", f["group"], "name", "slug"),
                "name": f["name"],
                "title": f["title"],
                "phone": f["phone"],
                "email": f["email"],
                "address": f["address"],
                "link": f["link"],
                "description": f["description"],
                "comments": f["comments"],
                **stamps(f),
            }
        )
    for pk, f in sorted(rows["tenancy.contactassignment"].items()):
        model = ".".join(f["content_type"])
        out["tenancy/contact-assignments"].append(
            {
                "id": pk,
                "url": url("tenancy/contact-assignments", pk),
                "display": rows["tenancy.contact"][f["contact"]]["name"],
                "content_type": model,
                "object_id": f["object_id"],
                "object": nested(model, f["object_id"], "name", "slug"),
                "contact": nested("tenancy.contact", f["contact"], "name"),
                "role": nested("tenancy.contactrole", f["role"], "name", "slug"),
                "priority": choice(f["priority"]),
                "tags": [],
                "created": f["created"],
                "last_updated": f["last_updated"],
            }
        )
    for pk, f in sorted(rows["ipam.asn"].items()):
        out["ipam/asns"].append(
            {
                **common("ipam/asns", pk, f, f"AS{f['asn']}"),
                "asn": f["asn"],
                "rir": nested("ipam.rir", f["rir"], "name", "slug"),
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "description": f["description"],
                "comments": f["comments"],
                **stamps(f),
            }
        )
    for pk, f in sorted(rows["ipam.ipaddress"].items()):
        family = 6 if ":" in f["address"] else 4
        out["ipam/ip-addresses"].append(
            {
                **common("ipam/ip-addresses", pk, f, f["address"]),
                "family": {"value": family, "label": f"IPv{family}"},
                "address": f["address"],
                "vrf": None,
                "tenant": nested("tenancy.tenant", f["tenant"], "name", "slug"),
                "status": choice(f["status"]),
                "role": choice(f["role"]),
                "assigned_object_type": None,
                "assigned_object_id": None,
                "assigned_object": None,
                "nat_inside": None,
                "nat_outside": [],
                "dns_name": f["dns_name"],
                "description": f["description"],
                "comments": f["comments"],
                **stamps(f),
            }
        )
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in out.items()})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
