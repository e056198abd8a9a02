"""What a machine shows about why policy missed it, and which other resources a remediation reads.

Azure Policy's modify and deployIfNotExists effects act when a machine is created or updated.
Machines that arrive by other paths — a restored or migrated OS disk that is attached, a
specialized gallery image, a VM without an ``osProfile`` — show up non-compliant afterwards; the
article's answer is a remediation task. A remediation deployment also reads the resources the VM
references (gallery image, managed disks, disk encryption sets), so the identity needs access to
them wherever they live.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator import Estate, Resource

from ._policy_model import ARC_MACHINE, VIRTUAL_MACHINE


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def gallery_image_definition(image_id: str) -> str:
    """The gallery image definition an image reference points at (a version's parent)."""
    lowered = image_id.lower()
    marker = "/versions/"
    if "/galleries/" in lowered and marker in lowered:
        return image_id[: lowered.rindex(marker)]
    return image_id


def missed_reasons(estate: Estate, machine: Resource) -> tuple[str, ...]:
    """Plain-language reasons, read from the machine itself, why policy did not act at creation."""
    if machine.type_key == ARC_MACHINE:
        return (
            "it is an Arc-enabled server connected before the assignment existed, or onboarded by a "
            "path that does not trigger policy",
        )
    if machine.type_key != VIRTUAL_MACHINE:
        return ()
    props = machine.properties
    storage = _mapping(props.get("storageProfile"))
    os_disk = _mapping(storage.get("osDisk"))
    image = _mapping(storage.get("imageReference"))
    reasons: list[str] = []
    if str(os_disk.get("createOption") or "").lower() == "attach":
        reasons.append("its OS disk was attached (a migrated or restored VM), not created from an image")
    image_id = str(image.get("id") or image.get("sharedGalleryImageId") or image.get("communityGalleryImageId") or "")
    if "/galleries/" in image_id.lower():
        definition = estate.get(gallery_image_definition(image_id))
        state = str(_mapping(definition.properties if definition else {}).get("osState") or "")
        if state.lower() == "specialized":
            reasons.append(f"it was created from a specialized gallery image ({gallery_image_definition(image_id)})")
        elif not state:
            reasons.append(f"it was created from a gallery image ({gallery_image_definition(image_id)})")
    if not props.get("osProfile"):
        reasons.append("it has no osProfile (a specialized VM), so the policy's patch settings had nothing to act on")
    if not reasons:
        reasons.append("it was created or moved in before the assignment could act on it")
    return tuple(reasons)


def linked_resources(machine: Resource) -> tuple[tuple[str, str], ...]:
    """``(resource id, what)`` for each resource a remediation deployment reads for this VM."""
    if machine.type_key != VIRTUAL_MACHINE:
        return ()
    storage = _mapping(machine.properties.get("storageProfile"))
    out: dict[str, tuple[str, str]] = {}

    def add(resource_id: Any, what: str) -> None:
        if isinstance(resource_id, str) and resource_id.startswith("/"):
            out.setdefault(resource_id.lower(), (resource_id, what))

    image_id = _mapping(storage.get("imageReference")).get("id")
    if isinstance(image_id, str):
        # A grant on the image definition covers all its versions (roles inherit downwards).
        is_gallery = "/galleries/" in image_id.lower()
        add(gallery_image_definition(image_id) if is_gallery else image_id, "gallery image" if is_gallery else "image")
    disks = [("OS disk", _mapping(storage.get("osDisk")))]
    disks += [("data disk", _mapping(d)) for d in storage.get("dataDisks") or ()]
    for label, disk in disks:
        managed = _mapping(disk.get("managedDisk"))
        add(managed.get("id"), f"{label}")
        add(_mapping(managed.get("diskEncryptionSet")).get("id"), f"{label} encryption set")
    return tuple(out.values())
