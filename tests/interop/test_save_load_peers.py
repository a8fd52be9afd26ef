"""dockyard's save output read by skopeo and podman; podman's and skopeo's archives loaded by dockyard.

The image id (the config digest) and the layer diff ids must survive every crossing unchanged.
"""

import json


def _import_busybox(dy, busybox_tar, ref="busybox:latest") -> str:
    return dy.out("import", "--change", 'CMD ["/bin/sh"]', str(busybox_tar), ref).strip()


def _diff_ids(dy, ref) -> list[str]:
    return json.loads(dy.out("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref))


def test_skopeo_reads_a_dockyard_save_as_docker_archive_and_oci_archive(
    dy, busybox_tar, skopeo, tmp_path
):
    image_id = _import_busybox(dy, busybox_tar)
    out = tmp_path / "bb.tar"
    dy("save", "-o", str(out), "busybox:latest")

    config = json.loads(skopeo("inspect", "--config", f"docker-archive:{out}"))
    assert config["rootfs"]["diff_ids"] == _diff_ids(dy, "busybox:latest")
    raw_config = skopeo("inspect", "--raw", "--config", f"docker-archive:{out}").encode()
    import hashlib

    assert "sha256:" + hashlib.sha256(raw_config).hexdigest() == image_id

    oci = json.loads(skopeo("inspect", f"oci-archive:{out}"))
    assert oci["Os"] == "linux"
    oci_config = skopeo("inspect", "--raw", "--config", f"oci-archive:{out}").encode()
    assert "sha256:" + hashlib.sha256(oci_config).hexdigest() == image_id


def test_podman_loads_and_runs_a_dockyard_save(dy, busybox_tar, podman, tmp_path):
    image_id = _import_busybox(dy, busybox_tar, "localhost/dyinterop:1")
    out = tmp_path / "bb.tar"
    dy("save", "-o", str(out), "localhost/dyinterop:1")

    podman("load", "-i", str(out))
    inspected = json.loads(podman("image", "inspect", "localhost/dyinterop:1").stdout)[0]
    assert "sha256:" + inspected["Id"] == image_id
    assert inspected["RootFS"]["Layers"] == _diff_ids(dy, "localhost/dyinterop:1")
    run = podman(
        "run",
        "--rm",
        "--network",
        "none",
        "--runtime",
        "runc",
        "localhost/dyinterop:1",
        "sh",
        "-c",
        "echo hello from $(cat /etc/hostname >/dev/null; echo podman)",
    )
    assert run.stdout.strip() == "hello from podman"


def test_podman_saves_load_into_dockyard_with_the_same_ids(dy, busybox_tar, podman, tmp_path):
    podman("import", "-q", str(busybox_tar), "localhost/frompodman:1")
    pid = json.loads(podman("image", "inspect", "localhost/frompodman:1").stdout)[0]
    for fmt in ("docker-archive", "oci-archive"):
        out = tmp_path / f"p-{fmt}.tar"
        podman("save", "--format", fmt, "-o", str(out), "localhost/frompodman:1")
        dy("rmi", "-f", "localhost/frompodman:1", check=False)
        loaded = dy.out("load", "-i", str(out))
        assert "Loaded image" in loaded
        ref = "localhost/frompodman:1"
        if "Loaded image ID" in loaded:  # an oci-archive may carry only the tag
            ref = loaded.split("Loaded image ID:")[1].strip()
        got = dy.out("image", "inspect", "-f", "{{.Id}}", ref).strip()
        assert got == "sha256:" + pid["Id"], fmt
        assert _diff_ids(dy, ref) == pid["RootFS"]["Layers"], fmt


def test_skopeo_copy_of_a_podman_image_to_oci_archive_loads(
    dy, busybox_tar, podman, skopeo, tmp_path
):
    podman("import", "-q", str(busybox_tar), "localhost/viaskopeo:2")
    pid = json.loads(podman("image", "inspect", "localhost/viaskopeo:2").stdout)[0]
    docker_archive = tmp_path / "d.tar"
    podman("save", "-o", str(docker_archive), "localhost/viaskopeo:2")
    oci_archive = tmp_path / "o.tar"
    skopeo(
        "copy",
        "-q",
        f"docker-archive:{docker_archive}",
        f"oci-archive:{oci_archive}:localhost/viaskopeo:2",
    )
    dy.out("load", "-i", str(oci_archive))
    ids = dy.out("images", "-q", "--no-trunc").split()
    assert "sha256:" + pid["Id"] in ids
