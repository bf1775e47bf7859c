"""Typed folders are written only where nothing the app did not make can be lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import data_home
from lifecycle.data_folder import FolderError, check_new_home
from lifecycle.deploy.export import check_export_target, export_variant, serve_commands
from lifecycle.deploy.measure import VariantReport
from lifecycle.deploy.variants import DeployError
from lifecycle.safe_paths import REPO, UnsafePathError, check_target, replace_folder


def _fake_variant(tmp_path: Path) -> VariantReport:
    folder = tmp_path / "variant"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return VariantReport(name="bf16", label="bf16", folder=str(folder))


def _data_folder_with_work() -> Path:
    home = data_home()
    (home / "runs" / "r1").mkdir(parents=True)
    (home / "lifecycle.sqlite").write_text("projects")
    return home


def test_export_into_the_data_folder_is_refused_and_deletes_nothing(tmp_path):
    home = _data_folder_with_work()
    report = _fake_variant(tmp_path)
    for target in (home, home / "runs", home.parent, Path("/"), Path.home(), REPO):
        with pytest.raises(DeployError, match="refused|root of the file system"):
            export_variant(report, target, "tiny", overwrite=True)
    assert (home / "lifecycle.sqlite").read_text() == "projects"
    assert (home / "runs" / "r1").is_dir()


def test_a_folder_the_app_did_not_export_is_never_replaced(tmp_path):
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(DeployError, match="did not export"):
        export_variant(_fake_variant(tmp_path), mine, "tiny", overwrite=True)
    assert (mine / "thesis.txt").read_text() == "years of work"


def test_an_earlier_export_is_replaced_and_exports_go_in_the_data_folder_area(tmp_path):
    target = data_home() / "exports" / "tiny-bf16"
    report = _fake_variant(tmp_path)
    assert export_variant(report, target, "tiny") == target.resolve()
    export_variant(report, target, "tiny", overwrite=True)  # its own export: replaced
    assert (target / "README.md").is_file()
    with pytest.raises(DeployError):
        check_export_target(data_home() / "exports")  # the area itself is not an export


def test_replace_folder_refuses_a_link_and_keeps_an_empty_target(tmp_path):
    staging, target = tmp_path / "staging", tmp_path / "empty"
    staging.mkdir()
    target.mkdir()
    replace_folder(staging, target)
    assert target.is_dir() and not staging.exists()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    (tmp_path / "staging2").mkdir()
    with pytest.raises(UnsafePathError):
        replace_folder(tmp_path / "staging2", link)


def test_check_target_needs_an_absolute_path():
    with pytest.raises(UnsafePathError, match="relative"):
        check_target("exports/model")


def test_served_paths_are_quoted_for_the_shell(tmp_path):
    folder = tmp_path / "my model; rm -rf ~"
    commands = serve_commands(folder, "bf16")
    assert f"vllm serve '{folder}'" in commands["vLLM (GPU)"]
    assert f"'{folder}:/data/model'" in commands["TGI (GPU, Docker)"]


@pytest.mark.parametrize("where", ["/", "home", "repo", "inside-repo", "non-empty"])
def test_the_data_folder_switch_refuses_folders_it_could_mix_with(where, tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_text("x")
    path = {
        "/": Path("/"),
        "home": Path.home(),
        "repo": REPO,
        "inside-repo": REPO / "lifecycle",
        "non-empty": other,
    }[where]
    with pytest.raises(FolderError):
        check_new_home(str(path))


def test_the_data_folder_switch_accepts_new_empty_and_lifecycle_folders(tmp_path):
    assert check_new_home(str(tmp_path / "new")) == tmp_path / "new"
    old = tmp_path / "old-data"
    old.mkdir()
    (old / "lifecycle.sqlite").write_text("")
    assert check_new_home(str(old)) == old
    assert check_new_home(str(REPO / "data")) == REPO / "data"
