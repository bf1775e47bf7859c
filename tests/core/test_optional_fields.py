"""A record the schema accepts is one every reader can show: a valid record missing any of its
optional fields (an older version's record, a hand-made import) never crashes a page."""

from __future__ import annotations

import json

import pytest

from lifecycle.deploy.measure import load_measurements
from lifecycle.lineage import lineage
from lifecycle.overview import overview
from lifecycle.present import screens
from lifecycle.schema import KINDS, problem
from lifecycle.shapes import Obj
from lifecycle.store import Store
from tests.core.test_import_fuzz import VALID, read_everything


def _without(data: dict, name: str) -> dict:
    return {k: v for k, v in data.items() if k != name}


CASES = [  # every optional field of every kind, where the record stays valid without it
    (kind, key, name)
    for (kind, key), data in VALID.items()
    if isinstance(KINDS.get(kind), Obj)
    for name in data
    if name in KINDS[kind].optional and problem(kind, _without(data, name)) is None
]


def read_all(store: Store, project_id: str) -> None:
    """read_everything, plus what Present mode and the report's lineage derive."""
    read_everything(store, project_id)
    ov, measured = overview(store, project_id), load_measurements(store, project_id)
    screens(ov, measured)
    lineage(ov, measured)


def test_every_kind_has_optional_fields_to_drop():
    assert {kind for kind, _, _ in CASES} >= {"eval_run", "finetune_run", "decision", "scope"}


@pytest.mark.parametrize(("kind", "key", "name"), CASES, ids=lambda v: str(v))
def test_a_record_without_an_optional_field_is_read(tmp_path, kind, key, name):
    store = Store(tmp_path / "db.sqlite")
    project = store.create_project("P")
    for (k, kk), valid in VALID.items():
        data = json.loads(json.dumps(valid))
        if (k, kk) == (kind, key):
            data.pop(name)  # the schema accepts the record without it: the readers must too
        store.put_record(project.id, k, data, key=kk)
    read_all(store, project.id)
