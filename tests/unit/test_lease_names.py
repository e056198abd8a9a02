"""The lease blob of a scope: the same scope, however written, is the same blob; another scope another."""

from remediator.azure.lease import lease_blob_name, scope_label

T = "72f988bf-86f1-41af-91ab-2d7cd011db47"
A, B = "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"


def test_the_same_scope_names_the_same_blob_in_any_order_or_case() -> None:
    assert lease_blob_name(T, [A, B], None) == lease_blob_name(T.upper(), [B.upper(), A], None)
    assert lease_blob_name(T, [], "Landing-Zones") == lease_blob_name(T, [], "landing-zones")


def test_other_scopes_name_other_blobs() -> None:
    names = {
        lease_blob_name(T, [A], None),
        lease_blob_name(T, [A, B], None),
        lease_blob_name(T, [], None),
        lease_blob_name(T, [], "landing-zones"),
        lease_blob_name(B, [A], None),
        lease_blob_name(T, [A], None, "0/2"),
        lease_blob_name(T, [A], None, "1/2"),
    }
    assert len(names) == 7
    assert all(n.startswith("aum-remediator-lease-") and len(n) == 53 for n in names)


def test_the_label_names_the_scope() -> None:
    assert scope_label(T, [B, A], None) == f"tenant {T}, subscriptions {A},{B}"
    assert scope_label(T, [], "mg") == f"tenant {T}, management group mg"
    assert scope_label(T, [], None) == f"tenant {T} (every subscription)"
    assert scope_label(T, [], "mg", "1/4") == f"tenant {T}, shard 1/4, management group mg"
