"""settings.json and the data-home pointer: written whole and durably, by many tabs at once."""

from __future__ import annotations

import json
import os
import threading

import pytest

from lifecycle.config import home_pointer
from lifecycle.data_folder import choose_home
from lifecycle.settings import Settings, load_settings, save_settings, settings_path


def run_together(work, n: int = 6) -> list[BaseException]:
    """Run work(i) in n threads at once; the exceptions they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def one(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_tabs_saving_settings_at_once_never_fail_or_mix_files():
    def save_many(i: int) -> None:
        for j in range(25):
            save_settings(Settings(llama_threads=i, chroma_port=1000 + j))

    assert run_together(save_many) == []
    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["chroma_port"] == 1024  # each tab's last save; one of them won, whole
    assert load_settings().chroma_port == 1024
    assert [p.name for p in settings_path().parent.glob("*.tmp")] == []


def test_the_data_home_pointer_is_written_whole_by_tabs_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFECYCLE_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folders = [tmp_path / f"data-{i}" for i in range(6)]

    def choose_many(i: int) -> None:
        for _ in range(15):
            choose_home(str(folders[i]))

    assert run_together(choose_many) == []
    assert home_pointer().read_text(encoding="utf-8").strip() in {str(f) for f in folders}
    assert [p.name for p in home_pointer().parent.glob("*.tmp")] == []


@pytest.mark.parametrize("write", ["settings", "pointer"])
def test_a_file_is_fsynced_before_it_replaces_the_old_one(write, tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(
        os,
        "replace",
        lambda a, b: events.append(f"replace {os.path.basename(b)}") or real_replace(a, b),
    )
    if write == "settings":
        save_settings(Settings(llama_threads=3))
        name = "settings.json"
    else:
        monkeypatch.delenv("LIFECYCLE_HOME")
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        choose_home(str(tmp_path / "data"))
        name = "data-home"
    assert f"replace {name}" in events
    assert "fsync" in events[: events.index(f"replace {name}")]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(monkeypatch):
    save_settings(Settings(llama_threads=2))

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_settings(Settings(llama_threads=5))
    assert load_settings().llama_threads == 2
    assert [p.name for p in settings_path().parent.glob("*.tmp")] == []
