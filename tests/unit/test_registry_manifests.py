"""Checks on pushed manifests and indexes, with the repository's contents faked as sets."""

import json

import pytest

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.registry.manifests import MissingReference, check

M = "application/vnd.oci.image.manifest.v1+json"
I = "application/vnd.oci.image.index.v1+json"  # noqa: E741
DM = "application/vnd.docker.distribution.manifest.v2+json"


def d(n: int, mt: str = "application/vnd.oci.image.layer.v1.tar", **kw) -> dict:
    return {"mediaType": mt, "digest": "sha256:" + f"{n:064x}", "size": n, **kw}


def manifest(**kw) -> dict:
    doc = {"schemaVersion": 2, "mediaType": M,
           "config": d(1, "application/vnd.oci.image.config.v1+json"), "layers": [d(2), d(3)]}  # fmt: skip
    doc.update(kw)
    return doc


def run(doc, content_type=M, blobs=(1, 2, 3), manifests=()):
    have_b = {d(n)["digest"] for n in blobs}
    have_m = {d(n)["digest"] for n in manifests}
    return check(json.dumps(doc).encode(), content_type, have_b.__contains__, have_m.__contains__)


def test_manifest_ok():
    c = run(manifest())
    assert (
        c.media_type == M
        and c.subject == ""
        and c.artifact_type() == "application/vnd.oci.image.config.v1+json"
    )


def test_missing_layer_is_named():
    with pytest.raises(MissingReference) as e:
        run(manifest(), blobs=(1, 2))
    assert e.value.digest == d(3)["digest"]


def test_layers_with_urls_need_not_be_present():
    run(manifest(layers=[d(2), d(9, urls=["https://example.com/l"])]), blobs=(1, 2))


def test_subject_need_not_exist_and_artifact_type_wins():
    c = run(manifest(subject=d(77, M), artifactType="application/x.sig"))
    assert c.subject == d(77)["digest"]
    desc = json.loads(c.referrer_descriptor("sha256:" + "f" * 64, 123))
    assert desc == {"mediaType": M, "digest": "sha256:" + "f" * 64, "size": 123,
                    "artifactType": "application/x.sig"}  # fmt: skip


def test_index_children_must_exist():
    idx = {"schemaVersion": 2, "mediaType": I, "manifests": [d(5, M)]}
    assert run(idx, I, manifests=(5,)).media_type == I
    with pytest.raises(MissingReference):
        run(idx, I)


@pytest.mark.parametrize("content_type", ["", M, I, "application/json"])
def test_ambiguous_documents_are_refused(content_type):
    doc = manifest()
    doc.pop("mediaType")
    doc["manifests"] = []
    with pytest.raises(InvalidArgument):
        run(doc, content_type)


def test_declared_type_must_match_content_type():
    with pytest.raises(InvalidArgument):
        run(manifest(), DM)
    with pytest.raises(InvalidArgument):
        run(manifest(), I)


def test_content_type_parameters_are_ignored():
    assert run(manifest(), M + "; charset=utf-8").media_type == M


def test_unknown_and_schema1_types_are_unsupported():
    with pytest.raises(Unsupported):
        run(manifest(mediaType="application/vnd.docker.distribution.manifest.v1+prettyjws"),
            "application/vnd.docker.distribution.manifest.v1+prettyjws")  # fmt: skip


@pytest.mark.parametrize("body", [b"", b"[]", b"null", b"{", b"[" * 100000 + b"]" * 100000])
def test_garbage_is_invalid(body):
    with pytest.raises(InvalidArgument):
        check(body, M, lambda _: True, lambda _: True)
