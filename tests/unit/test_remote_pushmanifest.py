"""The manifest bytes a push sends: the stored bytes untouched, or the manifest rewritten with
its compressed layers exactly as Go's encoding/json would write it (oci._json.dumps)."""

import json

from dockyard.digest import sha256_bytes
from dockyard.oci import mediatypes as mt
from dockyard.oci._json import dumps
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import Manifest, parse_manifest
from dockyard.remote.pushmanifest import manifest_for

D = "sha256:" + "ab" * 32
E = "sha256:" + "cd" * 32


class _Rec:  # the two fields of an image record that matter here
    def __init__(self, manifest_digest: str, manifest_media_type: str):
        self.manifest_digest = manifest_digest
        self.manifest_media_type = manifest_media_type


def test_go_json_is_the_json_packages_output_with_go_escapes():
    values = [
        {"schemaVersion": 2, "layers": [{"size": 0}, {"size": 12345678901}], "x": None},
        {"annotations": {"org.opencontainers.image.title": "café <b>&</b> ☃"}},
        {"nested": [[], {}, [True, False, -1, 'a"b\\c\n\t\u0001']]},
        {"emoji": "\U0001f600", "quote": "'", "slash": "/"},
        [],
        "just a string",
    ]
    for value in values:
        reference = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        go = reference.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        assert dumps(value) == go.encode()
        assert json.loads(dumps(value)) == value
    assert b"<" not in dumps({"a": "<>&"}) and "☃".encode() in dumps({"a": "☃"})


def test_unchanged_layers_push_the_stored_bytes_themselves():
    m = Manifest(Descriptor(mt.OCI_CONFIG, D, 10), (Descriptor(mt.OCI_LAYER, E, 20),))
    stored = b"  " + m.to_bytes()  # stored bytes are pushed as they are, whatever their spacing
    parsed = parse_manifest(stored, mt.OCI_MANIFEST)
    rec = _Rec(D, mt.OCI_MANIFEST)
    data, digest = manifest_for(stored, rec, parsed, parsed.layers)
    assert data is stored and digest == D  # the digest it was stored (and checked) under


def test_compressed_layers_give_the_manifest_that_names_them():
    for media_type, config_type, plain, gz in (
        (mt.OCI_MANIFEST, mt.OCI_CONFIG, mt.OCI_LAYER, mt.layer_type("gzip", False)),
        (mt.DOCKER_MANIFEST, mt.DOCKER_CONFIG, mt.DOCKER_LAYER, mt.layer_type("gzip", True)),
    ):
        stored = Manifest(Descriptor(config_type, D, 10), (Descriptor(plain, E, 2000),),
                          media_type).to_bytes()  # fmt: skip
        parsed = parse_manifest(stored, media_type)
        layers = (Descriptor(gz, D, 300),)
        data, digest = manifest_for(stored, _Rec(E, media_type), parsed, layers)
        assert data == Manifest(parsed.config, layers, media_type).to_bytes()
        assert digest == sha256_bytes(data)
        again = parse_manifest(data, media_type)
        assert again.layers == layers and again.config == parsed.config
