"""The OCI/Docker image model: parsing, refusal of bad documents, ids."""

import hashlib
import json

import pytest

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.ids import chain_ids
from dockyard.oci.image import ContainerConfig, ImageConfig, parse_image_config
from dockyard.oci.manifest import Index, Manifest, detect_media_type, parse_any, parse_manifest

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def manifest_doc(**extra) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": D1, "size": 10},
        "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": D2, "size": 20}],
    }
    doc.update(extra)
    return json.dumps(doc).encode()


def test_manifest_round_trip():
    m = parse_manifest(manifest_doc())
    assert m.config.digest == D1 and m.layers[0].size == 20
    again = parse_manifest(m.to_bytes())
    assert again == m


def test_docker_manifest_list_is_an_index():
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST,
        "manifests": [
            {
                "mediaType": mt.DOCKER_MANIFEST,
                "digest": D3,
                "size": 5,
                "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
            }
        ],
    }
    idx = parse_any(json.dumps(doc).encode())
    assert isinstance(idx, Index)
    assert str(idx.manifests[0].platform) == "linux/arm64/v8"


@pytest.mark.parametrize(
    "doc, message",
    [
        (b"[]", "expected a JSON object"),
        (b"{", "not valid JSON"),
        (manifest_doc(schemaVersion=1), "schemaVersion"),
        (manifest_doc(manifests=[]), "only an index"),
        (
            manifest_doc(config={"mediaType": mt.OCI_CONFIG, "digest": "sha256:xyz", "size": 1}),
            "digest",
        ),
        (manifest_doc(config={"mediaType": mt.OCI_CONFIG, "digest": D1, "size": -1}), "size"),
    ],
)
def test_bad_manifests_are_refused(doc, message):
    with pytest.raises((InvalidArgument, Unsupported), match=message):
        parse_manifest(doc)


def test_ambiguous_document_without_media_type_is_refused():
    doc = json.dumps({"schemaVersion": 2, "manifests": [], "layers": []}).encode()
    with pytest.raises(InvalidArgument, match="ambiguous"):
        detect_media_type(doc)


def test_media_type_mismatch_is_refused():
    with pytest.raises(InvalidArgument, match="does not match"):
        parse_manifest(manifest_doc(), mt.DOCKER_MANIFEST)


def test_chain_ids_follow_the_spec():
    a, b, c = D1, D2, D3
    ab = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    abc = "sha256:" + hashlib.sha256(f"{ab} {c}".encode()).hexdigest()
    assert chain_ids([a, b, c]) == [a, ab, abc]
    assert chain_ids([]) == []


def test_image_config_round_trip_keeps_container_defaults():
    cfg = ImageConfig(
        created="2024-01-01T00:00:00Z",
        config=ContainerConfig(
            env=("PATH=/bin",), cmd=("/bin/sh",), labels={"a": "b"}, exposed_ports={"80/tcp": {}}
        ),
        diff_ids=(D2,),
    )
    parsed = parse_image_config(cfg.to_bytes())
    assert parsed == cfg
    assert parsed.config.cmd == ("/bin/sh",)


def test_image_config_requires_layer_rootfs():
    with pytest.raises(InvalidArgument, match="rootfs"):
        parse_image_config(b'{"architecture":"amd64","os":"linux"}')
    with pytest.raises(InvalidArgument, match="diff_id"):
        parse_image_config(b'{"rootfs":{"type":"layers","diff_ids":["nope"]}}')


def test_go_style_json_escapes_html():
    m = Manifest(config=Descriptor(mt.OCI_CONFIG, D1, 1, annotations={"x": "<&>"}), layers=())
    assert b"\\u003c\\u0026\\u003e" in m.to_bytes()


def test_layer_media_types():
    assert mt.layer_compression(mt.DOCKER_LAYER_GZIP) == "gzip"
    assert mt.layer_compression(mt.OCI_LAYER_ZSTD) == "zstd"
    assert mt.layer_compression(mt.OCI_LAYER) == ""
    assert mt.layer_type("gzip") == mt.OCI_LAYER_GZIP
    assert mt.layer_type("", docker=True) == mt.DOCKER_LAYER
